#include <settle/task.hpp>

#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <settle/all.hpp>
#include <settle/all_settled.hpp>
#include <settle/any.hpp>
#include <settle/executor.hpp>
#include <settle/race.hpp>
#include <settle/thread_pool.hpp>

#include "support/catch.hpp"
#include "support/probes.hpp"

using settle_test::counted;
using settle_test::counters;
using settle_test::fails;
using settle_test::move_only;
using settle_test::wait_for_stop;

namespace {

struct returns_int {
  int operator()() const { return 1; }
};
struct returns_void {
  void operator()() const {}
};
struct takes_token {
  int operator()(std::stop_token) const { return 2; }
};
struct takes_int {
  int operator()(int) const { return 3; }
};
struct takes_token_and_int {
  int operator()(std::stop_token, int) const { return 4; }
};
struct move_only_callable {
  move_only_callable() = default;
  move_only_callable(move_only_callable&&) = default;
  move_only_callable(const move_only_callable&) = delete;
  int operator()() { return 5; }
};
struct returns_reference {
  std::string* s;
  std::string& operator()() const { return *s; }
};
int free_function() { return 6; }

}  // namespace

// Callables with no argument, or with a std::stop_token alone.
static_assert(settle::task<returns_int>);
static_assert(settle::task<returns_int&>);
static_assert(settle::task<const returns_int&>);
static_assert(settle::task<returns_void>);
static_assert(settle::task<takes_token>);
static_assert(settle::task<std::function<int()>>);
static_assert(settle::task<std::function<void(std::stop_token)>>);
static_assert(settle::task<int (*)()>);
static_assert(settle::task<int (&)()>);
static_assert(settle::task<move_only_callable>);
// A move-only callable is taken by value: an lvalue cannot be copied in.
static_assert(!settle::task<move_only_callable&>);

// Futures: work already running.
static_assert(settle::task<std::future<int>>);
static_assert(settle::task<std::future<void>>);
static_assert(settle::task<std::shared_future<int>>);
static_assert(settle::task<std::shared_future<int>&>);  // copyable: copied in
static_assert(settle::task<std::future<move_only>>);
// An lvalue std::future must be moved: it cannot be copied.
static_assert(!settle::task<std::future<int>&>);

// Anything else is not a task.
static_assert(!settle::task<int>);
static_assert(!settle::task<std::string>);
static_assert(!settle::task<takes_int>);
static_assert(!settle::task<takes_token_and_int>);
static_assert(!settle::task<std::function<int(int)>>);

// The result type: cv and references removed, a future's value type.
static_assert(std::is_same_v<settle::task_result_t<returns_int>, int>);
static_assert(std::is_same_v<settle::task_result_t<returns_void>, void>);
static_assert(std::is_same_v<settle::task_result_t<takes_token>, int>);
static_assert(std::is_same_v<settle::task_result_t<returns_reference>, std::string>);
static_assert(std::is_same_v<settle::task_result_t<std::future<long>>, long>);
static_assert(std::is_same_v<settle::task_result_t<std::shared_future<long>>, long>);
static_assert(std::is_same_v<settle::task_result_t<std::future<void>>, void>);

TEST_CASE("a callable's result type R becomes settled<R>", "[unit]") {
  std::string text = "text";
  auto results = settle::all_settled(settle::inline_executor{}, returns_int{}, returns_void{},
                                     takes_token{}, returns_reference{&text}, &free_function);
  STATIC_REQUIRE(
      std::is_same_v<decltype(results),
                     std::tuple<settle::settled<int>, settle::settled<void>, settle::settled<int>,
                                settle::settled<std::string>, settle::settled<int>>>);
  CHECK(std::get<0>(results).value() == 1);
  CHECK(std::get<1>(results).is_fulfilled());
  CHECK(std::get<2>(results).value() == 2);
  CHECK(std::get<3>(results).value() == "text");
  CHECK(std::get<4>(results).value() == 6);
}

TEST_CASE("a task returning a reference yields a copy of the referred value", "[unit]") {
  std::string text = "before";
  auto [r] = settle::all_settled(settle::inline_executor{}, returns_reference{&text});
  text = "after";
  CHECK(r.value() == "before");
}

TEST_CASE("a callable that accepts a std::stop_token is given one", "[unit]") {
  bool got_token = false;
  auto [r] = settle::all_settled(settle::inline_executor{}, [&](std::stop_token token) {
    got_token = token.stop_possible();
    return 1;
  });
  CHECK(r.value() == 1);
  CHECK(got_token);
}

