// Call options of settle/options.hpp (SPEC §5): the deadline, the caller's stop token, and both
// on inline_executor.
#include <settle/options.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
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
using settle_test::stop_within_fallback;
using settle_test::until_stopped;

namespace {
using tasks_vector = std::vector<std::function<int()>>;
}  // namespace

// ---- the deadline ---------------------------------------------------------------------------

TEST_CASE("a deadline signals cooperative tasks, and all_settled keeps what settled before",
          "[unit]") {
  const auto start = clock_type::now();
  // The default executor's caller runs the last task at once, itself.
  auto [slow, fast] = settle::all_settled(settle::timeout(200ms), until_stopped, returns(7));
  const auto took = clock_type::now() - start;
  CHECK(kind(slow.reason()) == "timed_out");
  CHECK(fast.value() == 7);
  CHECK(took >= 200ms);
  CHECK(took < 2s);  // the task would have run 10 s
}

TEST_CASE("a task that ignores its token is waited for and settles timed_out whatever it gives",
          "[unit]") {
  // Both tasks run past the deadline without looking at their token (one returns a value,
  // one throws). A task not started by the deadline settles timed_out without running: it
  // is counted apart, so that a slow machine makes this test weaker, never wrong.
  const auto d = clock_type::now() + 100ms;
  std::atomic<int> started{0};
  std::atomic<int> returned{0};
  auto slow = [&] {
    ++started;
    std::this_thread::sleep_until(d + 100ms);
    ++returned;
    return 42;
  };
  auto slow_throw = [&]() -> int {
    ++started;
    std::this_thread::sleep_until(d + 100ms);
    ++returned;
    throw settle_test::test_error("late", 1);
  };
  // The caller runs the last task itself, at once: at least that one started.
  auto [a, b] = settle::all_settled(settle::deadline(d), slow, slow_throw);
  CHECK(started >= 1);
  CHECK(returned == started);  // structured: every task started returned before the call
  CHECK(clock_type::now() >= d + 100ms);
  CHECK(kind(a.reason()) == "timed_out");
  CHECK(kind(b.reason()) == "timed_out");
}

TEST_CASE("all, any and race throw timed_out when the deadline passes before they settle",
          "[unit]") {
  const auto fails = [] { return settle_test::fails(1); };
  CHECK(kind_thrown([&] {
          return settle::all(settle::timeout(50ms), until_stopped, returns(1));
        }) == "timed_out");
  CHECK(kind_thrown([&] { return settle::any(settle::timeout(50ms), until_stopped, fails); }) ==
        "timed_out");
  CHECK(kind_thrown([&] { return settle::race(settle::timeout(50ms), until_stopped); }) ==
        "timed_out");
  const std::vector<int> ids{1, 2};
  CHECK(kind_thrown([&] {
          return settle::any(settle::timeout(50ms), ids,
                             [](std::stop_token t, int) { return until_stopped(t); });
        }) == "timed_out");
}

TEST_CASE("all, any and race that settle before the deadline ignore it", "[unit]") {
  // The second task is a loser, run by the caller (which helps from the back): it runs
  // until the call signals it (the call has settled), then on past the deadline without
  // looking at its token. The first settles the call well within the deadline.
  const auto within = [] { return clock_type::now() + 300ms; };
  const auto loser_until = [](clock_type::time_point d) {
    return [d](std::stop_token token) {
      stop_within_fallback(token);
      std::this_thread::sleep_until(d + 50ms);
      return 0;
    };
  };
  const auto fails = [] { return settle_test::fails(3); };
  auto d = within();
  CHECK(settle::any(settle::deadline(d), returns(5), loser_until(d)) == 5);
  d = within();
  CHECK(settle::race(settle::deadline(d), returns(6), loser_until(d)) == 6);
  d = within();
  try {
    (void)settle::all(settle::deadline(d), fails, loser_until(d));
    FAIL("all returned");
  } catch (const settle_test::test_error& e) {
    CHECK(e.code == 3);
  }
  // Every task rejected before the deadline: that is what any reports.
  REQUIRE_THROWS_AS(settle::any(settle::timeout(1min), fails, fails), settle::aggregate_error);
}

