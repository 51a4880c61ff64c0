#include <settle/any.hpp>

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
#include <type_traits>
#include <utility>
#include <vector>

#include <settle/errors.hpp>
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
using settle_test::int_task;
using settle_test::long_task;
using settle_test::string_task;
using settle_test::test_error;
using settle_test::void_task;
using settle_test::wait_for_stop;
using namespace std::chrono_literals;

namespace {

template <class... Args>
concept can_any = requires(Args&&... args) { settle::any(std::forward<Args>(args)...); };
}  // namespace

// The common type of the results; none: does not compile.
static_assert(std::is_same_v<
              decltype(settle::any(std::declval<int_task>(), std::declval<long_task>())), long>);
static_assert(std::is_same_v<decltype(settle::any(std::declval<int_task>())), int>);
static_assert(
    std::is_void_v<decltype(settle::any(std::declval<void_task>(), std::declval<void_task>()))>);
static_assert(
    std::is_same_v<decltype(settle::any(std::declval<std::vector<std::function<int()>>&>())), int>);
static_assert(
    std::is_void_v<decltype(settle::any(std::declval<std::vector<std::future<void>>>()))>);
static_assert(can_any<int_task, long_task>);
static_assert(!can_any<int_task, string_task>);
static_assert(!can_any<>);  // any() does not compile
static_assert(!can_any<settle::inline_executor>);
static_assert(!can_any<int>);
static_assert(!can_any<std::future<int>&>);

// ---- fulfilment --------------------------------------------------------------------------------

TEST_CASE("any returns the first value and ignores the rejections before it", "[unit]") {
  settle_test::manual_executor ex;
  // Two rejections settle first, then the third task fulfils, then the second would.
  const int v = settle_test::drive(ex, 4, {0, 3, 2, 1}, [&] {
    return settle::any(
        ex, [] { return fails(0); }, [] { return 1; }, [] { return 2; }, [] { return fails(3); });
  });
  CHECK(v == 2);
}

TEST_CASE("any takes the first fulfilment in time, not in argument order", "[unit]") {
  settle::thread_pool pool(2);
  std::latch second_running(1);
  const int v = settle::any(
      pool,
      [&](std::stop_token token) {
        second_running.wait();
        wait_for_stop(token);  // only returns once the call has settled
        return 0;
      },
      [&] {
        second_running.count_down();
        return 1;
      });
  CHECK(v == 1);
}

TEST_CASE("any over tasks of different result types returns their common type", "[unit]") {
  const double v = settle::any(settle::inline_executor{}, [] { return 1; }, [] { return 2.5; });
  CHECK(v == 1.0);  // sequential: the first task fulfils first
}

TEST_CASE("any over void tasks returns void once one fulfils", "[unit]") {
  std::atomic<int> ran{0};
  settle::any(settle::inline_executor{}, [&]() -> void { throw 1; }, [&] { ++ran; });
  CHECK(ran == 1);
  std::vector<std::function<void()>> tasks{[] { throw 2; }, [] {}};
  settle::any(tasks);
  SUCCEED();
}

// ---- every task rejects -----------------------------------------------------------------------

TEST_CASE("any throws aggregate_error with every reason in argument order when all reject",
          "[unit]") {
  settle_test::manual_executor ex;
  try {
    settle_test::drive(ex, 3, {2, 0, 1}, [&] {
      return settle::any(
          ex, [] { return fails(0); }, []() -> int { throw 1; }, [] { return fails(2); });
    });
    FAIL("any did not throw");
  } catch (const settle::aggregate_error& e) {
    REQUIRE(e.reasons().size() == 3);
    CHECK(code_of(e.reasons()[0]) == 0);
    CHECK(settle_test::holds<int>(e.reasons()[1]));
    CHECK(code_of(e.reasons()[2]) == 2);
    CHECK_FALSE(std::string(e.what()).empty());
  }
}

