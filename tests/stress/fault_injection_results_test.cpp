// Fault injection in results and task bodies: results whose move constructor throws, tasks
// that throw while their stop_token is being signalled, std::bad_alloc from the task itself.
// In every case: every task that started is waited for, every slot settles, the failure
// reaches the caller, nothing leaks (LeakSanitizer in the asan build, live counts here) and
// nothing hangs (the watchdog).
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
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

// ---- results whose move constructor throws ---------------------------------------------

struct move_fault : std::runtime_error {
  move_fault() : std::runtime_error("fragile: move constructor failed") {}
};

/// A move-only result whose move constructor throws once, on the k-th move after arm(k).
class fragile {
 public:
  explicit fragile(int v) : value_(v) { live_.fetch_add(1); }
  fragile(fragile&& other) : value_(other.value_) {
    if (armed_.load() && countdown_.fetch_sub(1) == 1) {
      fired_.store(true);
      throw move_fault();
    }
    live_.fetch_add(1);
  }
  fragile& operator=(fragile&& other) {
    value_ = other.value_;
    return *this;
  }
  fragile(const fragile&) = delete;
  fragile& operator=(const fragile&) = delete;
  ~fragile() { live_.fetch_sub(1); }

  [[nodiscard]] int value() const { return value_; }

  static void arm(int k) {
    countdown_.store(k);
    fired_.store(false);
    armed_.store(true);
  }
  /// Disarms; true when a move threw since arm().
  static bool disarm() {
    armed_.store(false);
    return fired_.load();
  }
  [[nodiscard]] static int live() { return live_.load(); }

 private:
  int value_;
  static inline std::atomic<bool> armed_{false};
  static inline std::atomic<bool> fired_{false};
  static inline std::atomic<int> countdown_{0};
  static inline std::atomic<int> live_{0};
};

struct fragile_task {
  task_log* log;
  int index;
  fragile operator()() const {
    in_body body(*log, index);
    return fragile(index);
  }
};

template <class Ex>
void fragile_rounds(Ex& ex, long long& fired_total) {
  for (int n : {1, 4}) {
    const int max_k = 6 * n + 8;  // more moves than any call makes: the last rounds never fire
    bool saw_quiet_round = false;
    for (int k = 1; k <= max_k; ++k) {
      INFO("n = " << n << ", the move number " << k << " throws");
      std::vector<fragile_task> tasks;
      task_log log(n);
      for (int i = 0; i < n; ++i) tasks.push_back(fragile_task{&log, i});

      // all_settled: the failure shows as a rejected slot or as the call's exception.
      {
        int running_at_exit = -1;
        bool threw = false;
        int rejected = 0;
        int fulfilled = 0;
        fragile::arm(k);
        try {
          const auto rs = settle::all_settled(ex, tasks);
          running_at_exit = log.running.load();
          CHECK(rs.size() == static_cast<std::size_t>(n));
          for (std::size_t i = 0; i < rs.size(); ++i) {
            if (rs[i].is_rejected()) {
              CHECK(holds<move_fault>(rs[i].reason()));
              ++rejected;
            } else {
              CHECK(rs[i].value().value() == static_cast<int>(i));
              ++fulfilled;
            }
          }
        } catch (const move_fault&) {
          running_at_exit = log.running.load();
          threw = true;
        }
        const bool fired = fragile::disarm();
        fired_total += fired ? 1 : 0;
        saw_quiet_round = saw_quiet_round || !fired;
        CHECK(running_at_exit == 0);
        if (fired)
          CHECK((threw || rejected > 0));
        else
          CHECK((!threw && fulfilled == n));
        CHECK(fragile::live() == 0);
      }

      // all: the failure is the call's exception.
      {
        bool threw = false;
        fragile::arm(k);
        try {
          const auto values = settle::all(ex, tasks);
          for (std::size_t i = 0; i < values.size(); ++i)
            CHECK(values[i].value() == static_cast<int>(i));
        } catch (const move_fault&) {
          threw = true;
        }
        const bool fired = fragile::disarm();
        fired_total += fired ? 1 : 0;
        CHECK(threw == fired);
        CHECK(log.running.load() == 0);
        CHECK(fragile::live() == 0);
      }

      // any and race may legitimately ignore a loser's failure; nothing may leak or run on.
      for (int which = 0; which < 2; ++which) {
        fragile::arm(k);
        try {
          const fragile v = which == 0 ? settle::any(ex, tasks) : settle::race(ex, tasks);
          CHECK((v.value() >= 0 && v.value() < n));
        } catch (const move_fault&) {
        } catch (const settle::aggregate_error& e) {
          for (const auto& reason : e.reasons()) CHECK(holds<move_fault>(reason));
        }
        fired_total += fragile::disarm() ? 1 : 0;
        CHECK(log.running.load() == 0);
        CHECK(fragile::live() == 0);
      }

      // The variadic form builds a tuple: more moves, other paths.
      {
        bool threw = false;
        int rejected = 0;
        fragile::arm(k);
        try {
          auto [a, b, c] = settle::all_settled(ex, tasks[0], fragile_task{&log, 0}, tasks[0]);
          rejected =
              (a.is_rejected() ? 1 : 0) + (b.is_rejected() ? 1 : 0) + (c.is_rejected() ? 1 : 0);
        } catch (const move_fault&) {
          threw = true;
        }
        const bool fired = fragile::disarm();
        fired_total += fired ? 1 : 0;
        if (fired) CHECK((threw || rejected > 0));
        CHECK(log.running.load() == 0);
        CHECK(fragile::live() == 0);
      }
    }
    CHECK(saw_quiet_round);  // k went past every move: the sweep covered each one
  }
}

