// Call options of settle/options.hpp (SPEC §5): the options themselves, every form that takes
// them, and progress (on_settled).
#include <settle/options.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <settle/settle.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/options_probes.hpp"
#include "support/probes.hpp"

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using settle::options;
using settle_test::kind;
using settle_test::kind_thrown;
using settle_test::returns;
using settle_test::until_stopped;

namespace {

template <class... Args>
concept can_all_settled =
    requires(Args&&... args) { settle::all_settled(std::forward<Args>(args)...); };
template <class... Args>
concept can_any = requires(Args&&... args) { settle::any(std::forward<Args>(args)...); };

using int_task = settle_test::int_task;
using tasks_vector = std::vector<std::function<int()>>;

/// Runs each job on the caller during `execute`, and counts them: a foreign executor whose
/// use a test can see.
struct counting_executor {
  std::atomic<int>* executed;
  template <class F>
  void execute(F&& f) const {
    ++*executed;
    std::forward<F>(f)();
  }
};

}  // namespace

// ---- the options themselves ------------------------------------------------------------------

static_assert(std::is_base_of_v<settle::cancelled, settle::timed_out>);
// Options go after the executor and before the tasks, nowhere else (tests/compile_fail pins
// the diagnostics).
static_assert(can_all_settled<options, int_task>);
static_assert(can_all_settled<settle::thread_pool&, const options&, int_task>);
static_assert(!can_all_settled<options, settle::thread_pool&, int_task>);
static_assert(!can_all_settled<int_task, options>);
static_assert(!can_all_settled<options, options, int_task>);
static_assert(!can_any<options>);
static_assert(!can_any<settle::inline_executor&, options>);
static_assert(std::is_same_v<decltype(settle::all_settled(options{})), std::tuple<>>);
static_assert(
    std::is_same_v<decltype(settle::all(settle::inline_executor{}, options{})), std::tuple<>>);
static_assert(
    std::is_same_v<decltype(settle::all_settled(options{}, std::declval<tasks_vector&>())),
                   std::vector<settle::settled<int>>>);
static_assert(std::is_same_v<decltype(settle::any(options{}, std::declval<std::vector<int>&>(),
                                                  [](std::stop_token, int) { return 1.0; })),
                             double>);

TEST_CASE("limit(n) sets max_concurrency, and limit(0) throws std::invalid_argument", "[unit]") {
  CHECK(settle::limit(3).max_concurrency == 3);
  CHECK_FALSE(settle::limit(3).timeout.has_value());
  REQUIRE_THROWS_AS(settle::limit(0), std::invalid_argument);
  CHECK(options{}.max_concurrency == 0);
}

TEST_CASE("timeout, deadline, stop_on and on_settled each set their one field", "[unit]") {
  CHECK(settle::timeout(250ms).timeout == clock_type::duration(250ms));
  CHECK(settle::timeout(std::chrono::duration<double>(0.5)).timeout == clock_type::duration(500ms));
  CHECK_FALSE(settle::timeout(1s).deadline.has_value());
  const auto t = clock_type::now() + 1s;
  CHECK(settle::deadline(t).deadline == t);
  CHECK(settle::deadline(t).max_concurrency == 0);
  std::stop_source src;
  CHECK(settle::stop_on(src.get_token()).stop == src.get_token());
  int seen = -1;
  const options o = settle::on_settled([&](std::size_t i, settle::status) { seen = int(i); });
  o.on_settled(4, settle::status::fulfilled);
  CHECK(seen == 4);
  CHECK_FALSE(o.stop.stop_possible());
}

TEST_CASE("operator| replaces each field b sets and keeps the ones b leaves unset", "[unit]") {
  std::stop_source src_a;
  std::stop_source src_b;
  int called = 0;
  const auto t = clock_type::now() + 1h;
  const options a = settle::limit(2) | settle::timeout(1s) | settle::deadline(t) |
                    settle::stop_on(src_a.get_token()) |
                    settle::on_settled([&](std::size_t, settle::status) { called = 1; });
  CHECK(a.max_concurrency == 2);
  CHECK(a.timeout == clock_type::duration(1s));
  CHECK(a.deadline == t);
  CHECK(a.stop == src_a.get_token());

  const options kept = a | options{};
  CHECK(kept.max_concurrency == 2);
  CHECK(kept.timeout == clock_type::duration(1s));
  CHECK(kept.deadline == t);
  CHECK(kept.stop == src_a.get_token());
  kept.on_settled(0, settle::status::rejected);
  CHECK(called == 1);

  const options replaced = a | settle::limit(5) | settle::timeout(2s) | settle::deadline(t + 1s) |
                           settle::stop_on(src_b.get_token()) |
                           settle::on_settled([&](std::size_t, settle::status) { called = 2; });
  CHECK(replaced.max_concurrency == 5);
  CHECK(replaced.timeout == clock_type::duration(2s));
  CHECK(replaced.deadline == t + 1s);
  CHECK(replaced.stop == src_b.get_token());
  replaced.on_settled(0, settle::status::rejected);
  CHECK(called == 2);
}

