// Running a scenario: the executors, the task bodies, calling a combinator and capturing
// what it returned or threw. The oracle that judges the outcome is in oracle.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <settle/settle.hpp>

#include "differential/scenario.hpp"

namespace settle_stress {

/// A pool of a class derived from settle's: SPEC §3 promises nested calls on "a settle
/// thread_pool" never deadlock, and a derived pool is one.
struct derived_pool : settle::thread_pool {
  using thread_pool::thread_pool;
};

struct pools {
  settle::thread_pool& pool1;
  settle::thread_pool& pool2;
  settle::thread_pool& elastic;
  derived_pool& derived;
  /// After a top-level scenario, each pool it used must run a new task within this time.
  std::chrono::milliseconds liveness_timeout{5000};
  /// Which scenarios get the check: those with a future that is not ready before the call
  /// (the ones that can leave a pool thread waiting for it) always, the others when their
  /// seed is a multiple of this (1: every scenario). A check costs a pool thread's wake-up.
  std::uint64_t liveness_every = 16;
  /// Other threads run scenarios on the same pools at once (--threads): a pool left parked
  /// may be another scenario's doing.
  bool shared = false;
  /// All, any and race must not throw the expiry once on_settled has reported what decides
  /// them before it (see option_run::check_settled_first); --no-strict-settled-first: unchecked.
  bool strict_settled_first = true;
};

/// Totals over the whole run (all threads), for the summary line.
struct statistics {
  std::atomic<long long> calls{0};            // combinator calls, nested ones included
  std::atomic<long long> nested_calls{0};     // combinator calls made from inside a task
  std::atomic<long long> tasks_run{0};        // task bodies that started
  std::atomic<long long> thrown{0};           // exceptions thrown by task bodies or futures
  std::atomic<long long> futures{0};          // future inputs
  std::atomic<long long> set_by_tasks{0};     // futures set by a sibling task during the call
  std::atomic<long long> liveness_checks{0};  // pools checked for a new task after a scenario
  std::atomic<long long> option_calls{0};     // calls that took options
  std::atomic<long long> expired_calls{0};    // ... that returned after a deadline or a stop
  std::atomic<long long> expired_slots{0};    // all_settled slots that hold timed_out/cancelled
  std::atomic<long long> at_limit{0};         // limited calls whose tasks reached the limit
  std::atomic<long long> reports{0};          // on_settled reports
  std::atomic<long long> started_calls{0};    // calls issued by settle::start, then get()
  std::atomic<long long> awaited_calls{0};    // ... then co_await in a coroutine
};
statistics& stats();

/// Mismatches found while running one top-level scenario (nested calls add theirs here).
class mismatch_log {
 public:
  void add(std::string what);
  [[nodiscard]] std::vector<std::string> entries() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

/// The exceptions that are not standard ones. Each names the combinator call and the task.
struct custom_failure {
  std::uint64_t call;
  int index;
};
/// Thrown by a stop-aware task that finds its token signalled. Never legal as the outcome
/// of a call: a token may only be signalled once the group has settled.
struct stopped_early {
  std::uint64_t call;
  int index;
};

class future_inputs;
class option_run;

/// Everything one combinator call of a scenario shares with its tasks.
struct run_context {
  run_context(const scenario& sc, const pools& ps, mismatch_log& lg, std::string p);

  const scenario& s;
  const pools& pool;
  mismatch_log& log;
  std::string path;
  std::uint64_t call_id;
  bool has_bodies = true;  // false for futures: no task body runs, nothing is counted
  std::unique_ptr<std::atomic<int>[]> started;  // per task: how often its body started
  std::atomic<int> running{0};                  // task bodies between entry and exit
  future_inputs* futures = nullptr;  // the promises behind the call's future inputs, if any
  option_run* opts = nullptr;        // the call's options, when the scenario draws any
  std::vector<std::future<int>> late_probes;  // liveness probes that had not run in time

