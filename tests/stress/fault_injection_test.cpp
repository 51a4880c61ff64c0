// Fault injection: executors that refuse or drop work. Results whose move constructor
// throws, tasks that throw while their stop_token is being signalled and std::bad_alloc from
// the task itself: fault_injection_results_test.cpp; range elements that throw:
// fault_injection_ranges_test.cpp. In every case: every task that started is waited for,
// every slot settles, the failure reaches the caller, nothing leaks (LeakSanitizer in the
// asan build, live counts here) and nothing hangs (the watchdog).
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "stress/fault_log.hpp"
#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"

namespace {

using namespace settle_stress;
using settle_test::holds;

/// A task that returns its index.
struct index_task {
  task_log* log;
  int index;
  int operator()() const {
    in_body body(*log, index);
    return index;
  }
};

std::vector<index_task> index_tasks(task_log& log) {
  std::vector<index_task> tasks;
  for (int i = 0; i < log.size; ++i) tasks.push_back(index_task{&log, i});
  return tasks;
}

/// The call number a refusal of task `i` carries (bad_alloc carries none).
int expected_call(fault_type type, int i) { return type == fault_type::bad_alloc ? 0 : i + 1; }

long long faults_injected = 0;  // summed over the test cases, for the figures line

// ---- executors that refuse --------------------------------------------------------------

template <class Inner>
void refusal_round(Inner& inner, bool in_order, int n, int k, bool and_after, fault_type type) {
  INFO("n = " << n << ", refused execute call k = " << k
              << (and_after ? " and every later one" : "") << ", fault type "
              << static_cast<int>(type) << (in_order ? ", inline" : ", pool"));
  const auto refused = [&](int i) { return i + 1 == k || (and_after && i + 1 > k); };
  const int first_refused = k <= n ? k - 1 : -1;

  {  // all_settled: exactly the refused slots reject, with the executor's exception.
    task_log log(n);
    const faulty_executor<Inner> ex(inner, k, and_after, type);
    const auto tasks = index_tasks(log);
    const auto rs = settle::all_settled(ex, tasks);
    CHECK(log.running.load() == 0);
    CHECK(ex.calls() == n);  // every task is handed to the executor, in order
    REQUIRE(rs.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      INFO("slot " << i);
      const auto& r = rs[static_cast<std::size_t>(i)];
      if (refused(i)) {
        CHECK(r.is_rejected());
        CHECK(fault_call(r.reason()) == expected_call(type, i));
        CHECK(log.started_at(i) == 0);
      } else {
        REQUIRE(r.is_fulfilled());
        CHECK(r.value() == i);
        CHECK(log.started_at(i) == 1);
      }
    }
    faults_injected += ex.refused();
  }

  {  // all: the first refusal is the first rejection; nothing after it is handed out.
    task_log log(n);
    const faulty_executor<Inner> ex(inner, k, and_after, type);
    const auto tasks = index_tasks(log);
    try {
      const auto values = settle::all(ex, tasks);
      CHECK(first_refused == -1);
      CHECK(values.size() == static_cast<std::size_t>(n));
    } catch (...) {
      CHECK(first_refused != -1);
      CHECK(fault_call(std::current_exception()) == expected_call(type, first_refused));
    }
    CHECK(log.running.load() == 0);
    CHECK(log.finished.load() == log.started_total());
    for (int i = 0; i < n; ++i) {
      INFO("task " << i);
      CHECK(log.started_at(i) <= 1);
      if (first_refused != -1 && i >= first_refused) CHECK(log.started_at(i) == 0);
      if (in_order && (first_refused == -1 || i < first_refused)) CHECK(log.started_at(i) == 1);
    }
    faults_injected += ex.refused();
  }

  {  // any: a task that was not refused wins; if every task was refused, all reasons, in order.
    task_log log(n);
    const faulty_executor<Inner> ex(inner, k, and_after, type);
    const auto tasks = index_tasks(log);
    int lowest_accepted = -1;
    for (int i = n - 1; i >= 0; --i)
      if (!refused(i)) lowest_accepted = i;
    try {
      const int v = settle::any(ex, tasks);
      REQUIRE(lowest_accepted != -1);
      CHECK((v >= 0 && v < n && !refused(v)));
      if (in_order) CHECK(v == lowest_accepted);
    } catch (const settle::aggregate_error& e) {
      CHECK(lowest_accepted == -1);
      REQUIRE(e.reasons().size() == static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i)
        CHECK(fault_call(e.reasons()[static_cast<std::size_t>(i)]) == expected_call(type, i));
    }
    CHECK(log.running.load() == 0);
    CHECK(log.finished.load() == log.started_total());
    faults_injected += ex.refused();
  }

  {  // race: a value of a task that ran, or the first refusal.
    task_log log(n);
    const faulty_executor<Inner> ex(inner, k, and_after, type);
    const auto tasks = index_tasks(log);
    try {
      const int v = settle::race(ex, tasks);
      CHECK((v >= 0 && v < n && !refused(v)));
      if (in_order) {
        CHECK(k != 1);
        CHECK(v == 0);
      }
    } catch (...) {
      CHECK(first_refused != -1);
      CHECK(fault_call(std::current_exception()) == expected_call(type, first_refused));
      if (in_order) CHECK(k == 1);
    }
    CHECK(log.running.load() == 0);
    CHECK(log.finished.load() == log.started_total());
    faults_injected += ex.refused();
  }
}

template <class Inner>
void refusal_rounds(Inner& inner, bool in_order) {
  for (int n : {1, 2, 5, 16})
    for (int k = 1; k <= n + 1; ++k)
      for (bool and_after : {false, true})
        for (fault_type type :
             {fault_type::runtime_error, fault_type::bad_alloc, fault_type::foreign})
          refusal_round(inner, in_order, n, k, and_after, type);
}

TEST_CASE(
    "an executor that refuses its k-th task, for every k: that slot rejects with the executor's "
    "exception and the rest is waited for",
    "[stress][faults]") {
  const long long before = faults_injected;
  SECTION("refusals in front of the inline executor") {
    settle::inline_executor inner;
    refusal_rounds(inner, true);
  }
  SECTION("refusals in front of a thread_pool") {
    settle::thread_pool inner(2);
    refusal_rounds(inner, false);
  }
  report_figure("executor refusals injected: " + std::to_string(faults_injected - before));
}

// ---- executors that drop work -----------------------------------------------------------

template <class Inner>
void dropping_rounds(Inner& inner, bool in_order, long long& dropped) {
  for (int n : {1, 3, 8})
    for (int k = 1; k <= n; ++k)
      for (bool later : {false, true}) {
        INFO("n = " << n << ", job " << k << " dropped "
                    << (later ? "later, by another thread" : "inside execute"));
        {
          task_log log(n);
          const dropping_executor<Inner> ex(inner, k, later);
          const auto tasks = index_tasks(log);
          const auto rs = settle::all_settled(ex, tasks);
          CHECK(log.running.load() == 0);
          REQUIRE(rs.size() == static_cast<std::size_t>(n));
          for (int i = 0; i < n; ++i) {
            INFO("slot " << i);
            const auto& r = rs[static_cast<std::size_t>(i)];
            if (i == k - 1) {
              CHECK(holds<settle::cancelled>(r.reason()));
              CHECK(log.started_at(i) == 0);
            } else {
              REQUIRE(r.is_fulfilled());
              CHECK(r.value() == i);
            }
          }
          ex.join();
          dropped += ex.dropped();
        }
        {
          task_log log(n);
          const dropping_executor<Inner> ex(inner, k, later);
          const auto tasks = index_tasks(log);
          CHECK_THROWS_AS(settle::all(ex, tasks), settle::cancelled);
          CHECK(log.running.load() == 0);
          ex.join();
          dropped += ex.dropped();
        }
        {
          task_log log(n);
          const dropping_executor<Inner> ex(inner, k, later);
          const auto tasks = index_tasks(log);
          try {
            const int v = settle::any(ex, tasks);
            CHECK(v != k - 1);
            if (in_order) CHECK(v == (k == 1 ? 1 : 0));
          } catch (const settle::aggregate_error& e) {
            CHECK(n == 1);
            REQUIRE(e.reasons().size() == 1);
            CHECK(holds<settle::cancelled>(e.reasons()[0]));
          }
          CHECK(log.running.load() == 0);
          ex.join();
          dropped += ex.dropped();
        }
      }
}

TEST_CASE(
    "an executor that destroys a job without running it: that slot rejects with settle::cancelled",
    "[stress][faults]") {
  long long dropped = 0;
  SECTION("dropping in front of the inline executor") {
    settle::inline_executor inner;
    dropping_rounds(inner, true, dropped);
  }
  SECTION("dropping in front of a thread_pool") {
    settle::thread_pool inner(2);
    dropping_rounds(inner, false, dropped);
  }
  faults_injected += dropped;
  report_figure("jobs dropped by an executor: " + std::to_string(dropped));
}

TEST_CASE("fault injection figures", "[stress][faults]") {
  report_figure("faults injected in total (refusals, drops): " + std::to_string(faults_injected));
}

}  // namespace
