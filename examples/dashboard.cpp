// Pattern 3: multiple database queries.
// Four independent queries for one user run at once; a query that fails gives its
// default (null or an empty list) and the dashboard still renders.
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct profile {
  std::string name;
};
struct preferences {
  std::string theme;
};
using orders = std::vector<int>;
using notifications = std::vector<std::string>;

// A pretend database, 10-40 ms a query: user 2's notification table is locked and
// user 3 has nothing but orders.
template <class Row>
Row query(const std::string& table, int user_id, std::chrono::milliseconds latency, Row row) {
  std::this_thread::sleep_for(latency);
  if (user_id == 2 && table == "notification") throw std::runtime_error(table + " is locked");
  if (user_id == 3 && table != "order") throw std::runtime_error("no " + table + " row");
  return row;
}

struct dashboard_data {
  std::optional<profile> profile_part;
  orders orders_part;
  notifications notifications_part;
  std::optional<preferences> preferences_part;
};

dashboard_data get_dashboard_data(int user_id) {
  auto [p, o, n, pr] = settle::all_settled(
      [=] { return query("user", user_id, 30ms, profile{"user" + std::to_string(user_id)}); },
      [=] { return query("order", user_id, 40ms, orders{1001, 1002}); },
      [=] { return query("notification", user_id, 20ms, notifications{"welcome"}); },
      [=] { return query("preference", user_id, 10ms, preferences{"dark"}); });
  return {
      p.is_fulfilled() ? std::optional(p.value()) : std::nullopt,
      o.is_fulfilled() ? o.value() : orders{},
      n.is_fulfilled() ? n.value() : notifications{},
      pr.is_fulfilled() ? std::optional(pr.value()) : std::nullopt,
  };
}

int main() {
  for (int user_id : {1, 2, 3}) {
    const dashboard_data d = get_dashboard_data(user_id);
    std::cout << "dashboard for user " << user_id << ":\n"
              << "  profile: " << (d.profile_part ? d.profile_part->name : "null") << '\n'
              << "  orders: " << d.orders_part.size() << '\n'
              << "  notifications: " << d.notifications_part.size() << '\n'
              << "  preferences: " << (d.preferences_part ? d.preferences_part->theme : "null")
              << '\n';
  }
}