TEST_CASE("operator| keeps a's stop token when b's token cannot be stopped", "[unit]") {
  std::stop_source src;
  const options a = settle::stop_on(src.get_token());
  CHECK((a | settle::stop_on(std::stop_token{})).stop == src.get_token());
  CHECK((a | settle::stop_on(std::stop_source(std::nostopstate).get_token())).stop ==
        src.get_token());
}

TEST_CASE("timed_out is a cancelled, with its own message", "[unit]") {
  REQUIRE_THROWS_AS(throw settle::timed_out{}, settle::cancelled);
  CHECK(std::string(settle::timed_out{}.what()) != settle::cancelled{}.what());
}

// ---- every form takes options ---------------------------------------------------------------

TEST_CASE("every combinator takes options in each of its six forms", "[unit]") {
  settle_test::progress<3> seen;
  std::atomic<int> executed{0};
  // const: its execute is const, so a const executor is an executor too.
  const counting_executor ex{&executed};
  const tasks_vector tasks{returns(1), returns(2), returns(3)};
  const std::vector<int> ids{1, 2, 3};
  const auto same = [](int v) { return v; };
  const options opts = settle::limit(2) | seen.options();
  // After each call: every slot reported once (the options were used), and through `ex`
  // when it was given: `n` jobs.
  const auto used = [&](int n) {
    const bool ok = seen.each_once(3) && executed == n;
    seen.reset();
    executed = 0;
    return ok;
  };

  SECTION("all_settled") {
    auto [a, b, c] = settle::all_settled(opts, returns(1), returns(2), returns(3));
    CHECK((a.value() == 1 && b.value() == 2 && c.value() == 3));
    CHECK(used(0));
    auto [d, e, f] = settle::all_settled(ex, opts, returns(1), returns(2), returns(3));
    CHECK((d.value() == 1 && e.value() == 2 && f.value() == 3));
    CHECK(used(3));
    CHECK(settle::all_settled(opts, tasks)[2].value() == 3);
    CHECK(used(0));
    CHECK(settle::all_settled(ex, opts, tasks)[2].value() == 3);
    CHECK(used(3));
    CHECK(settle::all_settled(opts, ids, same)[1].value() == 2);
    CHECK(used(0));
    CHECK(settle::all_settled(ex, opts, ids, same)[1].value() == 2);
    CHECK(used(3));
  }
  SECTION("all") {
    CHECK(settle::all(opts, returns(1), returns(2), returns(3)) == std::tuple(1, 2, 3));
    CHECK(used(0));
    CHECK(settle::all(ex, opts, returns(1), returns(2), returns(3)) == std::tuple(1, 2, 3));
    CHECK(used(3));
    CHECK(settle::all(opts, tasks) == std::vector{1, 2, 3});
    CHECK(used(0));
    CHECK(settle::all(ex, opts, tasks) == std::vector{1, 2, 3});
    CHECK(used(3));
    CHECK(settle::all(opts, ids, same) == std::vector{1, 2, 3});
    CHECK(used(0));
    // SPEC §5's own way to write options: designated initializers, other fields left out.
    CHECK(settle::all(ex, options{.max_concurrency = 4, .timeout = 1min}, ids, same) ==
          std::vector{1, 2, 3});
    CHECK(executed == 3);
  }
  // The first task settles first on `ex`, which runs it during `execute`: `any` and `race`
  // need no other job, and the other slots are reported cancelled.
  SECTION("any") {
    const auto one_of = [](int v) { return v >= 1 && v <= 3; };
    CHECK(one_of(settle::any(opts, returns(1), returns(2), returns(3))));
    CHECK(used(0));
    CHECK(settle::any(ex, opts, returns(1), returns(2), returns(3)) == 1);
    CHECK(used(1));
    CHECK(one_of(settle::any(opts, tasks)));
    CHECK(used(0));
    CHECK(settle::any(ex, opts, tasks) == 1);
    CHECK(used(1));
    CHECK(one_of(settle::any(opts, ids, same)));
    CHECK(used(0));
    CHECK(settle::any(ex, opts, ids, same) == 1);
    CHECK(used(1));
  }
  SECTION("race") {
    const auto one_of = [](int v) { return v >= 1 && v <= 3; };
    CHECK(one_of(settle::race(opts, returns(1), returns(2), returns(3))));
    CHECK(used(0));
    CHECK(settle::race(ex, opts, returns(1), returns(2), returns(3)) == 1);
    CHECK(used(1));
    CHECK(one_of(settle::race(opts, tasks)));
    CHECK(used(0));
    CHECK(settle::race(ex, opts, tasks) == 1);
    CHECK(used(1));
    CHECK(one_of(settle::race(opts, ids, same)));
    CHECK(used(0));
    CHECK(settle::race(ex, opts, ids, same) == 1);
    CHECK(used(1));
  }
}

