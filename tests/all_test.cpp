#include <settle/all.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <latch>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <settle/executor.hpp>
#include <settle/thread_pool.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"
#include "support/unreadable_ranges.hpp"

using settle_test::code_of;
using settle_test::counted;
using settle_test::counters;
using settle_test::fails;
using settle_test::input_only_range;
using settle_test::move_only;
using settle_test::test_error;
using settle_test::wait_for_stop;
using namespace std::chrono_literals;

namespace {

template <class... Args>
concept can_all = requires(Args&&... args) { settle::all(std::forward<Args>(args)...); };

}  // namespace

static_assert(can_all<>);
static_assert(std::is_same_v<decltype(settle::all()), std::tuple<>>);
static_assert(std::is_same_v<decltype(settle::all(settle::inline_executor{})), std::tuple<>>);
static_assert(std::is_same_v<decltype(settle::all([] { return 1; }, [] {}, [] { return 'c'; })),
                             std::tuple<int, std::monostate, char>>);
static_assert(
    std::is_same_v<decltype(settle::all(std::declval<std::vector<std::function<void()>>&>())),
                   std::vector<std::monostate>>);
static_assert(std::is_same_v<decltype(settle::all(std::declval<std::vector<std::future<long>>>())),
                             std::vector<long>>);
static_assert(!can_all<int>);
static_assert(!can_all<std::future<int>&>);
static_assert(!can_all<std::vector<std::future<int>>&>);

// ---- values ------------------------------------------------------------------------------------

TEST_CASE("all() with no arguments returns an empty tuple", "[unit]") {
  const std::tuple<> none = settle::all();
  (void)none;
  SUCCEED();
}

TEST_CASE("all(tasks...) returns every value in argument order", "[unit]") {
  auto [user, posts, flag] =
      settle::all([] { return std::string("ada"); }, [] { return std::vector<int>{1, 2}; },
                  [](std::stop_token) { return true; });
  CHECK(user == "ada");
  CHECK(posts == std::vector<int>{1, 2});
  CHECK(flag);
}

TEST_CASE("all turns a void result into std::monostate", "[unit]") {
  bool ran = false;
  auto [v, i] = settle::all([&] { ran = true; }, [] { return 3; });
  STATIC_REQUIRE(std::is_same_v<decltype(v), std::monostate>);
  CHECK(ran);
  CHECK(i == 3);
  std::vector<std::function<void()>> tasks{[] {}, [] {}};
  const std::vector<std::monostate> vs = settle::all(tasks);
  CHECK(vs.size() == 2);
}

TEST_CASE("all returns values in argument order whatever order the tasks finish in", "[unit]") {
  settle_test::manual_executor ex;
  auto [a, b, c] = settle_test::drive(ex, 3, {1, 2, 0}, [&] {
    return settle::all(ex, [] { return 0; }, [] { return 1; }, [] { return 2; });
  });
  CHECK(a == 0);
  CHECK(b == 1);
  CHECK(c == 2);
}

TEST_CASE("all moves move-only values out", "[unit]") {
  auto [m] = settle::all([] { return move_only(4); });
  CHECK(m.value() == 4);
  std::vector<std::function<int()>> none;
  CHECK(settle::all(none).empty());
}

