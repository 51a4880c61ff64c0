// The first reply wins: any() over replicas takes the first success and ignores
// failures; race() against a timer takes whatever settles first. The losers see
// their std::stop_token signalled and stop early, and neither call returns before
// they have (so capturing locals by reference would be safe).
#include <settle/settle.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>

using namespace std::chrono_literals;

// Waits like a network call, but gives up as soon as the answer is no longer wanted.
void wait_or_stop(std::stop_token stop, std::chrono::milliseconds latency) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, latency, [] { return false; });
}

auto replica(std::string name, std::chrono::milliseconds latency, bool healthy) {
  return [=](std::stop_token stop) -> std::string {
    wait_or_stop(stop, latency);
    if (!healthy) throw std::runtime_error(name + " is down");
    return "answer from " + name;
  };
}

struct timeout_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
auto timeout(std::chrono::milliseconds after) {
  return [=](std::stop_token stop) -> std::string {
    wait_or_stop(stop, after);
    throw timeout_error("timed out after " + std::to_string(after.count()) + " ms");
  };
}

int main() {
  // Promise.any: ap-south fails at once, eu-west answers long before us-east.
  std::cout << "any: "
            << settle::any(replica("us-east", 2000ms, true), replica("eu-west", 30ms, true),
                           replica("ap-south", 5ms, false))
            << '\n';

  // When every replica fails, any() throws aggregate_error with every reason.
  try {
    (void)settle::any(replica("us-east", 20ms, false), replica("eu-west", 10ms, false));
  } catch (const settle::aggregate_error& e) {
    std::cout << "any: all " << e.reasons().size() << " replicas failed:";
    for (const auto& reason : e.reasons()) std::cout << " [" << settle::describe(reason) << ']';
    std::cout << '\n';
  }

  // Promise.race against a timer: the slow call is cut off at 50 ms ...
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)settle::race(replica("slow-service", 5000ms, true), timeout(50ms));
  } catch (const timeout_error& e) {
    std::cout << "race: " << e.what() << '\n';
  }
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "race returned after " << waited.count() << " ms, not 5000 ms\n";

  // ... and a fast call beats the same timer.
  std::cout << "race: " << settle::race(replica("fast-service", 20ms, true), timeout(2000ms))
            << '\n';
}