TEST_CASE("all_settled and all with options and no tasks return an empty tuple", "[unit]") {
  settle::thread_pool pool(1);
  const std::tuple<> a = settle::all_settled(settle::limit(2));
  const std::tuple<> b = settle::all(pool, settle::timeout(1s));
  const std::tuple<> c = settle::all_settled(settle::inline_executor{}, options{});
  (void)a, (void)b, (void)c;
  // And the forms without options keep their meaning.
  CHECK(settle::all(pool, returns(4), returns(5)) == std::tuple(4, 5));
  CHECK(settle::race(tasks_vector{returns(6)}) == 6);
}

// ---- progress --------------------------------------------------------------------------------

TEST_CASE("on_settled reports every slot once before the call returns, for every combinator",
          "[unit]") {
  settle_test::progress<3> seen;
  std::atomic<int> ran{0};
  auto counted = [&] { return ++ran; };
  const auto fails = [] { return settle_test::fails(0); };
  // Under limit(1) the first task settles the call: the others never start, and are
  // reported rejected (timed out, cancelled) all the same.
  const options opts = settle::limit(1) | seen.options();
  auto [a, b, c] =
      settle::all_settled(opts | settle::timeout(50ms), until_stopped, counted, counted);
  CHECK((seen.each_once(3) && seen.rejected(0) && seen.rejected(1) && seen.rejected(2)));
  CHECK(kind(a.reason()) + kind(b.reason()) + kind(c.reason()) == "timed_outtimed_outtimed_out");
  seen.reset();
  CHECK(kind_thrown([&] { return settle::all(opts, fails, counted, counted); }) == "other");
  CHECK((seen.each_once(3) && seen.rejected(0) && seen.rejected(2)));
  seen.reset();
  CHECK(settle::any(opts, returns(1), counted, counted) == 1);
  CHECK((seen.each_once(3) && seen.fulfilled(0) && seen.rejected(1)));
  seen.reset();
  CHECK(kind_thrown([&] { return settle::race(opts, fails, counted, counted); }) == "other");
  CHECK((seen.each_once(3) && seen.rejected(0) && seen.rejected(1)));
  seen.reset();
  CHECK(settle::all_settled(seen.options(), tasks_vector{returns(1), fails}).size() == 2);
  CHECK((seen.each_once(2) && seen.fulfilled(0) && seen.rejected(1)));
  CHECK(ran == 0);
}

TEST_CASE("on_settled reports futures too, a pending one any or race leaves as rejected",
          "[unit]") {
  settle_test::progress<3> seen;
  std::promise<int> set_by_task;
  std::promise<int> never;  // set only after the calls
  std::shared_future<int> pending = never.get_future().share();
  auto [f, t] = settle::all_settled(seen.options(), set_by_task.get_future(), [&] {
    set_by_task.set_value(3);
    return 1;
  });
  CHECK(f.value() == 3);
  CHECK((seen.each_once(2) && seen.fulfilled(0) && seen.fulfilled(1)));
  seen.reset();
  CHECK(settle::any(seen.options(), pending, returns(2)) == 2);
  CHECK((seen.each_once(2) && seen.rejected(0) && seen.fulfilled(1)));
  seen.reset();
  CHECK(settle::race(seen.options(), returns(4), pending, pending) == 4);
  CHECK((seen.each_once(3) && seen.fulfilled(0) && seen.rejected(1) && seen.rejected(2)));
  seen.reset();
  auto [late] = settle::all_settled(seen.options() | settle::timeout(20ms), pending);
  CHECK(kind(late.reason()) == "timed_out");
  CHECK((seen.each_once(1) && seen.rejected(0)));
  never.set_value(0);
}

TEST_CASE("on_settled is destroyed before the call returns, like every callable it was handed",
          "[unit]") {
  // What the call was handed, it releases before returning, on the caller's thread (as it
  // does a map's function): here even while a losing future is still pending, or the
  // deadline's timer has not been called off yet.
  settle_test::counters c;
  std::promise<int> never;  // set only after the calls
  std::shared_future<int> pending = never.get_future().share();
  {
    const settle_test::counted probe(c, 1);
    auto report = [probe](std::size_t, settle::status) { (void)probe; };
    CHECK(settle::any(settle::on_settled(report), pending, returns(2)) == 2);
    CHECK(c.live() == 2);  // `probe` and `report`'s copy: the call kept none
    auto [r] = settle::all_settled(settle::on_settled(report) | settle::timeout(1min), returns(3));
    CHECK(r.value() == 3);
    CHECK(c.live() == 2);
  }
  never.set_value(0);
}
