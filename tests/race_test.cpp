#include <settle/race.hpp>

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
using settle_test::short_task;
using settle_test::string_task;
using settle_test::test_error;
using settle_test::void_task;
using settle_test::wait_for_stop;
using namespace std::chrono_literals;

namespace {

template <class... Args>
concept can_race = requires(Args&&... args) { settle::race(std::forward<Args>(args)...); };
}  // namespace

static_assert(std::is_same_v<
              decltype(settle::race(std::declval<int_task>(), std::declval<short_task>())), int>);
static_assert(
    std::is_void_v<decltype(settle::race(std::declval<void_task>(), std::declval<void_task>()))>);
static_assert(
    std::is_same_v<decltype(settle::race(std::declval<std::vector<std::future<short>>>())), short>);
static_assert(
    std::is_void_v<decltype(settle::race(std::declval<std::vector<std::function<void()>>&>()))>);
static_assert(!can_race<int_task, string_task>);
static_assert(!can_race<>);  // race() does not compile
static_assert(!can_race<settle::inline_executor>);
static_assert(!can_race<int>);
static_assert(!can_race<std::future<int>&>);

// ---- the first to settle wins, either way ---------------------------------------------------

TEST_CASE("race returns the value of the first task to settle", "[unit]") {
  settle_test::manual_executor ex;
  const int v = settle_test::drive(ex, 3, {2, 0, 1}, [&] {
    return settle::race(ex, [] { return 0; }, [] { return fails(1); }, [] { return 2; });
  });
  CHECK(v == 2);
}

TEST_CASE("race rethrows the exception of the first task to settle when it rejected", "[unit]") {
  settle_test::manual_executor ex;
  try {
    settle_test::drive(ex, 3, {1, 0, 2}, [&] {
      return settle::race(ex, [] { return 0; }, [] { return fails(1); }, [] { return 2; });
    });
    FAIL("race did not throw");
  } catch (const test_error& e) {
    CHECK(e.code == 1);
  }
}

TEST_CASE("race on a pool: the task that settles first wins over an earlier argument", "[unit]") {
  settle::thread_pool pool(2);
  std::latch loser_running(1);
  std::atomic<bool> loser_returned{false};
  const int v = settle::race(
      pool,
      [&](std::stop_token token) {
        loser_running.count_down();
        wait_for_stop(token);
        loser_returned = true;
        return 0;
      },
      [&] {
        loser_running.wait();
        return 1;
      });
  CHECK(v == 1);
  CHECK(loser_returned);  // structured: the running loser returned before race did
}

TEST_CASE("race over void tasks returns void", "[unit]") {
  std::atomic<int> ran{0};
  settle::race(settle::inline_executor{}, [&] { ++ran; }, [&] { ++ran; });
  CHECK(ran == 1);  // sequential: the first settles the race, the second never starts
  CHECK_THROWS_AS(
      settle::race(settle::inline_executor{}, []() -> void { throw test_error("v", 1); }),
      test_error);
}

TEST_CASE("race over an empty range throws settle::empty_race", "[unit]") {
  const std::vector<std::function<int()>> none;
  CHECK_THROWS_AS(settle::race(none), settle::empty_race);
  CHECK_THROWS_AS(settle::race(none), std::invalid_argument);
  CHECK_THROWS_AS(settle::race(std::vector<std::future<int>>{}), settle::empty_race);
  const std::vector<int> no_ids;
  settle_test::manual_executor ex;
  CHECK_THROWS_AS(settle::race(ex, no_ids, [](int i) { return i; }), settle::empty_race);
  CHECK(ex.submitted() == 0);
}

// ---- forms -------------------------------------------------------------------------------------

