// What every combinator does when reading an element of its range throws: the exception
// reaches the caller, whether the range holds futures, tasks or the inputs of a mapped
// function, and whichever element (first, middle, last) cannot be read; the copies of the
// elements read before it are gone.
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <utility>
#include <vector>

#include <settle/thread_pool.hpp>

#include "support/catch.hpp"
#include "support/probes.hpp"

namespace settle_test {

/// Runs the checks as sections of the calling test case. `call(pool, args...)` calls the
/// combinator under test on `pool`, e.g.
/// `[](auto&&... a) { return settle::any(std::forward<decltype(a)>(a)...); }`.
template <class Call>
void check_unreadable_element_propagates(Call call) {
  settle::thread_pool pool(2);
  const std::vector<std::size_t> first_middle_last{0, 1, 2};
  SECTION("a moved range of futures") {
    for (const std::size_t bad : first_middle_last) {
      std::vector<std::promise<int>> ps(3);
      std::vector<std::future<int>> fs;
      for (auto& p : ps) {
        fs.push_back(p.get_future());
        p.set_value(1);
      }
      CHECK_THROWS_AS(call(pool, input_only_range(std::move(fs), bad)), test_error);
    }
  }
  SECTION("a range of tasks") {
    for (const std::size_t bad : first_middle_last) {
      counters c;
      std::vector<std::function<int()>> tasks;
      for (int i = 0; i < 3; ++i)
        tasks.emplace_back([probe = counted(c, i)] { return probe.value(); });
      input_only_range range(std::move(tasks), bad);
      CHECK_THROWS_AS(call(pool, range), test_error);
      CHECK(c.live() == 3);  // only the range's own: the copies of the elements read are gone
    }
  }
  SECTION("a function mapped over the elements") {
    for (const std::size_t bad : first_middle_last) {
      input_only_range range(std::vector<int>{1, 2, 3}, bad);
      CHECK_THROWS_AS(call(pool, range, [](int id) { return id; }), test_error);
    }
  }
}

}  // namespace settle_test