TEST_CASE("any over an empty range throws aggregate_error with no reasons", "[unit]") {
  const std::vector<std::function<int()>> none;
  try {
    (void)settle::any(none);
    FAIL("any did not throw");
  } catch (const settle::aggregate_error& e) {
    CHECK(e.reasons().empty());
  }
  CHECK_THROWS_AS(settle::any(std::vector<std::future<int>>{}), settle::aggregate_error);
  const std::vector<int> no_ids;
  CHECK_THROWS_AS(settle::any(settle::inline_executor{}, no_ids, [](int i) { return i; }),
                  settle::aggregate_error);
}

// ---- forms -------------------------------------------------------------------------------------

TEST_CASE("any over ranges: tasks, futures, and a function mapped over elements", "[unit]") {
  settle::thread_pool pool(2);
  SECTION("a range of tasks, with and without executor") {
    std::vector<std::function<int(std::stop_token)>> tasks{[](std::stop_token) { return fails(0); },
                                                           [](std::stop_token) { return 1; }};
    CHECK(settle::any(tasks) == 1);
    CHECK(settle::any(pool, tasks) == 1);
  }
  SECTION("a moved range of futures, with and without executor") {
    std::promise<int> rejects;
    std::promise<int> fulfils;
    std::vector<std::future<int>> fs;
    fs.push_back(rejects.get_future());
    fs.push_back(fulfils.get_future());
    std::thread producer([&] {
      rejects.set_exception(std::make_exception_ptr(test_error("x", 0)));
      fulfils.set_value(5);
    });
    CHECK(settle::any(std::move(fs)) == 5);
    producer.join();

    std::promise<int> p;
    std::vector<std::future<int>> gs;
    gs.push_back(p.get_future());
    p.set_value(6);
    CHECK(settle::any(pool, std::move(gs)) == 6);
  }
  SECTION("map fn(elem) and fn(stop_token, elem), with and without executor") {
    const std::vector<int> ids{1, 2, 3};
    settle_test::manual_executor ex;
    const int v = settle_test::drive(ex, 3, {0, 2, 1}, [&] {
      return settle::any(ex, ids, [](int id) { return id == 1 ? fails(id) : id * 10; });
    });
    CHECK(v == 30);
    const int w = settle::any(ids, [](std::stop_token, int id) { return id < 3 ? fails(id) : id; });
    CHECK(w == 3);
    CHECK(settle::any(ids, [](int id) { return id == 2 ? id : fails(id); }) == 2);
    CHECK(settle::any(pool, ids,
                      [](std::stop_token, int id) { return id == 1 ? id : fails(id); }) == 1);
  }
}

TEST_CASE("any over futures already settled picks the lowest index that fulfilled", "[unit]") {
  for (int round = 0; round < 20; ++round) {
    std::promise<int> a;
    std::promise<int> b;
    std::promise<int> c;
    a.set_exception(std::make_exception_ptr(test_error("first rejects", 0)));
    b.set_value(20);
    c.set_value(30);
    CHECK(settle::any(a.get_future(), b.get_future(), c.get_future()) == 20);

    std::vector<std::promise<int>> ps(3);
    std::vector<std::future<int>> fs;
    for (auto& p : ps) fs.push_back(p.get_future());
    ps[2].set_value(2);
    ps[1].set_value(1);
    ps[0].set_exception(std::make_exception_ptr(1));
    CHECK(settle::any(std::move(fs)) == 1);
  }
}

TEST_CASE("any does not wait for a losing future: it is work the caller started", "[unit]") {
  std::promise<int> never_in_time;
  const int v = settle::any(never_in_time.get_future(), [] { return 7; });
  CHECK(v == 7);
  never_in_time.set_value(0);  // releases whoever still waits on it
}

// ---- structure ---------------------------------------------------------------------------------

TEST_CASE("any signals the losers' stop_token and returns only after they returned", "[unit]") {
  settle::thread_pool pool(3);
  std::latch losers_running(2);
  std::atomic<int> returned{0};
  auto loser = [&](std::stop_token token) -> int {
    losers_running.count_down();
    wait_for_stop(token);
    ++returned;
    return fails(0);
  };
  const int v = settle::any(pool, loser, loser, [&] {
    losers_running.wait();
    return 3;
  });
  CHECK(v == 3);
  CHECK(returned == 2);
}

