// "Don't await in a loop": the loop waits for each user before asking for the next;
// all_settled(ids, fetch_user) asks for all of them at once. Same results, in the
// same order; user 4 does not exist in either version.
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct user_not_found : std::out_of_range {
  explicit user_not_found(int id)
      : std::out_of_range("user " + std::to_string(id) + " not found") {}
};

std::string fetch_user(int id) {
  std::this_thread::sleep_for(30ms);  // one round trip to the user service
  if (id == 4) throw user_not_found(id);
  return "user-" + std::to_string(id);
}

long long ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

int main() {
  const std::vector<int> user_ids{1, 2, 3, 4, 5, 6};

  // Bad: sequential. for (const id of userIds) results.push(await fetchUser(id))
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> loop_results;
  for (int id : user_ids) {
    try {
      loop_results.push_back(fetch_user(id));
    } catch (const user_not_found& e) {
      loop_results.push_back(std::string("rejected: ") + e.what());
    }
  }
  const long long loop_ms = ms_since(t0);

  // Good: parallel. await Promise.allSettled(userIds.map(id => fetchUser(id)))
  t0 = std::chrono::steady_clock::now();
  std::vector<settle::settled<std::string>> results = settle::all_settled(user_ids, fetch_user);
  const long long map_ms = ms_since(t0);

  bool same = results.size() == loop_results.size();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string shown =
        results[i] ? results[i].value() : "rejected: " + settle::describe(results[i].reason());
    same = same && shown == loop_results[i];
    std::cout << "id " << user_ids[i] << ": " << shown << '\n';
  }
  std::cout << "loop and all_settled agree: " << (same ? "yes" : "NO") << '\n'
            << "loop: " << loop_ms << " ms, all_settled: " << map_ms << " ms for "
            << user_ids.size() << " users of 30 ms each\n";
  return same ? 0 : 1;
}