  [[nodiscard]] int size() const { return static_cast<int>(s.tasks.size()); }
  [[nodiscard]] const task_spec& task(int i) const { return s.tasks[static_cast<std::size_t>(i)]; }
  void mismatch(const std::string& what) const;
};

/// Runs scenario `s` (and the nested ones its tasks run) and logs every mismatch. `parent`:
/// the stop_token of the task that runs it, if that task takes one (stop_kind::parent).
void run_scenario(const scenario& s, const pools& p, mismatch_log& log, const std::string& path,
                  const std::stop_token* parent = nullptr);

// One per translation unit, by form.
void run_range_form(run_context& c);
void run_map_form(run_context& c);
void run_variadic_form(run_context& c);
void run_futures_form(run_context& c);
void run_mixed_form(run_context& c);

// Call options (options.cpp).
/// Just before the call: the options to pass (this starts the stopper thread, if any).
[[nodiscard]] settle::options options_for_call(run_context& c);
/// A task body of `c` starts: the concurrency gauge, the start order, the stopper's count.
void options_task_started(run_context& c, int index, int running_now);
/// Whether the call has a deadline or a stop token, so that its tasks' tokens may be
/// signalled even in all_settled.
[[nodiscard]] bool may_expire(const run_context& c);

/// Sets the promise of every sibling future that task `index` sets (futures.cpp).
void set_siblings(run_context& c, int index);

/// After a top-level call has been checked, and before the futures it did not wait for are
/// set: every pool the scenario used runs a new task promptly, so no pool thread was left
/// waiting for a future (a never-set one would keep it forever). See `liveness_every`. A probe that
/// did not run in time is kept in `c.late_probes`, and waited for once the scenario has set its
/// futures.
void check_liveness(run_context& c);

// ---- exceptions ---------------------------------------------------------------------------

/// The exception task `index` of call `call` throws (error != none).
[[nodiscard]] std::exception_ptr make_error(error_kind k, std::uint64_t call, int index);
[[noreturn]] void throw_error(error_kind k, std::uint64_t call, int index);
/// True when `e` is exactly the exception task `index` of `c` is specified to throw.
[[nodiscard]] bool reason_matches(const run_context& c, const std::exception_ptr& e, int index);
/// What settle::describe must say about task `index`'s exception.
[[nodiscard]] std::string expected_description(const run_context& c, int index);
/// A readable account of any exception, for reports.
[[nodiscard]] std::string explain(const std::exception_ptr& e);

// ---- values -------------------------------------------------------------------------------

template <class T>
T make_value(int v) {
  if constexpr (std::is_same_v<T, std::string>)
    return "value " + std::to_string(v);
  else if constexpr (std::is_same_v<T, std::unique_ptr<int>>)
    return std::make_unique<int>(v);
  else
    return static_cast<T>(v);
}

/// The number a task's value carries, or nothing (void, a null pointer, a foreign string).
template <class T>
std::optional<int> number_of(const T& v) {
  if constexpr (std::is_same_v<T, std::monostate>) {
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.rfind("value ", 0) != 0) return std::nullopt;
    return std::stoi(v.substr(6));
  } else if constexpr (std::is_same_v<T, std::unique_ptr<int>>) {
    if (!v) return std::nullopt;
    return *v;
  } else {
    return static_cast<int>(v);
  }
}

/// The task whose value carries `number`, or -1.
[[nodiscard]] int index_of_number(const run_context& c, int number);

// ---- task bodies --------------------------------------------------------------------------

/// What every task of every form does: count itself, wait its latency (a stop-aware task
/// wakes up early when its token is signalled), set the futures of the call it is to set,
/// run its nested scenario, then throw its error or return its value.
template <class R>
R task_body(run_context& c, int index, const std::stop_token* token) {
  c.started[static_cast<std::size_t>(index)].fetch_add(1, std::memory_order_relaxed);
  const int running_now = c.running.fetch_add(1, std::memory_order_relaxed) + 1;
  if (c.opts != nullptr) options_task_started(c, index, running_now);
  struct leave {
    run_context& c;
    // Release: the decrement is the last thing the body does; the caller reads `running`
    // after the combinator returned, which the combinator orders after the task's return.
    ~leave() { c.running.fetch_sub(1, std::memory_order_release); }
  } guard{c};
  stats().tasks_run.fetch_add(1, std::memory_order_relaxed);

  const task_spec& t = c.task(index);
  if (t.latency.count() > 0) {
    if (token != nullptr) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      cv.wait_for(lock, *token, t.latency, [] { return false; });
    } else {
      std::this_thread::sleep_for(t.latency);
    }
  }
  if (c.futures != nullptr) set_siblings(c, index);
  if (t.nested) {
    stats().nested_calls.fetch_add(1, std::memory_order_relaxed);
    run_scenario(*t.nested, c.pool, c.log, c.path + " / task " + std::to_string(index), token);
  }
  if (token != nullptr && token->stop_requested()) {
    // In all_settled only an expiring call (deadline, stop_on) signals tokens.
    if (c.s.comb == comb_kind::all_settled && !may_expire(c))
      c.mismatch("task " + std::to_string(index) +
                 " found its stop_token signalled in all_settled");
    stats().thrown.fetch_add(1, std::memory_order_relaxed);
    throw stopped_early{c.call_id, index};
  }
  if (t.error != error_kind::none) {
    stats().thrown.fetch_add(1, std::memory_order_relaxed);
    throw_error(t.error, c.call_id, index);
  }
  if constexpr (!std::is_void_v<R>) return make_value<R>(value_of(c.s, index));
}

