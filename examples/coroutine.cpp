// A request handler written as a coroutine: it co_awaits settle::all_settled of three fetches
// under a budget, without blocking a thread while it waits. A hundred handlers are in flight
// at once on a 16-thread pool: while they wait they hold no thread, only the fetches (here
// simulated blocking I/O) do. The coroutine type is the ~30 lines below, no framework.
#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// ---- a minimal coroutine type: starts at once, counts down a latch when it ends ----------
class latch {
 public:
  explicit latch(std::size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard lock(m_);
    if (--left_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return left_ == 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t left_;
};

struct handler {
  struct promise_type {
    handler get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// ---- the services: a round trip that gives up when its stop token asks -------------------
bool round_trip(std::stop_token stop, std::chrono::milliseconds latency) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return !cv.wait_for(lock, stop, latency, [] { return false; }) && !stop.stop_requested();
}

std::string fetch_user(std::stop_token s, int id) {
  round_trip(s, 15ms);
  return "user" + std::to_string(id);
}
int fetch_cart(std::stop_token s, int id) {
  round_trip(s, 20ms);
  return id % 4;
}
std::string fetch_recommendations(std::stop_token s, int id) {
  // Every 25th request hits a slow recommendation service: the budget cuts it off.
  if (!round_trip(s, id % 25 == 0 ? 30s : 10ms)) return "none";
  return "recs";
}

// ---- the handler ---------------------------------------------------------------------------
struct stats {
  std::atomic<int> complete{0}, partial{0};
  std::atomic<int> waiting{0}, most_waiting{0};  // handlers suspended at once
  std::string first_page;
  std::mutex m;
};

handler handle_request(int id, settle::thread_pool& pool, stats& out, latch& done) {
  auto fetches = settle::start(
      settle::all_settled, pool, settle::timeout(1500ms),
      [id](std::stop_token s) { return fetch_user(s, id); },
      [id](std::stop_token s) { return fetch_cart(s, id); },
      [id](std::stop_token s) { return fetch_recommendations(s, id); });
  const int now_waiting = ++out.waiting;
  for (int most = out.most_waiting; now_waiting > most;)
    out.most_waiting.compare_exchange_weak(most, now_waiting);
  // Suspends without holding a thread; resumes on the thread that finished the fetches.
  auto [user, cart, recs] = co_await std::move(fetches);
  --out.waiting;
  const std::string page = settle::get_settled_value(user, std::string("guest")) +
                           " cart:" + std::to_string(settle::get_settled_value(cart, 0)) + " " +
                           settle::get_settled_value(recs, std::string("(later)"));
  ++(recs ? out.complete : out.partial);
  if (id == 0) {
    std::lock_guard lock(out.m);
    out.first_page = page;
  }
  done.count_down();
}

int main() {
  constexpr int requests = 100;
  settle::thread_pool pool(16);
  stats out;
  latch done(requests);
  const auto t0 = std::chrono::steady_clock::now();
  for (int id = 0; id < requests; ++id) handle_request(id, pool, out, done);
  done.wait();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::cout << "handlers: " << requests << " (300 fetches on a 16-thread pool)\n"
            << "complete pages: " << out.complete
            << ", recommendations cut by the budget: " << out.partial << '\n'
            << "request 0: " << out.first_page << '\n'
            << "all answered in " << (ms + 50) / 100 * 100 << " ms (budget 1500 ms)\n"
            << "more handlers waiting at once than the pool has threads: "
            << (out.most_waiting > 16 ? "yes" : "NO") << '\n'
            << "slow fetches cut at the budget, not after 30 s: " << (ms < 10000 ? "yes" : "NO")
            << '\n';
}
