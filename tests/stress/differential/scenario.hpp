// The description of one randomized differential scenario: which combinator, which form,
// which executor, and for every task what it does (latency, value or exception, a nested
// scenario). A scenario is a pure value generated from a seed, so a seed reproduces it
// exactly; only thread scheduling differs between runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace settle_stress {

/// `derived` is a one-thread pool of a class derived from settle::thread_pool: it must get
/// everything settle's own pool gets (nested calls on it never deadlock, SPEC §3).
enum class exec_kind : std::uint8_t { inline_exec, pool1, pool2, elastic, default_exec, derived };
enum class comb_kind : std::uint8_t { all_settled, all, any, race };

/// How the tasks are passed to the combinator.
enum class form_kind : std::uint8_t {
  range,            // a std::vector of callables taking no argument
  range_token,      // a std::vector of callables taking a std::stop_token
  map,              // a range of indices and fn(index)
  map_token,        // a range of indices and fn(std::stop_token, index)
  variadic,         // heterogeneous arguments; odd positions take a std::stop_token
  ready_futures,    // std::future<int>, every one ready before the call
  shared_futures,   // std::shared_future<int>, every one ready before the call
  pending_futures,  // std::future<int>, set by another thread while the call runs
  mixed_futures,    // std::future<int>, each of its own input_kind (no callables)
  mixed             // variadic: std::future<int> arguments among callables (mixed_shape)
};

/// What one input of a call is. Callables run on the executor; futures are work the
/// caller started, settled by someone else at a time the scenario chooses.
enum class input_kind : std::uint8_t {
  callable,
  ready_future,   // settled before the call
  late_future,    // settled by a setter thread `latency` after it starts, just before the call
  never_future,   // settled only once the call has returned: it can decide nothing
  sibling_future  // settled by the callable `set_by` of the same call, as it runs
};

/// The argument pattern of the mixed form: F a std::future<int>, C a callable returning
/// int (taking a std::stop_token at odd positions, as in the variadic form).
enum class mixed_shape : std::uint8_t { f, ff, fc, cf, cfc, ffc, fcfc, cffcf };

/// The result type of the range and map forms.
enum class value_kind : std::uint8_t { int_value, void_value, move_only, string_value };

/// The argument types of the variadic form.
enum class variadic_shape : std::uint8_t {
  one_int,          // (int)
  int_void_string,  // (int, void, std::string)
  mixed_five,       // (std::unique_ptr<int>, int, void, std::string, int)
  int_long_short,   // (int, long, short): common type long
  four_void,        // (void, void, void, void)
  two_move_only     // (std::unique_ptr<int>, std::unique_ptr<int>)
};

/// What a task throws, if anything. The last two are not derived from std::exception
/// (`integer` throws a `long long`).
enum class error_kind : std::uint8_t {
  none,
  runtime_error,
  out_of_range,
  bad_alloc,
  custom,
  integer
};

/// When the call's deadline falls: none, already past at the call (it starts nothing), while
/// the tasks run, or long after any call can take.
enum class deadline_kind : std::uint8_t { none, before, during, after };
/// When the call's stop token (`settle::stop_on`) is signalled: never, before the call, by
/// another thread after a delay or once `stop_after` task bodies have started, or (a nested
/// call only) the token of the stop-aware task that makes the call, handed to `stop_on`.
enum class stop_kind : std::uint8_t { none, before, delay, after_starts, parent };

/// The call options of a scenario (SPEC §5). Drawn from a stream of their own, so a scenario
/// has the same tasks with and without them.
struct option_spec {
  bool drawn = false;       // false: the call takes no options argument at all
  bool designated = false;  // built as `options{.max_concurrency = ...}` instead of with `|`
  std::size_t limit = 0;    // 0: no limit
  deadline_kind deadline = deadline_kind::none;
  bool absolute = false;  // `deadline(t)` rather than `timeout(d)`
  bool both = false;      // also the other one, `also` from the call's start (the earlier wins)
  std::chrono::microseconds offset{0};  // the deadline, from just before the call
  std::chrono::microseconds also{0};
  stop_kind stop = stop_kind::none;
  std::chrono::microseconds stop_delay{0};
  int stop_after = 0;     // stop_kind::after_starts: task bodies started first
  bool progress = false;  // an on_settled callback that counts the reports
};