TEST_CASE("race over ranges: tasks, futures, and a function mapped over elements", "[unit]") {
  settle::thread_pool pool(2);
  SECTION("a range of tasks, with and without executor") {
    std::vector<std::function<int()>> tasks{[] { return 4; }};
    CHECK(settle::race(tasks) == 4);
    CHECK(settle::race(pool, tasks) == 4);
    settle_test::manual_executor ex;
    std::vector<std::function<int(std::stop_token)>> stoppable{
        [](std::stop_token) { return 0; }, [](std::stop_token) { return fails(1); }};
    CHECK_THROWS_AS(settle_test::drive(ex, 2, {1, 0}, [&] { return settle::race(ex, stoppable); }),
                    test_error);
  }
  SECTION("a moved range of futures, with and without executor") {
    std::promise<int> p;
    std::vector<std::future<int>> fs;
    fs.push_back(p.get_future());
    std::thread producer([&] { p.set_value(8); });
    CHECK(settle::race(std::move(fs)) == 8);
    producer.join();

    std::promise<int> q;
    std::vector<std::future<int>> gs;
    gs.push_back(q.get_future());
    q.set_exception(std::make_exception_ptr(test_error("future", 3)));
    CHECK_THROWS_AS(settle::race(pool, std::move(gs)), test_error);
  }
  SECTION("map fn(elem) and fn(stop_token, elem), with and without executor") {
    const std::vector<int> ids{5, 6, 7};
    settle_test::manual_executor ex;
    const int v = settle_test::drive(
        ex, 3, {1, 0, 2}, [&] { return settle::race(ex, ids, [](int id) { return id; }); });
    CHECK(v == 6);
    const int w = settle::race(settle::inline_executor{}, ids,
                               [](std::stop_token, int id) { return id * 2; });
    CHECK(w == 10);
    // On a pool the winner is whichever task settles first: check it is one of them.
    const int x = settle::race(ids, [](int id) { return id; });
    CHECK((x == 5 || x == 6 || x == 7));
    const int y = settle::race(pool, ids, [](std::stop_token, int id) { return id; });
    CHECK((y == 5 || y == 6 || y == 7));
  }
}

TEST_CASE("race over futures already settled picks the lowest index", "[unit]") {
  for (int round = 0; round < 20; ++round) {
    std::promise<int> a;
    std::promise<int> b;
    std::promise<int> c;
    c.set_value(30);
    b.set_value(20);
    a.set_value(10);
    CHECK(settle::race(a.get_future(), b.get_future(), c.get_future()) == 10);

    std::promise<int> d;
    std::promise<int> e;
    e.set_value(1);
    d.set_exception(std::make_exception_ptr(test_error("lowest index rejects", 0)));
    CHECK_THROWS_AS(settle::race(d.get_future(), e.get_future()), test_error);

    std::vector<std::promise<int>> ps(3);
    std::vector<std::future<int>> fs;
    for (auto& p : ps) fs.push_back(p.get_future());
    ps[2].set_value(2);
    ps[1].set_value(1);
    CHECK(settle::race(std::move(fs)) == 1);  // ps[0] is not ready: index 1 is the lowest ready
  }
}

TEST_CASE("race does not wait for a losing future: it is work the caller started", "[unit]") {
  std::promise<int> never_in_time;
  const int v = settle::race(never_in_time.get_future(), [] { return 7; });
  CHECK(v == 7);
  never_in_time.set_value(0);  // releases whoever still waits on it
}

// ---- structure ---------------------------------------------------------------------------------

TEST_CASE("race signals every loser's stop_token and returns only after they returned", "[unit]") {
  settle::thread_pool pool(3);
  std::latch losers_running(2);
  std::atomic<int> returned{0};
  std::atomic<int> saw_stop{0};
  auto loser = [&](std::stop_token token) {
    losers_running.count_down();
    wait_for_stop(token);
    if (token.stop_requested()) ++saw_stop;
    ++returned;
    return 0;
  };
  CHECK_THROWS_AS(settle::race(pool, loser, loser,
                               [&]() -> int {
                                 losers_running.wait();
                                 return fails(5);
                               }),
                  test_error);
  CHECK(returned == 2);
  CHECK(saw_stop == 2);
}

