// settle::start and settle::pending of settle/pending.hpp (SPEC §6): every form, every member,
// move semantics, the destructor's stop and wait, nesting on a one-thread pool, deadlines
// that fire with nobody waiting. `co_await` is in pending_await_test.cpp.
#include <settle/pending.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stop_token>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <settle/settle.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/options_probes.hpp"
#include "support/probes.hpp"

using namespace std::chrono_literals;
using settle_test::kind;
using settle_test::kind_thrown;
using settle_test::returns;
using settle_test::until_stopped;

namespace {

using int_task = settle_test::int_task;
using void_task = settle_test::void_task;
using tasks_vector = std::vector<std::function<int()>>;

int one() { return 1; }
long two() { return 2; }

/// `start`'s result type is `pending<R>`, `R` being what the plain call returns.
template <class C, class... Args>
constexpr bool pends_as_plain_call =
    std::is_same_v<decltype(settle::start(std::declval<const C&>(), std::declval<Args>()...)),
                   settle::pending<decltype(std::declval<const C&>()(std::declval<Args>()...))>>;

template <class... Args>
concept can_start = requires(Args&&... args) { settle::start(std::forward<Args>(args)...); };

}  // namespace

// ---- what start returns ----------------------------------------------------------------------

static_assert(pends_as_plain_call<decltype(settle::all_settled), int_task, long (*)()>);
static_assert(pends_as_plain_call<decltype(settle::all), int_task, void_task>);
static_assert(pends_as_plain_call<decltype(settle::any), int_task, long (*)()>);
static_assert(pends_as_plain_call<decltype(settle::race), void_task, void_task>);
static_assert(
    std::is_same_v<decltype(settle::start(settle::any, void_task{})), settle::pending<void>>);
static_assert(pends_as_plain_call<decltype(settle::all), std::vector<int>&, int (*)(int)>);
static_assert(pends_as_plain_call<decltype(settle::all_settled), settle::thread_pool&,
                                  settle::options, tasks_vector>);
static_assert(pends_as_plain_call<decltype(settle::race), settle::inline_executor, settle::options,
                                  int_task>);
static_assert(pends_as_plain_call<decltype(settle::all_settled)>);
static_assert(!std::is_copy_constructible_v<settle::pending<int>>);
static_assert(!std::is_copy_assignable_v<settle::pending<int>>);
static_assert(std::is_nothrow_move_constructible_v<settle::pending<int>>);
static_assert(std::is_nothrow_move_assignable_v<settle::pending<int>>);
// What the plain call refuses, start refuses too.
static_assert(!can_start<decltype(settle::all), int>);
static_assert(!can_start<decltype(settle::any)>);
static_assert(!can_start<decltype(settle::all), int_task, settle::options>);
static_assert(!can_start<int_task, int_task>);

TEST_CASE("start returns before its tasks finish and get returns what the plain call returns") {
  settle_test::gate release;
  auto p = settle::start(
      settle::all_settled,
      [&] {
        release.wait();
        return 1;
      },
      [] { return 2.5; }, [] { return settle_test::fails(7); });
  CHECK(p.valid());
  CHECK_FALSE(p.ready());
  release.open();
  auto [a, b, c] = p.get();
  CHECK(a.value() == 1);
  CHECK(b.value() == 2.5);
  CHECK(settle_test::code_of(c.reason()) == 7);
  CHECK_FALSE(p.valid());
}

TEST_CASE("start runs no task on the calling thread") {
  const auto caller = std::this_thread::get_id();
  settle_test::arrivals started;
  settle_test::gate release;
  std::atomic<int> on_caller{0};
  auto task = [&] {
    on_caller += std::this_thread::get_id() == caller ? 1 : 0;
    started.arrive();
    release.wait();
    return 0;
  };
  settle::thread_pool pool(3);
  auto p = settle::start(settle::all, pool, task, task, task);
  // Every task is running elsewhere while the caller has not even waited.
  CHECK(started.wait_for(3));
  release.open();
  CHECK(p.get() == std::tuple(0, 0, 0));
  CHECK(on_caller == 0);
}

TEST_CASE("with inline_executor start runs every task before it returns") {
  int ran = 0;
  auto p = settle::start(
      settle::all, settle::inline_executor{}, [&] { return ++ran; }, [&] { return ++ran; });
  CHECK(ran == 2);
  CHECK(p.ready());
  CHECK(p.get() == std::tuple(1, 2));
}