TEST_CASE("any: a task not yet started when the first value arrives never runs", "[unit]") {
  settle_test::manual_executor ex;
  counters c;
  std::atomic<bool> later_ran{false};
  settle_test::staged_runner runner(ex, 3, {1}, {0, 2});
  const int v = settle::any(
      ex,
      [&, probe = counted(c, 0)] {
        later_ran = true;
        return probe.value();
      },
      [] { return 1; },
      [&, probe = counted(c, 2)] {
        later_ran = true;
        return probe.value();
      });
  CHECK(v == 1);
  CHECK(c.live() == 0);
  runner.finish();
  CHECK_FALSE(runner.timed_out());
  CHECK_FALSE(later_ran);
}

TEST_CASE("any: a refused task counts as a rejection, another task may still fulfil", "[unit]") {
  settle::inline_executor inner;
  settle_test::refusing_executor ex(inner, 0);
  CHECK(settle::any(ex, [] { return 1; }, [] { return 2; }) == 2);

  settle_test::refusing_executor all_refused(inner, 0);
  try {
    (void)settle::any(all_refused, [] { return 1; });
    FAIL("any did not throw");
  } catch (const settle::aggregate_error& e) {
    REQUIRE(e.reasons().size() == 1);
    CHECK(settle_test::holds<settle_test::refused>(e.reasons()[0]));
  }
}

// ---- futures that are not ready ---------------------------------------------------------------

TEST_CASE("any returns the first value without waiting for an earlier future that is not ready",
          "[unit]") {
  // The pool's thread gets to the future while the caller runs the slow task: the value
  // must not wait for the future, which is made ready only after any has returned.
  auto any_on = [](settle::thread_pool& pool) {
    std::promise<int> after_the_call;
    const int v = settle::any(
        pool, [] { return fails(0); }, after_the_call.get_future(),
        [] {
          std::this_thread::sleep_for(100ms);
          return 42;
        });
    after_the_call.set_value(0);
    return v;
  };
  SECTION("thread_pool(1)") {
    settle::thread_pool pool(1);
    CHECK(any_on(pool) == 42);
  }
  SECTION("thread_pool(2)") {
    settle::thread_pool pool(2);
    for (int round = 0; round < 20; ++round) CHECK(any_on(pool) == 42);
  }
}

TEST_CASE("any over a future, called from a task on thread_pool(1), on that pool, returns",
          "[unit]") {
  settle::thread_pool pool(1);
  std::promise<int> p;
  const auto producer = settle_test::set_value_after(50ms, p, 5);
  auto outer = pool.submit(
      [&pool, f = p.get_future()]() mutable { return settle::any(pool, std::move(f)); });
  CHECK(outer.get() == 5);
}

// ---- ranges whose elements cannot be read --------------------------------------------------

TEST_CASE("any propagates the exception thrown while reading an element of its range", "[unit]") {
  settle_test::check_unreadable_element_propagates(
      [](auto&&... a) { return settle::any(std::forward<decltype(a)>(a)...); });
}

// ---- map: what the function may take --------------------------------------------------------

TEST_CASE("any maps a generic lambda over a range of ints, with and without executor", "[unit]") {
  settle::thread_pool pool(2);
  auto twice_or_fail = [](auto x) { return x == 1 ? fails(1) : x * 2; };
  CHECK(settle::any(std::vector<int>{1, 2}, twice_or_fail) == 4);
  CHECK(settle::any(pool, std::vector<int>{1, 2}, twice_or_fail) == 4);
}

TEST_CASE("any maps a function taking an lvalue reference over a single-pass input range",
          "[unit]") {
  settle::thread_pool pool(2);
  auto ids = [] { return input_only_range(std::vector<int>{1, 2, 3}); };
  CHECK(settle::any(settle::inline_executor{}, ids(), [](int& x) { return x * 2; }) == 2);
  const int v = settle::any(pool, ids(), [](auto& x) { return x == 3 ? x : fails(x); });
  CHECK(v == 3);
}