/// How a call is issued (SPEC §6): the plain blocking call; `settle::start` and then `get`
/// on the calling thread; or `co_await` on the pending in a coroutine whose result the
/// calling thread collects. The oracle is the same for all three.
enum class call_mode : std::uint8_t { plain, start, await };
/// What the caller does with a started call before `get`.
enum class poll_kind : std::uint8_t { none, wait, wait_for, ready };

/// The way a scenario issues its call. Drawn from a stream of its own, so a scenario has the
/// same tasks and options in every mode.
struct issue_spec {
  call_mode mode = call_mode::plain;
  poll_kind poll = poll_kind::none;
  std::chrono::microseconds wait_for{0};  // poll_kind::wait_for: how long
  int work = 0;  // rounds of a little computation between start and get (0: none)
};

struct scenario;

struct task_spec {
  input_kind input = input_kind::callable;
  error_kind error = error_kind::none;
  /// A callable waits this long before it returns; a late future is set this long after
  /// the setter thread starts.
  std::chrono::microseconds latency{0};
  /// A sibling future: the index of the callable (same call) that sets it.
  int set_by = -1;
  /// Run by the task (on the executor the nested scenario names) before it returns or
  /// throws; its own outcome is checked against its own oracle.
  std::shared_ptr<const scenario> nested;
};

struct scenario {
  std::uint64_t seed = 0;
  int depth = 0;
  exec_kind exec = exec_kind::inline_exec;
  comb_kind comb = comb_kind::all_settled;
  form_kind form = form_kind::range;
  value_kind value = value_kind::int_value;
  variadic_shape shape = variadic_shape::one_int;
  mixed_shape mix = mixed_shape::f;
  std::vector<task_spec> tasks;
  option_spec options;
  issue_spec issue;

  [[nodiscard]] bool is_future(int i) const {
    return tasks[static_cast<std::size_t>(i)].input != input_kind::callable;
  }
};

struct generator_options {
  int max_tasks = 200;            // top-level scenarios have 1..max_tasks tasks (rarely 0)
  int max_depth = 2;              // nesting levels below the top-level scenario
  std::optional<exec_kind> exec;  // every level uses this executor when set
  /// Only calls with future inputs (mixed with callables, late, never set, set by a
  /// sibling), mostly on one- and two-thread pools, with longer delays.
  bool focus_futures = false;
  /// Most calls take options (a limit, a deadline before, during or after the tasks, a stop
  /// token signalled at a random moment, on_settled); otherwise a share of them does.
  bool focus_options = false;
  /// Most calls go through `settle::start` (then `get`, or `co_await` in a coroutine);
  /// otherwise a share of them does.
  bool focus_start = false;
};

/// The scenario for `seed`. Deterministic: the same seed and options give the same scenario.
[[nodiscard]] scenario generate(std::uint64_t seed, const generator_options& opts);

/// One line (nested scenarios in brackets) for failure reports.
[[nodiscard]] std::string describe(const scenario& s);

[[nodiscard]] const char* name_of(exec_kind k);
[[nodiscard]] const char* name_of(comb_kind k);
[[nodiscard]] const char* name_of(form_kind k);
[[nodiscard]] const char* name_of(value_kind k);
[[nodiscard]] const char* name_of(variadic_shape k);
[[nodiscard]] const char* name_of(error_kind k);
[[nodiscard]] const char* name_of(input_kind k);
[[nodiscard]] const char* name_of(mixed_shape k);
[[nodiscard]] const char* name_of(deadline_kind k);
[[nodiscard]] const char* name_of(stop_kind k);
[[nodiscard]] const char* name_of(call_mode k);
[[nodiscard]] const char* name_of(poll_kind k);
[[nodiscard]] std::optional<exec_kind> parse_exec(const std::string& name);

/// The number of tasks of the variadic shape.
[[nodiscard]] int arity(variadic_shape k);
/// The pattern of a mixed shape, one letter per argument: "FC" is (future, callable).
[[nodiscard]] std::string pattern_of(mixed_shape k);

/// The value task `index` of scenario `s` fulfils with (as int; other types convert it).
/// Distinct per task within a scenario and small enough for `short`.
[[nodiscard]] inline int value_of(const scenario& s, int index) {
  return static_cast<int>(s.seed % 30) * 1000 + index + 1;
}

/// splitmix64: a tiny, portable generator (std distributions differ between standard
/// libraries, and a seed must reproduce the same scenario everywhere).
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi].
  int between(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  /// True with probability `percent` / 100.
  bool percent(double p) { return static_cast<double>(next() % 1'000'000) < p * 10'000.0; }

 private:
  std::uint64_t state_;
};

}  // namespace settle_stress
