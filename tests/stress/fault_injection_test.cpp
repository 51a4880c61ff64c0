// Fault injection: executors that refuse or drop work, results whose move constructor
// throws, tasks that throw while their stop_token is being signalled, std::bad_alloc from
// the task itself. In every case: every task that started is waited for, every slot
// settles, the failure reaches the caller, nothing leaks (LeakSanitizer in the asan build,
// live counts here) and nothing hangs (the watchdog).
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <iterator>
#include <memory>
#include <new>
#include <random>
#include <ranges>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"

namespace {

using namespace settle_stress;
using settle_test::holds;

/// What a group of tasks tells the test: which started, how many are inside their body.
struct task_log {
  explicit task_log(int n)
      : size(n), started(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))) {}
  int size;
  std::unique_ptr<std::atomic<int>[]> started;
  std::atomic<int> running{0};
  std::atomic<int> finished{0};

  [[nodiscard]] int started_at(int i) const { return started[static_cast<std::size_t>(i)].load(); }
  [[nodiscard]] int started_total() const {
    int sum = 0;
    for (int i = 0; i < size; ++i) sum += started_at(i);
    return sum;
  }
};

/// RAII bracket of a task body in a task_log.
struct in_body {
  in_body(task_log& l, int i) : log(l) {
    log.started[static_cast<std::size_t>(i)].fetch_add(1);
    log.running.fetch_add(1);
  }
  ~in_body() {
    log.finished.fetch_add(1);
    log.running.fetch_sub(1);
  }
  task_log& log;
};

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
  faults_injected += fired;
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

// ---- ranges whose elements throw when read or constructed --------------------------------

/// Thrown by a faulty_range's operator* or by copying an element_probe.
struct element_fault {
  int index;
};

/// A task (and a map element): counts its copies and body runs, and its copy constructor
/// throws element_fault when its index is `*copy_throws_at`.
struct element_probe {
  element_probe(task_log& l, settle_test::counters& c, const int& copy_throws_at, int i)
      : log(&l), counted(c, i), copy_throws_at(&copy_throws_at), index(i) {}
  element_probe(const element_probe& other)
      : log(other.log),
        counted(copy_checked(other)),
        copy_throws_at(other.copy_throws_at),
        index(other.index) {}
  element_probe(element_probe&&) noexcept = default;
  element_probe& operator=(const element_probe&) = delete;
  element_probe& operator=(element_probe&&) = delete;
  ~element_probe() = default;

  int operator()() const {
    in_body body(*log, index);
    std::this_thread::yield();  // a task still running at the call's return would show
    return index;
  }

  task_log* log;
  settle_test::counted counted;
  const int* copy_throws_at;
  int index;

 private:
  static const settle_test::counted& copy_checked(const element_probe& other) {
    if (other.index == *other.copy_throws_at) throw element_fault{other.index};
    return other.counted;
  }
};

enum class iteration { forward_by_reference, input_by_reference, input_by_value };

/// A range over `backing` whose operator* throws element_fault at index `throw_at`. Single-pass
/// (input) or forward; operator* yields the element by reference, or a copy (a moved-out
/// element when Elem cannot be copied). Written by hand: clang 14 cannot compile libstdc++ 12's
/// views.
template <class Elem, iteration How>
class faulty_range {
 public:
  faulty_range(std::vector<Elem>& backing, int throw_at)
      : backing_(&backing), throw_at_(throw_at) {}

  class iterator {
   public:
    using iterator_concept = std::conditional_t<How == iteration::forward_by_reference,
                                                std::forward_iterator_tag, std::input_iterator_tag>;
    using iterator_category = iterator_concept;
    using value_type = Elem;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<How == iteration::input_by_value, Elem, Elem&>;

    iterator() = default;
    iterator(const faulty_range* r, std::size_t i) : range_(r), i_(i) {}

    reference operator*() const {
      if (static_cast<int>(i_) == range_->throw_at_) throw element_fault{static_cast<int>(i_)};
      Elem& e = (*range_->backing_)[i_];
      if constexpr (How != iteration::input_by_value || std::copy_constructible<Elem>)
        return e;
      else
        return std::move(e);
    }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }

   private:
    const faulty_range* range_ = nullptr;
    std::size_t i_ = 0;
  };

  [[nodiscard]] iterator begin() const { return iterator(this, 0); }
  [[nodiscard]] iterator end() const { return iterator(this, backing_->size()); }

 private:
  std::vector<Elem>* backing_;
  int throw_at_;
};

static_assert(
    std::ranges::forward_range<faulty_range<std::future<int>, iteration::forward_by_reference>>);
static_assert(!std::ranges::forward_range<faulty_range<int, iteration::input_by_reference>>);
static_assert(std::ranges::input_range<faulty_range<std::future<int>, iteration::input_by_value>>);

/// The default executor: the call forms without an executor argument.
struct no_executor {};

template <class Combinator, class Ex, class... Args>
decltype(auto) call_on(const Combinator& combinator, Ex& ex, Args&&... args) {
  if constexpr (std::is_same_v<Ex, no_executor>)
    return combinator(std::forward<Args>(args)...);
  else
    return combinator(ex, std::forward<Args>(args)...);
}

/// Calls `call()`; returns the index of the element_fault it threw, or -1 when it returned.
/// Anything else it throws is recorded in `other` (a task's own rejection, an executor's
/// refusal).
template <class Call>
int element_fault_of(Call&& call, std::exception_ptr& other) {
  try {
    call();
  } catch (const element_fault& e) {
    return e.index;
  } catch (...) {
    other = std::current_exception();
  }
  return -1;
}