TEST_CASE("every form can be started") {
  std::vector<int> ids{1, 2, 3};
  const auto twice = [](int x) { return 2 * x; };
  settle::thread_pool pool(2);
  CHECK(settle::start(settle::all, ids, twice).get() == std::vector<int>{2, 4, 6});
  CHECK(settle::start(settle::all, pool, ids, twice).get() == std::vector<int>{2, 4, 6});
  CHECK(settle::start(settle::all, settle::limit(1), ids, twice).get() ==
        std::vector<int>{2, 4, 6});
  CHECK(settle::start(settle::all, pool, settle::limit(2), ids, twice).get() ==
        std::vector<int>{2, 4, 6});
  CHECK(settle::start(settle::any, tasks_vector{one, returns(5)}).get() >= 1);
  CHECK(settle::start(settle::race, pool, settle::timeout(1h), tasks_vector{one}).get() == 1);
  auto [a, b] = settle::start(settle::all_settled, settle::options{}, one, two).get();
  CHECK((a.value() == 1 && b.value() == 2));
  CHECK(settle::start(settle::all_settled).get() == std::tuple<>());
  CHECK(settle::start(settle::all, pool).get() == std::tuple<>());
  auto results = settle::start(settle::all_settled, std::vector<std::function<int()>>{}).get();
  CHECK(results.empty());
}

TEST_CASE("a temporary executor is kept for as long as the started call uses it") {
  settle_test::manual_executor ex;
  // Under a limit, the next task is launched as one returns: on the pending's own copy of
  // the executor, the temporary being long gone.
  auto p =
      settle::start(settle::all, settle_test::manual_executor(ex), settle::limit(1), one, one, one);
  for (std::size_t i = 0; i < 3; ++i) {
    ex.wait_for_submissions(i + 1);
    CHECK(ex.run(i));
  }
  CHECK(p.get() == std::tuple(1, 1, 1));
}

// ---- get -------------------------------------------------------------------------------------

TEST_CASE("get throws exactly what the plain call throws") {
  CHECK_THROWS_AS(settle::start(settle::any, [] { return settle_test::fails(1); }).get(),
                  settle::aggregate_error);
  CHECK_THROWS_AS(settle::start(settle::all, one, [] { return settle_test::fails(2); }).get(),
                  settle_test::test_error);
  CHECK(kind_thrown([] { return settle::start(settle::all, settle::timeout(0ms), one).get(); }) ==
        "timed_out");
  std::stop_source source;
  source.request_stop();
  CHECK(kind_thrown([&] {
          return settle::start(settle::race, settle::stop_on(source.get_token()), one).get();
        }) == "cancelled");
}

TEST_CASE("get collects once; a pending without a call throws future_error no_state") {
  auto p = settle::start(settle::all, one);
  CHECK(p.get() == std::tuple(1));
  CHECK_FALSE(p.valid());
  CHECK_FALSE(p.ready());
  const auto no_state = [](const std::future_error& e) {
    return e.code() == std::make_error_code(std::future_errc::no_state);
  };
  CHECK_THROWS_MATCHES(p.get(), std::future_error, Catch::Predicate<std::future_error>(no_state));
  CHECK_THROWS_AS(p.wait(), std::future_error);
  CHECK_THROWS_AS(p.wait_for(1ms), std::future_error);
  CHECK_THROWS_AS(p.wait_until(std::chrono::system_clock::now()), std::future_error);
  p.request_stop();  // no call: nothing to do
  settle::pending<int> empty;
  CHECK_FALSE(empty.valid());
  CHECK_THROWS_AS(empty.get(), std::future_error);
}

TEST_CASE("a get that throws leaves the pending without a call") {
  auto p = settle::start(settle::all, [] { return settle_test::fails(3); });
  CHECK_THROWS_AS(p.get(), settle_test::test_error);
  CHECK_FALSE(p.valid());
}

TEST_CASE("pending<void> gets nothing and rethrows") {
  int ran = 0;
  settle::pending<void> p = settle::start(settle::any, [&] { ++ran; });
  p.get();
  CHECK(ran == 1);
  settle::pending<void> q =
      settle::start(settle::race, [] { throw settle_test::test_error("x", 4); });
  CHECK_THROWS_AS(q.get(), settle_test::test_error);
}

// ---- waiting ---------------------------------------------------------------------------------

