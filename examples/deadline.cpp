// Pattern 1 with a latency budget: the route answers within 150 ms whatever its
// services do. settle::timeout(150ms) cuts the call short; the analytics service,
// which would take 2 s today, becomes null in the response, and the call returns
// at the budget because the slow fetch gives up as soon as its stop token asks.
#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct user {
  std::string name;
};
struct analytics {
  int views;
};
using posts = std::vector<std::string>;

std::atomic<bool> analytics_gave_up{false};

// A network round trip that ends early, and says so, once the result is no longer wanted.
bool round_trip(std::stop_token stop, std::chrono::milliseconds latency) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, latency, [] { return false; });
  return !stop.stop_requested();
}
user fetch_user(std::stop_token stop) {
  round_trip(stop, 50ms);
  return {"ada"};
}
posts fetch_posts(std::stop_token stop) {
  round_trip(stop, 40ms);
  return {"hello", "settled"};
}
analytics fetch_analytics(std::stop_token stop) {
  if (!round_trip(stop, 2000ms)) analytics_gave_up = true;  // its outcome is dropped anyway
  return {42};
}

int main() {
  constexpr auto budget = 150ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto [u, p, a] =
      settle::all_settled(settle::timeout(budget), fetch_user, fetch_posts, fetch_analytics);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);

  for (auto [part, reason] : {std::pair{"user", u.reason()}, std::pair{"posts", p.reason()},
                              std::pair{"analytics", a.reason()}}) {
    if (!reason) continue;
    try {
      std::rethrow_exception(reason);
    } catch (const settle::timed_out&) {
      std::cout << "log: " << part << " did not answer within the budget\n";
    }
  }
  const posts posts_part = settle::get_settled_value(p, posts{});
  std::string json = "{\"user\":";
  json += u ? "{\"name\":\"" + u.value().name + "\"}" : "null";
  json += ",\"posts\":[";
  for (std::size_t i = 0; i < posts_part.size(); ++i) {
    json += (i ? ",\"" : "\"") + posts_part[i] + "\"";
  }
  json += "],\"analytics\":";
  json += a ? "{\"views\":" + std::to_string(a.value().views) + "}" : "null";
  std::cout << json << "}\n";

  // Generous on purpose: a loaded machine (or a sanitizer) may run late by a few hundred ms,
  // while a deadline that cut nothing would take the slow fetch's 2000 ms.
  std::cout << "analytics fetch stopped when asked: " << (analytics_gave_up ? "yes" : "no") << '\n'
            << "answered in ~" << (ms.count() + 5) / 10 * 10 << " ms (budget " << budget.count()
            << " ms, slow fetch 2000 ms)\n"
            << "cut off at the budget: " << (ms < budget + 750ms ? "yes" : "NO") << '\n';
}