TEST_CASE("a deadline already past, or a token already signalled, starts nothing", "[unit]") {
  std::atomic<int> ran{0};
  auto counted = [&] { return ++ran; };
  std::stop_source signalled;
  signalled.request_stop();
  const std::pair<options, const char*> cases[] = {
      {settle::deadline(clock_type::now() - 1s), "timed_out"},
      {settle::timeout(0s), "timed_out"},
      {settle::timeout(-5ms) | settle::limit(1), "timed_out"},
      {settle::stop_on(signalled.get_token()), "cancelled"},
  };
  for (const auto& c : cases) {
    const options& opts = c.first;  // not a structured binding: clang 14 cannot capture one
    const std::string reason = c.second;
    settle_test::manual_executor manual;
    auto [a, b] = settle::all_settled(opts, counted, counted);
    CHECK((kind(a.reason()) == reason && kind(b.reason()) == reason));
    auto [on_caller] = settle::all_settled(settle::inline_executor{}, opts, counted);
    CHECK(kind(on_caller.reason()) == reason);
    CHECK(kind(settle::all_settled(manual, opts, tasks_vector{counted, counted})[1].reason()) ==
          reason);
    CHECK(kind_thrown([&] { return settle::all(manual, opts, counted, counted); }) == reason);
    CHECK(kind_thrown([&] { return settle::any(opts, counted, counted); }) == reason);
    CHECK(kind_thrown([&] { return settle::race(manual, opts, counted); }) == reason);
    CHECK(manual.submitted() == 0);
  }
  CHECK(ran == 0);
}

TEST_CASE("a future not ready by the deadline settles timed_out and is not waited for", "[unit]") {
  std::promise<int> never;  // set only after the calls
  std::shared_future<int> shared = never.get_future().share();
  const auto start = clock_type::now();
  auto [f, t] = settle::all_settled(settle::timeout(200ms), shared, returns(1));
  CHECK(kind(f.reason()) == "timed_out");
  CHECK(t.value() == 1);
  CHECK(kind_thrown([&] { return settle::all(settle::timeout(20ms), shared); }) == "timed_out");
  CHECK(kind_thrown([&] { return settle::any(settle::timeout(20ms), shared); }) == "timed_out");
  CHECK(kind_thrown([&] { return settle::race(settle::timeout(20ms), shared, until_stopped); }) ==
        "timed_out");
  CHECK(clock_type::now() - start < 4s);
  never.set_value(0);
}

TEST_CASE("the call's deadline is the earlier of deadline and its start plus timeout", "[unit]") {
  const auto start = clock_type::now();
  auto [a] =
      settle::all_settled(settle::deadline(start + 10s) | settle::timeout(50ms), until_stopped);
  auto [b] =
      settle::all_settled(settle::timeout(10s) | settle::deadline(start + 50ms), until_stopped);
  CHECK(kind(a.reason()) == "timed_out");
  CHECK(kind(b.reason()) == "timed_out");
  CHECK(clock_type::now() - start < 4s);
}

TEST_CASE("a timeout too long for the clock is no deadline at all", "[unit]") {
  // 1000 years does not fit in steady_clock::duration (nanoseconds, about 292 years).
  auto [r] = settle::all_settled(settle::timeout(std::chrono::hours(24 * 365 * 1000)), returns(1));
  CHECK(r.is_fulfilled());
}

// ---- the caller's stop token ----------------------------------------------------------------

namespace {

/// Runs `call(opts, task, task)`, where `opts` holds a token that another thread signals
/// once both tasks run, and each task waits for its own token; what the call throws.
template <class Call>
std::string cancelled_while_running(Call call, std::atomic<int>& saw_stop) {
  std::stop_source src;
  settle_test::arrivals started;
  auto task = [&](std::stop_token token) {
    started.arrive();
    saw_stop += stop_within_fallback(token) ? 1 : 0;
    return 1;
  };
  std::thread canceller([&] {
    started.wait_for(2);
    src.request_stop();
  });
  std::string thrown = kind_thrown([&] { return call(settle::stop_on(src.get_token()), task); });
  canceller.join();
  return thrown;
}

}  // namespace