/// What a call that read every element (nothing threw) must return, for exact executors.
template <class Combinator, class Result>
void check_full_result(const Result& result, int n, bool lowest_wins) {
  using C = std::remove_cvref_t<Combinator>;
  const auto value = [](const auto& v) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, settle_test::counted>)
      return v.value();
    else
      return static_cast<int>(v);
  };
  if constexpr (std::is_same_v<C, std::remove_cvref_t<decltype(settle::all_settled)>>) {
    REQUIRE(result.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(value(result[static_cast<std::size_t>(i)].value()) == i);
  } else if constexpr (std::is_same_v<C, std::remove_cvref_t<decltype(settle::all)>>) {
    REQUIRE(result.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(value(result[static_cast<std::size_t>(i)]) == i);
  } else {
    CHECK((value(result) >= 0 && value(result) < n));
    if (lowest_wins) CHECK(value(result) == 0);
  }
}

/// One combinator, one executor, one way of iterating: every (n, k) for every form.
template <iteration How, class Combinator, class Ex>
void element_fault_rounds(const Combinator& combinator, Ex& ex, bool exact, long long& thrown) {
  constexpr int never = -1;
  for (int n = 1; n <= 5; ++n) {
    for (int k = 0; k <= n; ++k) {  // k == n: nothing throws, the control round
      const bool faults = k < n;
      for (int form = 0; form < 5; ++form) {
        INFO("n = " << n << ", element " << k << (faults ? " throws" : " (none throws)")
                    << ", form " << form << ", iteration " << static_cast<int>(How));
        settle_test::counters counters;
        task_log log(n);
        std::exception_ptr other;
        int fault = never;
        // Forms 0 and 1: a range of tasks, read (0) or copied (1) with a fault at k.
        // Form 2: map over the same elements, read with a fault at k.
        if (form <= 2) {
          const int copy_throws_at = form == 1 ? k : never;
          std::vector<element_probe> backing;
          backing.reserve(static_cast<std::size_t>(n));
          for (int i = 0; i < n; ++i) backing.emplace_back(log, counters, copy_throws_at, i);
          const faulty_range<element_probe, How> range(backing, form == 1 ? never : k);
          fault = element_fault_of(
              [&] {
                if (form == 2) {
                  const auto fn = [](const element_probe& p) { return p(); };
                  const auto result = call_on(combinator, ex, range, fn);
                  if (exact && !faults) check_full_result<Combinator>(result, n, false);
                } else {
                  const auto result = call_on(combinator, ex, range);
                  if (exact && !faults) check_full_result<Combinator>(result, n, false);
                }
              },
              other);
        } else {
          // Forms 3 and 4: a range of std::future (moved from) or std::shared_future (copied).
          // Even elements are ready; odd ones are fulfilled after the call (all of them
          // before it in the control round, which would wait for them).
          std::vector<std::promise<settle_test::counted>> promises(static_cast<std::size_t>(n));
          const auto fulfil = [&](int i) {
            promises[static_cast<std::size_t>(i)].set_value(settle_test::counted(counters, i));
          };
          for (int i = 0; i < n; ++i)
            if (i % 2 == 0 || !faults) fulfil(i);
          if (form == 3) {
            std::vector<std::future<settle_test::counted>> backing;
            for (auto& p : promises) backing.push_back(p.get_future());
            faulty_range<std::future<settle_test::counted>, How> range(backing, k);
            fault = element_fault_of(
                [&] {
                  const auto result = call_on(combinator, ex, std::move(range));
                  if (exact && !faults) check_full_result<Combinator>(result, n, true);
                },
                other);
          } else {
            std::vector<std::shared_future<settle_test::counted>> backing;
            for (auto& p : promises) backing.push_back(p.get_future().share());
            const faulty_range<std::shared_future<settle_test::counted>, How> range(backing, k);
            fault = element_fault_of(
                [&] {
                  const auto result = call_on(combinator, ex, range);
                  if (exact && !faults) check_full_result<Combinator>(result, n, true);
                },
                other);
          }
          for (int i = 1; i < n; i += 2)
            if (faults) fulfil(i);
        }
        // The element's exception, unchanged, exactly when an element throws.
        CHECK(fault == (faults ? k : never));
        if (faults || exact) CHECK(!other);
        // No task runs on after the call, none ran twice, and every started one returned.
        CHECK(log.running.load() == 0);
        CHECK(log.finished.load() == log.started_total());
        for (int i = 0; i < n; ++i) CHECK(log.started_at(i) <= 1);
        CHECK(counters.live() == 0);
        CHECK(counters.destroyed_twice.load() == 0);
        thrown += faults ? 1 : 0;
      }
    }
  }
}

template <class Combinator, class Ex>
void element_fault_iterations(const Combinator& combinator, Ex& ex, bool exact, long long& thrown) {
  element_fault_rounds<iteration::forward_by_reference>(combinator, ex, exact, thrown);
  element_fault_rounds<iteration::input_by_reference>(combinator, ex, exact, thrown);
  element_fault_rounds<iteration::input_by_value>(combinator, ex, exact, thrown);
}

template <class Ex>
void element_fault_combinators(Ex& ex, bool exact, long long& thrown) {
  element_fault_iterations(settle::all_settled, ex, exact, thrown);
  element_fault_iterations(settle::all, ex, exact, thrown);
  element_fault_iterations(settle::any, ex, exact, thrown);
  element_fault_iterations(settle::race, ex, exact, thrown);
}

TEST_CASE(
    "a range element that throws when read or copied: its exception propagates unchanged from "
    "every position of every range form, and no task runs on or leaks",
    "[stress][faults]") {
  long long thrown = 0;
  SECTION("on the default executor") {
    no_executor ex;
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on thread_pool(1)") {
    settle::thread_pool ex(1);
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on thread_pool(2)") {
    settle::thread_pool ex(2);
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on the inline executor") {
    settle::inline_executor ex;
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on an executor that refuses its second task") {
    settle::thread_pool pool(2);
    settle_test::refusing_executor<settle::thread_pool> ex(pool, 1);
    element_fault_combinators(ex, false, thrown);
  }
  faults_injected += thrown;
  report_figure("range elements that threw: " + std::to_string(thrown));
}

TEST_CASE("fault injection figures", "[stress][faults]") {
  report_figure("faults injected in total (refusals, drops, throwing moves): " +
                std::to_string(faults_injected));
}

}  // namespace
