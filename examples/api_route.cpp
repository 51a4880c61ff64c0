// Pattern 1: an API route with multiple fetches.
// The three fetches run at once; a part that failed becomes null (or [] for a
// list) in the response, and the parts that worked are still served.
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct user {
  std::string name;
};
struct analytics {
  int views;
};
using posts = std::vector<std::string>;

std::set<std::string> services_down;  // set before each request; read-only while it runs

void call_service(const std::string& name, std::chrono::milliseconds latency) {
  std::this_thread::sleep_for(latency);  // stands in for a network round trip
  if (services_down.count(name)) throw std::runtime_error(name + " service unavailable");
}
user fetch_user() {
  call_service("user", 40ms);
  return {"ada"};
}
posts fetch_posts() {
  call_service("posts", 30ms);
  return {"hello", "settled"};
}
analytics fetch_analytics() {
  call_service("analytics", 20ms);
  return {42};
}

// GET: the C++ spelling of the seed's route handler.
std::string get() {
  auto [u, p, a] = settle::all_settled(fetch_user, fetch_posts, fetch_analytics);

  std::optional<user> user_part = settle::get_settled_value(u);  // null when rejected
  posts posts_part = settle::get_settled_value(p, posts{});      // [] when rejected
  std::optional<analytics> analytics_part = settle::get_settled_value(a);

  for (auto [part, why] : {std::pair{"user", settle::describe(u.reason())},
                           std::pair{"posts", settle::describe(p.reason())},
                           std::pair{"analytics", settle::describe(a.reason())}}) {
    if (!why.empty()) std::cout << "  log: " << part << " failed: " << why << '\n';
  }
  std::string json = "{\"user\":";
  json += user_part ? "{\"name\":\"" + user_part->name + "\"}" : "null";
  json += ",\"posts\":[";
  for (std::size_t i = 0; i < posts_part.size(); ++i) {
    json += (i ? ",\"" : "\"") + posts_part[i] + "\"";
  }
  json += "],\"analytics\":";
  json += analytics_part ? "{\"views\":" + std::to_string(analytics_part->views) + "}" : "null";
  return json + "}";
}

int main() {
  for (std::set<std::string> down :
       {std::set<std::string>{}, std::set<std::string>{"posts", "analytics"}}) {
    services_down = down;
    std::cout << "GET /api/profile with " << down.size() << " service(s) down\n";
    const auto t0 = std::chrono::steady_clock::now();
    const std::string body = get();
    std::cout << "  " << body << '\n';
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    std::cout << "  answered in " << ms.count() << " ms (slowest fetch 40 ms, all three 90 ms)\n";
  }
}