TEST_CASE("race: a task not yet started when the race is decided never runs", "[unit]") {
  settle_test::manual_executor ex;
  counters c;
  std::atomic<bool> loser_ran{false};
  settle_test::staged_runner runner(ex, 2, {1}, {0});
  const int v = settle::race(
      ex,
      [&, probe = counted(c, 0)] {
        loser_ran = true;
        return probe.value();
      },
      [] { return 1; });
  CHECK(v == 1);
  CHECK(c.live() == 0);
  runner.finish();
  CHECK_FALSE(runner.timed_out());
  CHECK_FALSE(loser_ran);
}

TEST_CASE("race: a job the executor destroys unrun settles first, as settle::cancelled", "[unit]") {
  settle_test::manual_executor ex;
  std::thread runner([&] {
    ex.wait_for_submissions(2);
    ex.drop(0);  // destroyed without running: that task settles rejected, cancelled
    ex.run(1);
  });
  CHECK_THROWS_AS(settle::race(ex, [] { return 0; }, [] { return 1; }), settle::cancelled);
  runner.join();
}

TEST_CASE("race: a refused task is a rejection, and it settles the race if it comes first",
          "[unit]") {
  settle::inline_executor inner;
  settle_test::refusing_executor ex(inner, 0);
  std::atomic<bool> second_ran{false};
  CHECK_THROWS_AS(settle::race(
                      ex, [] { return 1; },
                      [&] {
                        second_ran = true;
                        return 2;
                      }),
                  settle_test::refused);
  CHECK_FALSE(second_ran);
}

// ---- futures that are not ready ---------------------------------------------------------------

TEST_CASE("race on thread_pool(1) returns a future made ready later while an earlier one is not",
          "[unit]") {
  settle::thread_pool pool(1);
  std::promise<int> after_the_call;
  std::promise<int> later;
  const auto producer = settle_test::set_value_after(50ms, later, 2);
  const int v = settle::race(pool, after_the_call.get_future(), later.get_future());
  after_the_call.set_value(1);
  CHECK(v == 2);
}

TEST_CASE("race over a future, called from a task on thread_pool(1), on that pool, returns",
          "[unit]") {
  settle::thread_pool pool(1);
  std::promise<int> p;
  const auto producer = settle_test::set_value_after(50ms, p, 5);
  auto outer = pool.submit(
      [&pool, f = p.get_future()]() mutable { return settle::race(pool, std::move(f)); });
  CHECK(outer.get() == 5);
}

// ---- ranges whose elements cannot be read --------------------------------------------------

TEST_CASE("race propagates the exception thrown while reading an element of its range", "[unit]") {
  settle_test::check_unreadable_element_propagates(
      [](auto&&... a) { return settle::race(std::forward<decltype(a)>(a)...); });
}

// ---- map: what the function may take --------------------------------------------------------

TEST_CASE("race maps a generic lambda over a range of ints, with and without executor", "[unit]") {
  settle::thread_pool pool(2);
  const int v = settle::race(std::vector<int>{1, 2}, [](auto x) { return x * 2; });
  CHECK((v == 2 || v == 4));
  const int w = settle::race(pool, std::vector<int>{1, 2}, [](auto x) { return x * 2; });
  CHECK((w == 2 || w == 4));
}

TEST_CASE("race maps a function taking an lvalue reference over a single-pass input range",
          "[unit]") {
  settle::thread_pool pool(2);
  auto ids = [] { return input_only_range(std::vector<int>{1, 2, 3}); };
  CHECK(settle::race(settle::inline_executor{}, ids(), [](int& x) { return x * 2; }) == 2);
  const int v = settle::race(pool, ids(), [](auto& x) { return x * 2; });
  CHECK((v == 2 || v == 4 || v == 6));
}