TEST_CASE("all over ranges: tasks, futures, and a function mapped over elements", "[unit]") {
  settle::thread_pool pool(2);
  SECTION("a range of tasks, with and without executor") {
    std::vector<std::function<int(std::stop_token)>> tasks;
    for (int i = 0; i < 5; ++i) tasks.emplace_back([i](std::stop_token) { return i; });
    CHECK(settle::all(tasks) == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(settle::all(pool, tasks) == std::vector<int>{0, 1, 2, 3, 4});
  }
  SECTION("a moved range of futures, with and without executor") {
    std::vector<std::promise<int>> ps(3);
    std::vector<std::future<int>> fs;
    std::vector<std::future<int>> gs;
    for (auto& p : ps) fs.push_back(p.get_future());
    std::vector<std::promise<int>> qs(2);
    for (auto& q : qs) gs.push_back(q.get_future());
    std::thread producer([&] {
      for (int i = 2; i >= 0; --i) ps[static_cast<std::size_t>(i)].set_value(i);
      qs[0].set_value(7);
      qs[1].set_value(8);
    });
    CHECK(settle::all(std::move(fs)) == std::vector<int>{0, 1, 2});
    CHECK(settle::all(pool, std::move(gs)) == std::vector<int>{7, 8});
    producer.join();
  }
  SECTION("map fn(elem) and fn(stop_token, elem), with and without executor") {
    const std::vector<int> ids{3, 1, 2};
    CHECK(settle::all(ids, [](int id) { return id * 2; }) == std::vector<int>{6, 2, 4});
    CHECK(settle::all(pool, ids, [](std::stop_token, int id) { return id + 1; }) ==
          std::vector<int>{4, 2, 3});
    CHECK(settle::all(pool, ids, [](int id) { return id; }) == ids);
    CHECK(settle::all(ids, [](std::stop_token, int id) { return -id; }) ==
          std::vector<int>{-3, -1, -2});
    const std::vector<int> none;
    CHECK(settle::all(pool, none, [](int id) { return id; }).empty());
  }
}

// ---- rejection ---------------------------------------------------------------------------------

TEST_CASE("all rethrows a rejection as the exact exception type the task threw", "[unit]") {
  REQUIRE_THROWS_AS(settle::all([] { return 1; }, [] { return fails(2); }), test_error);
  try {
    (void)settle::all([] { return 1; }, []() -> int { throw settle_test::not_std_exception{5}; });
    FAIL("all did not throw");
  } catch (const settle_test::not_std_exception& e) {
    CHECK(e.code == 5);
  }
}

TEST_CASE("all rethrows the first rejection in time, not the first in argument order", "[unit]") {
  SECTION("manual executor: the later argument rejects first") {
    settle_test::manual_executor ex;
    try {
      settle_test::drive(ex, 3, {2, 0, 1}, [&] {
        return settle::all(ex, [] { return fails(0); }, [] { return 1; }, [] { return fails(2); });
      });
      FAIL("all did not throw");
    } catch (const test_error& e) {
      CHECK(e.code == 2);
    }
  }
  SECTION("pool: the first argument rejects only after it was asked to stop") {
    settle::thread_pool pool(2);  // the two tasks overlap: two threads
    std::latch first_started(1);
    try {
      (void)settle::all(
          pool,
          [&](std::stop_token token) -> int {
            first_started.count_down();
            wait_for_stop(token);
            return fails(0);
          },
          [&]() -> int {
            first_started.wait();
            return fails(1);
          });
      FAIL("all did not throw");
    } catch (const test_error& e) {
      CHECK(e.code == 1);
    }
  }
}

TEST_CASE(
    "all signals the stop_token of the running tasks and returns only after they "
    "returned",
    "[unit]") {
  settle::thread_pool pool(3);
  std::latch both_running(2);
  std::atomic<int> returned{0};
  std::atomic<int> saw_stop{0};
  auto loser = [&](std::stop_token token) {
    both_running.count_down();
    wait_for_stop(token);
    if (token.stop_requested()) ++saw_stop;
    ++returned;
    return 0;
  };
  CHECK_THROWS_AS(settle::all(pool, loser, loser,
                              [&]() -> int {
                                both_running.wait();
                                return fails(9);
                              }),
                  test_error);
  // Structured: both losers had returned before all() threw.
  CHECK(returned == 2);
  CHECK(saw_stop == 2);
}

TEST_CASE("all: a task not yet started when a rejection settles the call never runs", "[unit]") {
  settle_test::manual_executor ex;
  counters c;
  std::atomic<bool> second_ran{false};
  // Job 0 rejects and settles the call; job 1 is run only after the call returned.
  settle_test::staged_runner runner(ex, 2, {0}, {1});
  CHECK_THROWS_AS(settle::all(
                      ex, [] { return fails(0); },
                      [&, probe = counted(c, 1)] {
                        second_ran = true;
                        return probe.value();
                      }),
                  test_error);
  CHECK(c.live() == 0);  // the never-started task was destroyed before the call returned
  runner.finish();
  CHECK_FALSE(runner.timed_out());  // the call did not wait for the queued job
  CHECK_FALSE(second_ran);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("all over futures: a rejected future is rethrown", "[unit]") {
  std::promise<int> ok;
  std::promise<int> bad;
  ok.set_value(1);
  bad.set_exception(std::make_exception_ptr(test_error("future", 4)));
  try {
    (void)settle::all(ok.get_future(), bad.get_future());
    FAIL("all did not throw");
  } catch (const test_error& e) {
    CHECK(e.code == 4);
  }
}

TEST_CASE(
    "all: a task refused by the executor rejects the call with the executor's exception, "
    "after the running tasks returned",
    "[unit]") {
  settle::thread_pool pool(2);
  std::latch first_running(1);
  std::atomic<bool> first_returned{false};
  std::atomic<bool> third_ran{false};
  // Refuse the second task once the first is known to be running.
  settle_test::refusing_executor ex(pool, 1, [&] { first_running.wait(); });
  CHECK_THROWS_AS(settle::all(
                      ex,
                      [&](std::stop_token token) {
                        first_running.count_down();
                        wait_for_stop(token);
                        first_returned = true;
                        return 1;
                      },
                      [] { return 2; },
                      [&] {
                        third_ran = true;
                        return 3;
                      }),
                  settle_test::refused);
  CHECK(first_returned);
  CHECK_FALSE(third_ran);  // not started when the call settled
}

TEST_CASE("all destroys every task and value exactly once, also when it throws", "[unit]") {
  counters c;
  {
    settle::thread_pool pool(2);
    {
      auto [a, b] = settle::all(pool, [&] { return counted(c, 1); }, [&] { return counted(c, 2); });
      CHECK(a.value() + b.value() == 3);
    }
    CHECK(c.live() == 0);
    CHECK_THROWS_AS(
        settle::all(
            pool, [&] { return counted(c, 3); }, [&]() -> counted { throw test_error("x", 0); }),
        test_error);
    CHECK(c.live() == 0);
  }
  CHECK(c.destroyed_twice == 0);
}

// ---- futures that are not ready ---------------------------------------------------------------

TEST_CASE("all rethrows a rejection without waiting for a future that is not ready", "[unit]") {
  for (int round = 0; round < 20; ++round) {
    std::promise<int> after_the_call;
    CHECK_THROWS_AS(settle::all(after_the_call.get_future(),
                                [] {
                                  std::this_thread::sleep_for(20ms);
                                  return fails(1);
                                }),
                    test_error);
    after_the_call.set_value(0);
  }
}

TEST_CASE("all on thread_pool(1): a task that fulfils a promise, and that promise's future",
          "[unit]") {
  // Whoever runs the call's tasks must not block on the future before the task that
  // fulfils it has run.
  settle::thread_pool pool(1);
  auto task_and_its_future = [&pool] {
    std::promise<int> p;
    auto f = p.get_future();
    return settle::all(
        pool,
        [&p] {
          p.set_value(41);
          return 1;
        },
        std::move(f));
  };
  SECTION("called from a task on the same pool") {
    const auto [a, b] = pool.submit(task_and_its_future).get();
    CHECK(a == 1);
    CHECK(b == 41);
  }
  SECTION("called from outside the pool") {
    const auto [a, b] = task_and_its_future();
    CHECK(a == 1);
    CHECK(b == 41);
  }
}

// ---- ranges whose elements cannot be read --------------------------------------------------

TEST_CASE("all propagates the exception thrown while reading an element of its range", "[unit]") {
  settle_test::check_unreadable_element_propagates(
      [](auto&&... a) { return settle::all(std::forward<decltype(a)>(a)...); });
}

// ---- map: what the function may take --------------------------------------------------------

TEST_CASE("all maps a generic lambda over a range of ints, with and without executor", "[unit]") {
  settle::thread_pool pool(2);
  CHECK(settle::all(std::vector<int>{1, 2}, [](auto x) { return x * 2; }) ==
        std::vector<int>{2, 4});
  CHECK(settle::all(pool, std::vector<int>{1, 2}, [](auto x) { return x * 2; }) ==
        std::vector<int>{2, 4});
}

TEST_CASE("all maps a function taking an lvalue reference over a single-pass input range",
          "[unit]") {
  settle::thread_pool pool(2);
  auto ids = [] { return input_only_range(std::vector<int>{1, 2, 3}); };
  CHECK(settle::all(ids(), [](int& x) { return x * 2; }) == std::vector<int>{2, 4, 6});
  CHECK(settle::all(pool, ids(), [](auto& x) { return x + 1; }) == std::vector<int>{2, 3, 4});
}
