// Fault injection with call options (SPEC §5): deadlines of 0-200 us and stop requests from
// another thread at random moments, racing the completions and launches of tiny tasks, on
// settle's pools, the inline executor and an executor that takes one job per task (and may
// refuse one). Each round draws its parameters from a seed, which a failure names. In every
// round: every slot settles and is reported once by on_settled before the call returns, no task
// starts after it returned, the limit holds, outcomes are consistent with what happened
// (timed_out only once the deadline passed, cancelled only once the stop was requested, one
// of the two per call), and nothing hangs (the watchdog).
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

/// Requests a stop on a stop_source at a set moment, from a thread of its own that lives as
/// long as the test (a thread per call would cost more than the calls).
class stopper {
 public:
  stopper() : thread_([this] { loop(); }) {}
  ~stopper() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  stopper(const stopper&) = delete;
  stopper& operator=(const stopper&) = delete;

  /// Requests a stop on `source` once `delay` has passed, unless disarmed first.
  void arm(std::stop_source source, std::chrono::nanoseconds delay) {
    {
      std::lock_guard lock(mutex_);
      source_ = std::move(source);
      due_ = clock_type::now() + delay;
      issued_ = false;
      armed_.store(true);
    }
    cv_.notify_all();
  }
  /// The call has returned: cancels the request if it is not made yet, and says whether it
  /// was made (then `issued_at()` says when: just before `request_stop`).
  bool disarm() {
    std::unique_lock lock(mutex_);
    armed_.store(false);
    cv_.wait(lock, [this] { return !busy_; });
    return issued_;
  }
  [[nodiscard]] clock_type::time_point issued_at() const { return issued_at_; }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return quit_ || armed_.load(); });
      if (quit_) return;
      busy_ = true;
      const auto due = due_;
      lock.unlock();
      // Microseconds matter here: wait by yielding, not by sleeping.
      while (armed_.load() && clock_type::now() < due) std::this_thread::yield();
      lock.lock();
      if (armed_.load()) {
        issued_at_ = clock_type::now();
        issued_ = true;
        armed_.store(false);
        std::stop_source source = source_;
        lock.unlock();
        source.request_stop();  // runs the call's stop callback on this thread
        lock.lock();
      }
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::stop_source source_{std::nostopstate};
  clock_type::time_point due_{};
  clock_type::time_point issued_at_{};
  std::atomic<bool> armed_{false};
  bool issued_ = false;
  bool busy_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

