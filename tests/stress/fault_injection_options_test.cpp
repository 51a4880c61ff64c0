// Fault injection with call options (SPEC §5): executors that refuse or drop work under a
// limit. A limited call on an executor other than settle's pool launches one task as another
// returns; a refusal or a drop must settle its slot and launch the next. In every case every
// slot settles and is reported once by on_settled, the limit holds, nothing hangs (the
// watchdog). Deadlines and stop requests racing the tasks: fault_injection_expiry_test.cpp.
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "stress/options_fault_support.hpp"
#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/options_probes.hpp"

namespace {

using namespace settle_stress;
using clock_type = std::chrono::steady_clock;

// ---- refusing and dropping executors under a limit ---------------------------------------

/// n tasks under limit(limit) on an executor that refuses its k-th execute call (and every
/// later one with `and_after`): a limited call launches one task as another returns, in
/// argument order, so execute call c is task c - 1's.
template <class Inner>
void limited_refusal_round(Inner& inner, int n, int k, bool and_after, std::size_t limit) {
  INFO("n = " << n << ", limit " << limit << ", refused execute call k = " << k
              << (and_after ? " and every later one" : ""));
  const auto refused = [&](int i) { return i + 1 == k || (and_after && i + 1 > k); };
  std::vector<tiny_task> tasks;
  const auto make = [&](call_log& log) {
    tasks.clear();
    for (int i = 0; i < n; ++i) tasks.push_back(tiny_task{&log, i, false, 50});
  };
  const auto options = [&](call_log& log) { return log.progress() | settle::limit(limit); };
  const auto common = [&](call_log& log) {
    log.returned.store(true);
    CHECK(log.running.load() == 0);
    CHECK(log.peak.load() <= static_cast<int>(limit));
    for (int i = 0; i < n; ++i) {
      CHECK(log.at(i) <= 1);
      CHECK(log.reports_of(i) == 1);
      if (refused(i)) CHECK(log.at(i) == 0);
    }
  };
  {  // all_settled: exactly the refused slots reject, with the executor's exception.
    call_log log(n);
    make(log);
    const faulty_executor<Inner> ex(inner, k, and_after, fault_type::runtime_error);
    const auto rs = settle::all_settled(ex, options(log), tasks);
    common(log);
    CHECK(ex.calls() == n);
    for (int i = 0; i < n; ++i) {
      INFO("slot " << i);
      const auto& r = rs[static_cast<std::size_t>(i)];
      CHECK(log.status_of(i) == (r.is_fulfilled() ? 1 : 2));
      if (refused(i)) {
        CHECK(fault_call(r.reason()) == i + 1);
      } else {
        REQUIRE(r.is_fulfilled());
        CHECK(r.value() == i);
        CHECK(log.at(i) == 1);
      }
    }
  }
  {  // all: the first refusal.
    call_log log(n);
    make(log);
    const faulty_executor<Inner> ex(inner, k, and_after, fault_type::runtime_error);
    try {
      (void)settle::all(ex, options(log), tasks);
      CHECK(k > n);
    } catch (...) {
      CHECK(fault_call(std::current_exception()) == k);
    }
    common(log);
  }
  {  // any: a task that was not refused, or every refusal in order.
    call_log log(n);
    make(log);
    const faulty_executor<Inner> ex(inner, k, and_after, fault_type::runtime_error);
    try {
      const int v = settle::any(ex, options(log), tasks);
      CHECK((v >= 0 && v < n && !refused(v)));
    } catch (const settle::aggregate_error& e) {
      bool every_one_refused = true;
      for (int i = 0; i < n; ++i) every_one_refused = every_one_refused && refused(i);
      CHECK(every_one_refused);
      REQUIRE(e.reasons().size() == static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i)
        CHECK(fault_call(e.reasons()[static_cast<std::size_t>(i)]) == i + 1);
    }
    common(log);
  }
  {  // race: the value of a task that ran, or the first refusal.
    call_log log(n);
    make(log);
    const faulty_executor<Inner> ex(inner, k, and_after, fault_type::runtime_error);
    try {
      const int v = settle::race(ex, options(log), tasks);
      CHECK((v >= 0 && v < n && !refused(v)));
    } catch (...) {
      CHECK(fault_call(std::current_exception()) == k);
    }
    common(log);
  }
}

/// n tasks under limit(limit) on an executor that destroys its k-th job without running it
/// (inside execute, or `later` on another thread): that slot is cancelled, the rest run.
template <class Inner>
void limited_drop_round(Inner& inner, int n, int k, bool later, std::size_t limit) {
  INFO("n = " << n << ", limit " << limit << ", job " << k << " dropped "
              << (later ? "later, by another thread" : "inside execute"));
  call_log log(n);
  std::vector<tiny_task> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(tiny_task{&log, i, false, 50});
  const dropping_executor<Inner> ex(inner, k, later);
  const auto rs = settle::all_settled(ex, log.progress() | settle::limit(limit), tasks);
  log.returned.store(true);
  CHECK(log.running.load() == 0);
  CHECK(log.peak.load() <= static_cast<int>(limit));
  REQUIRE(rs.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    INFO("slot " << i);
    const auto& r = rs[static_cast<std::size_t>(i)];
    CHECK(log.reports_of(i) == 1);
    if (i == k - 1) {
      CHECK(settle_test::kind(r.reason()) == "cancelled");
      CHECK(log.at(i) == 0);
    } else {
      REQUIRE(r.is_fulfilled());
      CHECK(r.value() == i);
      CHECK(log.at(i) == 1);
    }
  }
  ex.join();
}

template <class Inner>
void limited_fault_rounds(Inner& inner) {
  for (int n : {1, 3, 6})
    for (std::size_t limit : {std::size_t{1}, std::size_t{2}, static_cast<std::size_t>(n)})
      for (int k = 1; k <= n + 1; ++k) {
        for (bool and_after : {false, true}) limited_refusal_round(inner, n, k, and_after, limit);
        if (k <= n)
          for (bool later : {false, true}) limited_drop_round(inner, n, k, later, limit);
      }
}

}  // namespace

TEST_CASE(
    "under a limit, an executor that refuses or drops its k-th job: every slot settles, the "
    "refused one with the executor's exception, the dropped one cancelled, the rest run",
    "[stress][faults][options]") {
  SECTION("in front of the inline executor") {
    settle::inline_executor inner;
    limited_fault_rounds(inner);
  }
  SECTION("in front of a thread_pool") {
    settle::thread_pool inner(2);
    for (int repeat = 0; repeat < 5 * scale(); ++repeat) limited_fault_rounds(inner);
  }
}