/// A task as an object: `R()` or `R(std::stop_token)`.
template <class R, bool Token>
struct scenario_task {
  run_context* c;
  int index;
  R operator()() const
    requires(!Token)
  {
    return task_body<R>(*c, index, nullptr);
  }
  R operator()(std::stop_token token) const
    requires(Token)
  {
    return task_body<R>(*c, index, &token);
  }
};

/// The function of the map form: `R(int)` or `R(std::stop_token, int)`.
template <class R, bool Token>
struct scenario_fn {
  run_context* c;
  R operator()(int index) const
    requires(!Token)
  {
    return task_body<R>(*c, index, nullptr);
  }
  R operator()(std::stop_token token, int index) const
    requires(Token)
  {
    return task_body<R>(*c, index, &token);
  }
};

// ---- calling a combinator -----------------------------------------------------------------

/// Stands for "no executor argument": the combinator uses settle::default_executor().
struct default_tag {};
// Calling a combinator on an executor, issued as the scenario says: call<C> in issue.hpp.

/// Calls fn(executor) with the scenario's executor.
template <class Fn>
void with_executor(run_context& c, Fn&& fn) {
  switch (c.s.exec) {
    case exec_kind::inline_exec: {
      settle::inline_executor ex;
      fn(ex);
      return;
    }
    case exec_kind::pool1:
      fn(c.pool.pool1);
      return;
    case exec_kind::pool2:
      fn(c.pool.pool2);
      return;
    case exec_kind::elastic:
      fn(c.pool.elastic);
      return;
    case exec_kind::default_exec: {
      default_tag ex;
      fn(ex);
      return;
    }
    case exec_kind::derived:
      fn(c.pool.derived);
      return;
  }
}

/// Calls fn<C>() with the scenario's combinator as a template argument.
template <class Fn>
void with_combinator(run_context& c, Fn&& fn) {
  switch (c.s.comb) {
    case comb_kind::all_settled:
      fn.template operator()<comb_kind::all_settled>();
      return;
    case comb_kind::all:
      fn.template operator()<comb_kind::all>();
      return;
    case comb_kind::any:
      fn.template operator()<comb_kind::any>();
      return;
    case comb_kind::race:
      fn.template operator()<comb_kind::race>();
      return;
  }
}

/// What a call produced: its result or the exception it threw (void becomes monostate).
template <class T>
struct outcome {
  std::optional<T> value;
  std::exception_ptr error;
};

template <class F>
auto capture(F&& f) {
  using result = decltype(f());
  using value_type = std::conditional_t<std::is_void_v<result>, std::monostate, result>;
  outcome<value_type> o;
  try {
    if constexpr (std::is_void_v<result>) {
      f();
      o.value.emplace();
    } else {
      o.value.emplace(f());
    }
  } catch (...) {
    o.error = std::current_exception();
  }
  return o;
}

/// Calls `run.template operator()<R, Token>()` with the scenario's result type `R` and
/// whether its tasks take a `std::stop_token` (`token_form` names the form that does).
template <class Run>
void with_value_type(const run_context& c, form_kind token_form, Run&& run) {
  const bool token = c.s.form == token_form;
  const auto typed = [&]<class R>() {
    if (token)
      run.template operator()<R, true>();
    else
      run.template operator()<R, false>();
  };
  switch (c.s.value) {
    case value_kind::int_value:
      typed.template operator()<int>();
      break;
    case value_kind::void_value:
      typed.template operator()<void>();
      break;
    case value_kind::move_only:
      typed.template operator()<std::unique_ptr<int>>();
      break;
    case value_kind::string_value:
      typed.template operator()<std::string>();
      break;
  }
}

}  // namespace settle_stress