TEST_CASE("wait_for and wait_until time out while the call runs and report ready after") {
  settle_test::gate release;
  auto p = settle::start(settle::all, [&] {
    release.wait();
    return 1;
  });
  CHECK(p.wait_for(1ms) == std::future_status::timeout);
  CHECK(p.wait_until(std::chrono::system_clock::now() + 1ms) == std::future_status::timeout);
  CHECK(p.wait_for(-5s) == std::future_status::timeout);
  CHECK(p.wait_for(std::chrono::hours(-3'000'000)) == std::future_status::timeout);
  CHECK(p.wait_for(std::chrono::duration<double>(-1e300)) == std::future_status::timeout);
  release.open();
  CHECK(p.wait_for(std::chrono::hours::max()) == std::future_status::ready);
  CHECK(p.ready());
  CHECK(p.wait_until(std::chrono::steady_clock::time_point::min()) == std::future_status::ready);
  p.wait();
  CHECK(p.valid());
  CHECK(p.get() == std::tuple(1));
}

TEST_CASE("wait on the call's own one-thread pool from inside its task runs the call's tasks") {
  settle::thread_pool pool(1);
  auto outer = settle::all(pool, [&] {
    auto inner = settle::start(settle::all, pool, one, one, one);
    inner.wait();
    auto [a, b, c] = inner.get();
    auto nested = settle::start(settle::all_settled, pool, two);
    return a + b + c + static_cast<int>(std::get<0>(nested.get()).value());
  });
  CHECK(outer == std::tuple(5));
}

// ---- stopping --------------------------------------------------------------------------------

TEST_CASE("request_stop signals running tasks, never starts the others, and settles cancelled") {
  settle::thread_pool pool(2);
  settle_test::arrivals started;
  std::atomic<int> ran{0};
  auto p = settle::start(
      settle::all_settled, pool, settle::limit(1),
      [&](std::stop_token t) {
        started.arrive();
        ++ran;
        return until_stopped(std::move(t));
      },
      [&] { return ++ran; });
  REQUIRE(started.wait_for(1));
  p.request_stop();
  auto [first, second] = p.get();
  CHECK(kind(first.reason()) == "cancelled");
  CHECK(kind(second.reason()) == "cancelled");
  CHECK(ran == 1);
}

TEST_CASE("a pending destroyed uncollected stops its call and waits for its tasks") {
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> returned{false};
  settle_test::arrivals started;
  {
    auto p = settle::start(settle::all_settled, [&](std::stop_token t) {
      started.arrive();
      saw_stop = settle_test::stop_within_fallback(t);
      returned = true;
    });
    REQUIRE(started.wait_for(1));
  }
  CHECK(saw_stop);
  CHECK(returned);  // the destructor waited for it
}

TEST_CASE("assigning over an uncollected pending stops and waits for its call") {
  std::atomic<bool> returned{false};
  settle_test::arrivals started;
  auto p = settle::start(settle::all, [&](std::stop_token t) {
    started.arrive();
    const int r = until_stopped(std::move(t));
    returned = true;
    return r;
  });
  REQUIRE(started.wait_for(1));
  p = settle::start(settle::all, [] { return 9; });
  CHECK(returned);
  CHECK(p.get() == std::tuple(9));
  auto q = std::move(p);
  CHECK_FALSE(p.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK_FALSE(q.valid());  // collected before the move
}

TEST_CASE("a moved pending carries its call; the moved-from one has none") {
  auto p = settle::start(settle::all, returns(4));
  settle::pending<std::tuple<int>> q(std::move(p));
  CHECK_FALSE(p.valid());  // NOLINT(bugprone-use-after-move)
  CHECK(q.valid());
  p = std::move(q);
  CHECK(p.get() == std::tuple(4));
}

TEST_CASE("a deadline fires while nobody waits for the pending") {
  settle_test::arrivals stopped;
  auto p = settle::start(settle::all_settled, settle::timeout(20ms), [&](std::stop_token t) {
    const bool signalled = settle_test::stop_within_fallback(t);
    if (signalled) stopped.arrive();
    return signalled;
  });
  // The test waits for the task, not for the pending: the deadline must reach it anyway.
  CHECK(stopped.wait_for(1));
  CHECK(p.wait_for(settle_test::fallback) == std::future_status::ready);
  CHECK(kind(std::get<0>(p.get()).reason()) == "timed_out");
}

TEST_CASE("futures in a started call are not waited for past the deadline") {
  std::promise<int> never;
  auto p = settle::start(settle::any, settle::timeout(10ms), never.get_future());
  CHECK(kind_thrown([&] { return p.get(); }) == "timed_out");
}