TEST_CASE(
    "a callable taking its std::stop_token by value, by rvalue reference or by const reference "
    "is given the call's token",
    "[unit]") {
  settle::thread_pool pool(4);  // a thread for each task
  SECTION("all_settled") {
    auto [a, b, c] = settle::all_settled(
        pool, [](std::stop_token t) { return t.stop_possible(); },
        [](std::stop_token&& t) { return t.stop_possible(); },
        [](const std::stop_token& t) { return t.stop_possible(); });
    CHECK(a.value());
    CHECK(b.value());
    CHECK(c.value());
  }
  // The three are running before the fourth task settles the call, and each returns only
  // once its token is signalled: only the call's own token, signalled as the call settles
  // early, lets them return.
  std::latch running(3);
  auto by_value = [&running](std::stop_token t) {
    running.count_down();
    wait_for_stop(t);
    return 0;
  };
  auto by_rvalue = [&running](std::stop_token&& t) {
    running.count_down();
    wait_for_stop(t);
    return 0;
  };
  auto by_const_ref = [&running](const std::stop_token& t) {
    running.count_down();
    wait_for_stop(t);
    return 0;
  };
  SECTION("all") {
    CHECK_THROWS_AS(settle::all(pool, by_value, by_rvalue, by_const_ref,
                                [&running] {
                                  running.wait();
                                  return fails(1);
                                }),
                    settle_test::test_error);
  }
  SECTION("any") {
    CHECK(settle::any(pool, by_value, by_rvalue, by_const_ref, [&running] {
            running.wait();
            return 1;
          }) == 1);
  }
  SECTION("race") {
    CHECK(settle::race(pool, by_value, by_rvalue, by_const_ref, [&running] {
            running.wait();
            return 1;
          }) == 1);
  }
}

TEST_CASE("a task passed as an lvalue is copied: the caller's object is left as it was", "[unit]") {
  counters c;
  {
    const auto task = [probe = counted(c, 7)] { return probe.value(); };
    const int copies_before = c.copied;
    auto [r] = settle::all_settled(settle::inline_executor{}, task);
    CHECK(r.value() == 7);
    CHECK(c.copied > copies_before);
    CHECK(task() == 7);  // still usable
  }
  CHECK(c.live() == 0);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("a task passed as an rvalue is moved, never copied", "[unit]") {
  counters c;
  {
    auto task = [probe = counted(c, 8)] { return probe.value(); };
    const int copies_before = c.copied;
    auto [r] = settle::all_settled(settle::inline_executor{}, std::move(task));
    CHECK(r.value() == 8);
    CHECK(c.copied == copies_before);
  }
  CHECK(c.live() == 0);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("a move-only callable is accepted as an rvalue", "[unit]") {
  auto [r] = settle::all_settled(settle::inline_executor{}, move_only_callable{});
  CHECK(r.value() == 5);
  auto [m] =
      settle::all_settled(settle::inline_executor{}, [p = std::make_unique<int>(9)] { return *p; });
  CHECK(m.value() == 9);
}

TEST_CASE("a mutable callable may change its own copy", "[unit]") {
  int calls = 0;
  auto counter = [n = 0, &calls]() mutable {
    ++calls;
    return ++n;
  };
  auto [a, b] = settle::all_settled(settle::inline_executor{}, counter, counter);
  CHECK(a.value() == 1);  // each task got its own copy, starting at 0
  CHECK(b.value() == 1);
  CHECK(calls == 2);
}

TEST_CASE("the callable is destroyed once it has returned, before the combinator returns",
          "[unit]") {
  counters c;
  auto [r] = settle::all_settled(settle::inline_executor{}, [probe = counted(c, 1)] { return 1; });
  CHECK(r.value() == 1);
  CHECK(c.live() == 0);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("a std::future task yields the future's value or exception", "[unit]") {
  std::promise<int> ok;
  std::promise<move_only> mo;
  std::promise<void> bad;
  ok.set_value(3);
  mo.set_value(move_only(4));
  bad.set_exception(std::make_exception_ptr(settle_test::test_error("future failed", 5)));
  auto [a, b, c] = settle::all_settled(settle::inline_executor{}, ok.get_future(), mo.get_future(),
                                       bad.get_future());
  CHECK(a.value() == 3);
  CHECK(b.value().value() == 4);
  CHECK(settle_test::code_of(c.reason()) == 5);
}