TEST_CASE(
    "a result whose move constructor throws: the failure reaches the caller and nothing leaks",
    "[stress][faults]") {
  long long fired = 0;
  SECTION("on the inline executor") {
    settle::inline_executor ex;
    fragile_rounds(ex, fired);
  }
  SECTION("on a thread_pool") {
    settle::thread_pool ex(2);
    fragile_rounds(ex, fired);
  }
  SECTION("on the default executor") { fragile_rounds(settle::default_executor(), fired); }
  report_figure("throwing result moves injected: " + std::to_string(fired));
}

// ---- throwing while the stop_token is being signalled ----------------------------------

struct before_stop {
  int index;
};
struct after_stop {
  int index;
};

/// Spins for `spin` (work, not a sleep), then fulfils or throws. A task that throws
/// checks its token first: `after_stop` when the token was already signalled. A stop
/// callback is registered for the whole body, so request_stop() runs callbacks while
/// tasks throw and unwind (destroying their callbacks).
struct racing_task {
  task_log* log;
  int index;
  std::chrono::microseconds spin;
  bool fulfils;
  std::atomic<int>* callbacks_run;

  int operator()(std::stop_token token) const {
    in_body body(*log, index);
    std::stop_callback on_stop(token, [this] { callbacks_run->fetch_add(1); });
    const auto until = std::chrono::steady_clock::now() + spin;
    while (std::chrono::steady_clock::now() < until && !token.stop_requested()) {
    }
    if (fulfils) return index;
    if (token.stop_requested()) throw after_stop{index};
    throw before_stop{index};
  }
};