TEST_CASE("a stop requested during the call signals running tasks and settles it cancelled",
          "[unit]") {
  std::atomic<int> saw_stop{0};
  std::string outcomes;
  const auto all_settled = [&](const options& o, auto task) {
    auto [a, b] = settle::all_settled(o, task, task);
    outcomes = kind(a.reason()) + "," + kind(b.reason());
    return 0;
  };
  CHECK(cancelled_while_running(all_settled, saw_stop) == "none");
  CHECK(outcomes == "cancelled,cancelled");
  CHECK(cancelled_while_running(
            [](const options& o, auto task) { return settle::all(o, task, task); }, saw_stop) ==
        "cancelled");
  CHECK(cancelled_while_running(
            [](const options& o, auto task) { return settle::any(o, task, task); }, saw_stop) ==
        "cancelled");
  settle::thread_pool pool(2);
  CHECK(cancelled_while_running(
            [&](const options& o, auto task) { return settle::race(pool, o, task, task); },
            saw_stop) == "cancelled");
  CHECK(saw_stop == 8);
}

TEST_CASE("a task that hands its token to an inner call's stop_on cancels the inner tree",
          "[unit]") {
  std::stop_source src;
  settle_test::arrivals inner_started;
  std::atomic<int> inner_saw_stop{0};
  std::string inner_kinds;
  auto inner = [&](std::stop_token token) {
    inner_started.arrive();
    inner_saw_stop += stop_within_fallback(token) ? 1 : 0;
    return 1;
  };
  auto outer = [&](std::stop_token token) {
    auto [a, b] = settle::all_settled(settle::stop_on(token), inner, inner);
    inner_kinds = kind(a.reason()) + "," + kind(b.reason());
    return 0;
  };
  std::thread canceller([&] {
    inner_started.wait_for(2);
    src.request_stop();
  });
  auto [r] = settle::all_settled(settle::stop_on(src.get_token()), outer);
  canceller.join();
  CHECK(kind(r.reason()) == "cancelled");
  CHECK(inner_saw_stop == 2);
  CHECK(inner_kinds == "cancelled,cancelled");
}

// ---- inline_executor -------------------------------------------------------------------------

TEST_CASE("inline_executor with options runs the tasks one after another on the caller", "[unit]") {
  settle_test::event_log log;
  const auto caller = std::this_thread::get_id();
  auto task = [&](int i) {
    return [&, i] {
      log.add(std::this_thread::get_id() == caller ? i : -1);
      return i;
    };
  };
  CHECK(settle::all(settle::inline_executor{}, settle::limit(2) | settle::timeout(1min), task(0),
                    task(1), task(2)) == std::tuple(0, 1, 2));
  CHECK(log.events() == std::vector{0, 1, 2});
}

TEST_CASE("on inline_executor a deadline passing during a task times it out and starts no more",
          "[unit]") {
  const auto d = clock_type::now() + 50ms;
  std::atomic<int> second_ran{0};
  auto first = [d] {
    std::this_thread::sleep_until(d + 20ms);
    return 1;
  };
  auto second = [&] { return ++second_ran; };
  auto [a, b] = settle::all_settled(settle::inline_executor{}, settle::deadline(d), first, second);
  CHECK(kind(a.reason()) == "timed_out");
  CHECK(kind(b.reason()) == "timed_out");
  CHECK(kind_thrown([&] {
          return settle::any(settle::inline_executor{}, settle::deadline(d), first, second);
        }) == "timed_out");
  CHECK(second_ran == 0);
}

TEST_CASE("on inline_executor the stop token is checked as a task returns and before the next",
          "[unit]") {
  std::stop_source src;
  std::atomic<int> second_ran{0};
  auto first = [&] {
    src.request_stop();
    return 1;
  };
  auto second = [&] { return ++second_ran; };
  auto [a, b] = settle::all_settled(settle::inline_executor{}, settle::stop_on(src.get_token()),
                                    first, second);
  CHECK(kind(a.reason()) == "cancelled");
  CHECK(kind(b.reason()) == "cancelled");
  CHECK(second_ran == 0);
}

TEST_CASE("on inline_executor a future not ready by the deadline is not waited for", "[unit]") {
  std::promise<int> late;
  settle_test::gate call_returned;
  // Sets the promise once the call has returned; a call that waits for it gets it after 3 s.
  std::thread setter([&] {
    for (int i = 0; i < 300 && !call_returned.is_open(); ++i) std::this_thread::sleep_for(10ms);
    late.set_value(1);
  });
  const auto start = clock_type::now();
  auto [f] =
      settle::all_settled(settle::inline_executor{}, settle::timeout(50ms), late.get_future());
  const auto took = clock_type::now() - start;
  call_returned.open();
  setter.join();
  CHECK(kind(f.reason()) == "timed_out");
  CHECK(took < 2s);
}