/// splitmix64, so that a failure names a seed that reproduces the drawn parameters.
struct rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int between(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

/// "timed_out", "cancelled", "refused", "task", or "other".
std::string kind_of(const std::exception_ptr& e) {
  const std::string k = settle_test::kind(e);
  if (k != "other") return k;
  if (fault_call(e) >= 0) return "refused";
  try {
    std::rethrow_exception(e);
  } catch (const task_failure&) {
    return "task";
  } catch (...) {
    return "other";
  }
}

/// What one call was given, and what the test knows about when its expiry could happen.
struct drawn_call {
  int n = 0;
  std::size_t limit = 0;
  std::optional<std::chrono::microseconds> timeout;
  std::optional<std::chrono::microseconds> stop_after;
  std::vector<bool> fails;
  int work = 0;
  int refuse_at = 0;  // 1-based execute call that throws, 0: none (foreign executors only)
};

drawn_call draw(rng& r, bool foreign) {
  drawn_call d;
  d.n = r.between(1, 12);
  if (r.between(0, 2) != 0) d.limit = static_cast<std::size_t>(r.between(1, d.n + 1));
  // Half the moments within the first 20 us: the tasks are tiny, and the launches are there.
  const auto moment = [&] {
    return std::chrono::microseconds(r.between(0, r.between(0, 1) == 0 ? 20 : 200));
  };
  if (r.between(0, 3) != 0) d.timeout = moment();
  if (r.between(0, 2) != 0) d.stop_after = moment();
  const int fail_percent = r.between(0, 2) * 40;
  for (int i = 0; i < d.n; ++i) d.fails.push_back(r.between(0, 99) < fail_percent);
  d.work = r.between(0, 2) == 0 ? 0 : r.between(1, 2000);
  if (foreign && r.between(0, 3) == 0) d.refuse_at = r.between(1, d.n);
  return d;
}

/// How often each kind of outcome was seen, for the figures line: the races must happen.
std::atomic<long long> seen_timed_out{0};
std::atomic<long long> seen_cancelled{0};
std::atomic<long long> seen_refused{0};

/// Consistency of one call's outcome with what happened; returns the first problem, or "".
struct judge {
  const drawn_call& d;
  const call_log& log;
  bool deadline_passed;  // when the call returned
  bool stop_issued;      // before the call returned
  std::string problem;

  void fail(const std::string& what) {
    if (problem.empty()) problem = what;
  }
  /// A reason of slot i (all_settled) or what the call threw.
  void reason(const std::string& kind, int i) {
    if (kind == "timed_out") seen_timed_out.fetch_add(1);
    if (kind == "cancelled") seen_cancelled.fetch_add(1);
    if (kind == "refused") seen_refused.fetch_add(1);
    if (kind == "timed_out" && !deadline_passed) fail("timed_out before the deadline");
    if (kind == "cancelled" && !stop_issued) fail("cancelled without a stop request");
    if (kind == "refused" && d.refuse_at != i + 1) fail("a refusal on the wrong slot");
    if (kind == "task" && (i < 0 || !d.fails[static_cast<std::size_t>(i)]))
      fail("a task failure from a task that does not fail");
    if (kind == "other") fail("an exception of an unexpected type");
  }
  void common() {
    if (log.running.load() != 0) fail("returned while a task was running");
    if (log.late.load() != 0) fail("a task started, or a slot was reported, after the return");
    if (d.limit != 0 && log.peak.load() > static_cast<int>(d.limit)) fail("the limit was exceeded");
    for (int i = 0; i < d.n; ++i) {
      if (log.at(i) > 1) fail("a task ran twice");
      if (log.reports_of(i) != 1) fail("a slot was not reported exactly once");
    }
  }
};

template <class Ex>
std::string expiry_round(Ex& ex, stopper& stop, std::uint64_t seed, bool foreign) {
  rng r{seed};
  const drawn_call d = draw(r, foreign);
  const int which = r.between(0, 3);
  call_log log(d.n);
  std::vector<tiny_task> tasks;
  for (int i = 0; i < d.n; ++i)
    tasks.push_back(
        tiny_task{&log, i, static_cast<bool>(d.fails[static_cast<std::size_t>(i)]), d.work});
  std::stop_source source;
  settle::options opts = log.progress();
  if (d.limit != 0) opts = opts | settle::limit(d.limit);
  if (d.timeout) opts = opts | settle::timeout(*d.timeout);
  if (d.stop_after) opts = opts | settle::stop_on(source.get_token());
  const faulty_executor<Ex> refusing(ex, d.refuse_at, false, fault_type::runtime_error);
  const auto start = clock_type::now();
  if (d.stop_after) stop.arm(source, *d.stop_after);

  std::vector<settle::settled<int>> slots;
  std::optional<int> value;
  std::exception_ptr error;
  try {
    const auto call = [&](auto& on) {
      switch (which) {
        case 0:
          slots = settle::all_settled(on, std::move(opts), tasks);
          break;
        case 1:
          (void)settle::all(on, std::move(opts), tasks);
          break;
        case 2:
          value = settle::any(on, std::move(opts), tasks);
          break;
        default:
          value = settle::race(on, std::move(opts), tasks);
          break;
      }
    };
    if (foreign)
      call(refusing);
    else
      call(ex);
  } catch (...) {
    error = std::current_exception();
  }
  log.returned.store(true);
  const auto returned_at = clock_type::now();
  judge j{
      d, log, d.timeout && returned_at >= start + *d.timeout, d.stop_after && stop.disarm(), {}};
  j.common();
  if (which == 0) {
    bool timed = false;
    bool stopped = false;
    for (int i = 0; i < d.n; ++i) {
      const auto& s = slots[static_cast<std::size_t>(i)];
      if (log.status_of(i) != (s.is_fulfilled() ? 1 : 2)) j.fail("reported with another status");
      if (s.is_fulfilled()) {
        if (s.value() != i || log.at(i) != 1) j.fail("a value that its task did not return");
        continue;
      }
      const std::string kind = kind_of(s.reason());
      timed = timed || kind == "timed_out";
      stopped = stopped || kind == "cancelled";
      j.reason(kind, i);
      if ((kind == "task") != (log.at(i) == 1) && kind != "timed_out" && kind != "cancelled")
        j.fail("a slot's outcome does not match whether its task ran");
    }
    if (timed && stopped) j.fail("both timed_out and cancelled slots in one call");
  } else if (error) {
    const std::string kind = kind_of(error);
    int index = -1;
    try {
      std::rethrow_exception(error);
    } catch (const task_failure& f) {
      index = f.index;
    } catch (const injected_fault& f) {
      index = f.call - 1;
    } catch (const settle::aggregate_error& e) {
      if (which != 2 || e.reasons().size() != static_cast<std::size_t>(d.n))
        j.fail("an aggregate_error not from any, or with a reason missing");
      for (int i = 0; i < static_cast<int>(e.reasons().size()); ++i) {
        const std::string k = kind_of(e.reasons()[static_cast<std::size_t>(i)]);
        if (k != "task" && k != "refused") j.fail("aggregate_error holds " + k);
        j.reason(k, i);
      }
      return j.problem;
    } catch (...) {
    }
    j.reason(kind, index);
    if (which == 2 && (kind == "task" || kind == "refused")) j.fail("any threw one rejection");
  } else if (which == 1) {
    for (int i = 0; i < d.n; ++i)
      if (log.status_of(i) != 1) j.fail("all returned, but a slot was reported rejected");
  } else if (value) {
    if (*value < 0 || *value >= d.n || d.fails[static_cast<std::size_t>(*value)] ||
        log.status_of(*value) != 1)
      j.fail("returned a value no fulfilled task produced");
  }
  return j.problem;
}

/// Runs `rounds` expiry rounds on `ex` and fails with the seed of the first problem.
template <class Ex>
void expiry_rounds(Ex& ex, bool foreign, std::uint64_t first_seed, int rounds) {
  stopper stop;
  int problems = 0;
  for (int k = 0; k < rounds; ++k) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(k);
    const std::string problem = expiry_round(ex, stop, seed, foreign);
    if (problem.empty()) continue;
    ++problems;
    if (problems <= 5) {
      INFO("seed " << seed << ": " << problem);
      CHECK(problem.empty());
    }
  }
  CHECK(problems == 0);
}

int rounds() {
  const int base = under_thread_sanitizer ? 1500 : 6000;
  return base * scale();
}

}  // namespace

TEST_CASE(
    "deadlines of 0-200 us and stop requests at random moments race the tasks' completions and "
    "launches: every slot settles consistently, once, and nothing runs after the return",
    "[stress][faults][options]") {
  SECTION("on thread_pool(1)") {
    settle::thread_pool pool(1);
    expiry_rounds(pool, false, 1, rounds());
  }
  SECTION("on thread_pool(2)") {
    settle::thread_pool pool(2);
    expiry_rounds(pool, false, 100'001, rounds());
  }
  SECTION("on the inline executor") {
    settle::inline_executor ex;
    expiry_rounds(ex, false, 200'001, rounds());
  }
  SECTION("on another executor (one job per task), which refuses a drawn task") {
    settle::thread_pool pool(2);
    expiry_rounds(pool, true, 300'001, rounds());
  }
  report_figure("expiry races run: " + std::to_string(4 * rounds()) + "; timed_out seen " +
                std::to_string(seen_timed_out.load()) + " times, cancelled " +
                std::to_string(seen_cancelled.load()) + ", refusals " +
                std::to_string(seen_refused.load()));
}