/// The exception `f` throws, or null.
template <class F>
std::exception_ptr thrown_by(F&& f) {
  try {
    f();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

template <class T>
int index_in(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const T& x) {
    return x.index;
  } catch (...) {
    return -1;
  }
}

template <class Ex>
void stop_rounds(Ex& ex, int rounds, long long& calls) {
  std::minstd_rand r(20260101);  // fixed: the same rounds every run
  const auto between = [&r](int lo, int hi) {
    return lo + static_cast<int>(r() % static_cast<unsigned>(hi - lo + 1));
  };
  for (int round = 0; round < rounds; ++round) {
    const int n = between(2, 8);
    task_log log(n);
    std::atomic<int> callbacks{0};
    std::vector<racing_task> tasks;
    const int mode = round % 3;  // 0: all throw; 1: even indices fulfil; 2: only the last fulfils
    for (int i = 0; i < n; ++i) {
      const bool fulfils = mode == 1 ? i % 2 == 0 : (mode == 2 && i == n - 1);
      tasks.push_back(
          racing_task{&log, i, std::chrono::microseconds(between(0, 50)), fulfils, &callbacks});
    }
    INFO("round " << round << ", n = " << n << ", mode " << mode);

    // all: the token is signalled only after the first rejection, so that rejection is
    // always a before_stop.
    {
      const std::exception_ptr e = thrown_by([&] { (void)settle::all(ex, tasks); });
      const int i = index_in<before_stop>(e);
      CHECK(i >= 0);  // not "returned", not an after_stop, not cancelled
      if (i >= 0) CHECK(!tasks[static_cast<std::size_t>(i)].fulfils);
    }
    CHECK(log.running.load() == 0);
    ++calls;

    // any: a fulfilling task wins; when all reject nothing is signalled: n before_stops in order.
    try {
      const int v = settle::any(ex, tasks);
      CHECK(mode != 0);
      CHECK(tasks[static_cast<std::size_t>(v)].fulfils);
    } catch (const settle::aggregate_error& e) {
      CHECK(mode == 0);
      REQUIRE(e.reasons().size() == static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i)
        CHECK(index_in<before_stop>(e.reasons()[static_cast<std::size_t>(i)]) == i);
    }
    CHECK(log.running.load() == 0);
    ++calls;

    // race: the first to settle, before anything is signalled.
    {
      int v = -1;
      const std::exception_ptr e = thrown_by([&] { v = settle::race(ex, tasks); });
      if (!e) {
        CHECK(tasks[static_cast<std::size_t>(v)].fulfils);
      } else {
        const int i = index_in<before_stop>(e);
        CHECK(i >= 0);
        if (i >= 0) CHECK(!tasks[static_cast<std::size_t>(i)].fulfils);
      }
    }
    CHECK(log.running.load() == 0);
    CHECK(log.finished.load() == log.started_total());
    ++calls;
  }
}

TEST_CASE("tasks that throw while their stop_token is being signalled", "[stress][faults]") {
  const int rounds = (under_thread_sanitizer ? 60 : 300) * scale();
  long long calls = 0;
  SECTION("on thread_pool(1)") {
    settle::thread_pool ex(1);
    stop_rounds(ex, rounds, calls);
  }
  SECTION("on thread_pool(2)") {
    settle::thread_pool ex(2);
    stop_rounds(ex, rounds, calls);
  }
  SECTION("on an elastic pool") {
    settle::thread_pool ex(settle::pool_options{1, 8, std::chrono::milliseconds(10)});
    stop_rounds(ex, rounds, calls);
  }
  SECTION("on the default executor") { stop_rounds(settle::default_executor(), rounds, calls); }
  report_figure("calls with throws racing stop requests: " + std::to_string(calls));
}

// ---- std::bad_alloc from the task itself ------------------------------------------------

/// Throws std::bad_alloc as the standard library does: std::allocator refuses a request
/// larger than max_size() with std::bad_alloc (or std::bad_array_new_length, derived from it)
/// before asking operator new for anything, so this works under AddressSanitizer too.
int allocate_too_much() {
  std::allocator<int> allocator;
  volatile std::size_t extra = 1;
  const std::size_t too_many =
      std::allocator_traits<std::allocator<int>>::max_size(allocator) + extra;
  int* p = allocator.allocate(too_many);  // throws
  allocator.deallocate(p, too_many);
  return 0;
}

template <class Ex>
void bad_alloc_rounds(Ex& ex) {
  const auto plain = []() -> int { throw std::bad_alloc(); };
  const auto runtime = [] { return allocate_too_much(); };
  const auto fine = [] { return 7; };
  const auto nested = [&ex] {
    // A combinator inside a task: its all() rethrows the bad_alloc, which rejects this task.
    return settle::all(ex, [] { return 1; }, []() -> int { throw std::bad_alloc(); });
  };

  auto [a, b, c, d] = settle::all_settled(ex, plain, runtime, fine, nested);
  CHECK(holds<std::bad_alloc>(a.reason()));
  CHECK(holds<std::bad_alloc>(b.reason()));
  CHECK(c.value() == 7);
  CHECK(holds<std::bad_alloc>(d.reason()));

  CHECK_THROWS_AS(settle::all(ex, fine, plain, fine), std::bad_alloc);
  CHECK_THROWS_AS(settle::all(ex, runtime), std::bad_alloc);
  CHECK(settle::any(ex, plain, runtime, fine) == 7);
  try {
    (void)settle::any(ex, plain, runtime, plain);
    FAIL("any returned although every task rejects");
  } catch (const settle::aggregate_error& e) {
    REQUIRE(e.reasons().size() == 3);
    CHECK(holds<std::bad_alloc>(e.reasons()[0]));
    CHECK(holds<std::bad_alloc>(e.reasons()[1]));
    CHECK(holds<std::bad_alloc>(e.reasons()[2]));
  }
  CHECK_THROWS_AS(settle::race(ex, plain, plain), std::bad_alloc);

  std::vector<std::function<int()>> many;
  for (int i = 0; i < 64; ++i)
    many.push_back(i % 3 == 0 ? std::function<int()>(plain) : std::function<int()>(fine));
  const auto rs = settle::all_settled(ex, many);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    INFO("slot " << i);
    if (i % 3 == 0)
      CHECK(holds<std::bad_alloc>(rs[i].reason()));
    else
      CHECK(rs[i].value() == 7);
  }
}

TEST_CASE("std::bad_alloc thrown by a task is that task's reason, like any other exception",
          "[stress][faults]") {
  SECTION("inline") {
    settle::inline_executor ex;
    bad_alloc_rounds(ex);
  }
  SECTION("thread_pool(1)") {
    settle::thread_pool ex(1);
    bad_alloc_rounds(ex);
  }
  SECTION("default executor") { bad_alloc_rounds(settle::default_executor()); }
}

}  // namespace
