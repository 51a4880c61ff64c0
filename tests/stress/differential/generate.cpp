// The scenario generator. Everything random about a scenario is decided here, from the
// seed alone, before anything runs.
#include <algorithm>
#include <string>

#include "differential/scenario.hpp"

namespace settle_stress {

namespace {

using std::chrono::microseconds;

constexpr int max_nested_tasks = 6;

template <class T, std::size_t N>
T pick(rng& r, const T (&options)[N]) {
  return options[r.next() % N];
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t salt) {
  rng r(seed ^ (salt * 0xD1B54A32D192ED03ull));
  return r.next();
}

form_kind pick_form(rng& r, bool focus) {
  // Percentages. Futures may appear at every level: a nested scenario's task owns its
  // promises and joins its setter thread before it returns.
  const int u = r.between(0, 99);
  if (focus) {
    if (u < 60) return form_kind::mixed;
    if (u < 80) return form_kind::mixed_futures;
    if (u < 88) return form_kind::pending_futures;
    if (u < 94) return form_kind::ready_futures;
    return form_kind::shared_futures;
  }
  if (u < 20) return form_kind::range;
  if (u < 36) return form_kind::range_token;
  if (u < 47) return form_kind::map;
  if (u < 56) return form_kind::map_token;
  if (u < 74) return form_kind::variadic;
  if (u < 79) return form_kind::ready_futures;
  if (u < 82) return form_kind::shared_futures;
  if (u < 86) return form_kind::pending_futures;
  if (u < 95) return form_kind::mixed;
  return form_kind::mixed_futures;
}

int pick_count(rng& r, int depth, int max_tasks) {
  if (depth > 0) return r.between(1, std::min(max_nested_tasks, std::max(1, max_tasks)));
  const int u = r.between(0, 99);
  int n = 0;
  if (u < 2)
    n = 0;  // empty input: a rule of its own for each combinator
  else if (u < 55)
    n = r.between(1, 8);
  else if (u < 85)
    n = r.between(9, 40);
  else
    n = r.between(41, std::max(41, max_tasks));
  return std::min(n, max_tasks);
}

/// How long a late future waits before it is set, or a callable of the mixed forms before
/// it returns. Most delays are short (and shorter still outside the focus mode, to keep the
/// fixed-seed runs' time); the focus mode adds the long ones that let a pool thread settle
/// into waiting for a future while the rest of the call goes on.
microseconds pick_delay(rng& r, bool focus, int zero_percent) {
  const int u = r.between(0, 99);
  if (u < zero_percent) return microseconds(0);
  if (!focus) return microseconds(r.between(50, 1500));
  if (u < zero_percent + (100 - zero_percent) / 2) return microseconds(r.between(100, 3000));
  if (u < 92) return microseconds(r.between(5000, 30000));
  return microseconds(r.between(40000, 100000));
}

/// Ready futures are the rarer kind: one that settles the call at once (any ready one for
/// race) leaves the rest of the call nothing to do.
input_kind pick_future_kind(rng& r, bool with_callables) {
  const int u = r.between(0, 99);
  if (u < 12) return input_kind::ready_future;
  if (u < 55) return input_kind::late_future;
  if (u < 80) return input_kind::never_future;
  return with_callables ? input_kind::sibling_future : input_kind::late_future;
}

/// A future that is set only after the call returns can decide nothing: the call must be
/// able to settle without it, and the SPEC gives the one rule per combinator (all_settled
/// waits for every future; all settles on a rejection; any on a value; race on anything).
/// On the inline executor the call runs its tasks one after another on the caller, where
/// waiting for a future that only a later task (or the end of the call) sets cannot end;
/// the SPEC leaves that open, so such futures become late ones there.
void make_decidable(scenario& s) {
  for (task_spec& t : s.tasks) {
    const bool inline_exec = s.exec == exec_kind::inline_exec;
    if ((t.input == input_kind::never_future &&
         (inline_exec || s.comb == comb_kind::all_settled)) ||
        (t.input == input_kind::sibling_future && inline_exec)) {
      t.input = input_kind::late_future;
      t.set_by = -1;
    }
  }
  const auto decides = [&](const task_spec& t) {
    if (t.input == input_kind::never_future) return false;
    switch (s.comb) {
      case comb_kind::all:
        return t.error != error_kind::none;
      case comb_kind::any:
        return t.error == error_kind::none;
      default:
        return true;
    }
  };
  if (std::none_of(s.tasks.begin(), s.tasks.end(), decides))
    for (task_spec& t : s.tasks)
      if (t.input == input_kind::never_future) t.input = input_kind::late_future;
}

/// A moment during a call: mostly within the first milliseconds, where the tasks run.
microseconds pick_moment(rng& r) {
  const int u = r.between(0, 99);
  if (u < 30) return microseconds(r.between(0, 100));
  if (u < 70) return microseconds(r.between(100, 1000));
  return microseconds(r.between(1000, 5000));
}

/// The call options of a scenario with `n` inputs, from a stream of their own.
option_spec draw_options(std::uint64_t seed, int depth, int n, const generator_options& opts) {
  rng r(mix(seed, 0x0B7105ull));
  option_spec o;
  const double share = opts.focus_options ? (depth == 0 ? 90.0 : 50.0) : (depth == 0 ? 40.0 : 20.0);
  if (!r.percent(share)) return o;
  o.drawn = true;
  o.designated = r.percent(30);
  if (r.percent(60)) {
    // Small limits are the interesting ones: 1 and 2 in half the cases.
    const int hi = r.percent(50) ? std::min(2, n + 1) : n + 1;
    o.limit = static_cast<std::size_t>(r.between(1, std::max(1, hi)));
  }
  const int d = r.between(0, 99);
  o.deadline = d < 40   ? deadline_kind::none
               : d < 50 ? deadline_kind::before
               : d < 85 ? deadline_kind::during
                        : deadline_kind::after;
  o.absolute = r.percent(40);
  o.both = r.percent(20);
  switch (o.deadline) {
    case deadline_kind::before:
      o.offset = -microseconds(r.percent(50) ? 0 : r.between(1, 1000));
      break;
    case deadline_kind::during:
      o.offset = pick_moment(r);
      break;
    default:
      o.offset = std::chrono::seconds(30);  // no call takes that long (the hang limit is 20 s)
      break;
  }
  // The other one of timeout/deadline: far away (the earlier must win) or close as well.
  o.also = r.percent(50) ? microseconds(std::chrono::seconds(30)) : pick_moment(r);
  const int s = r.between(0, 99);
  if (depth == 0) {
    // Only top-level calls get a stopper thread: nested calls are many.
    o.stop = s < 45   ? stop_kind::none
             : s < 55 ? stop_kind::before
             : s < 80 ? stop_kind::delay
                      : stop_kind::after_starts;
  } else {
    o.stop = s < 60 ? stop_kind::none : s < 70 ? stop_kind::before : stop_kind::parent;
  }
  o.stop_delay = pick_moment(r);
  o.stop_after = r.between(0, std::max(0, n));
  o.progress = r.percent(80);
  return o;
}

/// How a call is issued, from a stream of its own. `on_pool_thread`: the call is made by a
/// task running on a pool. A coroutine's result is collected with a plain blocking wait that
/// runs no tasks: on a pool thread that is the caller's own deadlock (a call on a one-thread
/// pool made from that pool's thread would wait for itself), so there start and get is used.
issue_spec draw_issue(std::uint64_t seed, bool on_pool_thread, const generator_options& opts) {
  rng r(mix(seed, 0x155E7Dull));
  issue_spec o;
  const int u = r.between(0, 99);
  const int plain = opts.focus_start ? 10 : 60;
  const int start = opts.focus_start ? 55 : 85;
  o.mode = u < plain ? call_mode::plain : u < start ? call_mode::start : call_mode::await;
  const int p = r.between(0, 99);
  o.poll = p < 40   ? poll_kind::none
           : p < 60 ? poll_kind::wait
           : p < 80 ? poll_kind::wait_for
                    : poll_kind::ready;
  o.wait_for = r.percent(30) ? microseconds(0) : pick_moment(r);
  o.work = r.percent(50) ? r.between(1, 20000) : 0;
  if (o.mode == call_mode::await && on_pool_thread) o.mode = call_mode::start;
  if (o.mode != call_mode::start) {
    o.poll = poll_kind::none;
    o.work = 0;
  }
  return o;
}

scenario generate_at(std::uint64_t seed, int depth, const generator_options& opts,
                     bool on_pool_thread) {
  rng r(seed);
  scenario s;
  s.seed = seed;
  s.depth = depth;
  const bool focus = opts.focus_futures;

  static constexpr exec_kind execs[] = {exec_kind::inline_exec,  exec_kind::pool1,
                                        exec_kind::pool2,        exec_kind::elastic,
                                        exec_kind::default_exec, exec_kind::derived};
  // The focus mode is about pool threads that wait for futures: mostly the small pools.
  static constexpr exec_kind focus_execs[] = {
      exec_kind::pool1,   exec_kind::pool1,        exec_kind::pool1,      exec_kind::pool2,
      exec_kind::pool2,   exec_kind::pool2,        exec_kind::derived,    exec_kind::derived,
      exec_kind::elastic, exec_kind::default_exec, exec_kind::inline_exec};
  static constexpr comb_kind combs[] = {comb_kind::all_settled, comb_kind::all, comb_kind::any,
                                        comb_kind::race};
  static constexpr value_kind values[] = {value_kind::int_value, value_kind::void_value,
                                          value_kind::move_only, value_kind::string_value};
  static constexpr variadic_shape any_shapes[] = {
      variadic_shape::one_int, variadic_shape::int_long_short, variadic_shape::four_void,
      variadic_shape::two_move_only};
  static constexpr variadic_shape all_shapes[] = {
      variadic_shape::one_int,    variadic_shape::int_void_string,
      variadic_shape::mixed_five, variadic_shape::int_long_short,
      variadic_shape::four_void,  variadic_shape::two_move_only};
  static constexpr mixed_shape mixes[] = {mixed_shape::f,    mixed_shape::ff,   mixed_shape::fc,
                                          mixed_shape::cf,   mixed_shape::cfc,  mixed_shape::ffc,
                                          mixed_shape::fcfc, mixed_shape::cffcf};

  // Draw every field even when an option overrides it, so that the rest of the scenario
  // stays the same with and without the override.
  const exec_kind drawn_exec = focus ? pick(r, focus_execs) : pick(r, execs);
  s.exec = opts.exec.value_or(drawn_exec);
  s.comb = pick(r, combs);
  s.form = pick_form(r, focus);
  s.value = pick(r, values);
  const bool any_like = s.comb == comb_kind::any || s.comb == comb_kind::race;
  s.shape = any_like ? pick(r, any_shapes) : pick(r, all_shapes);
  s.mix = pick(r, mixes);

  int n = pick_count(r, depth, opts.max_tasks);
  const bool mixed_kinds = s.form == form_kind::mixed || s.form == form_kind::mixed_futures;
  switch (s.form) {
    case form_kind::variadic:
      n = arity(s.shape);
      break;
    case form_kind::mixed:
      n = static_cast<int>(pattern_of(s.mix).size());
      s.value = value_kind::int_value;
      break;
    case form_kind::mixed_futures:
      n = std::min(n, focus ? 40 : 16);  // their kinds are the point, not their count
      s.value = value_kind::int_value;
      break;
    case form_kind::ready_futures:
    case form_kind::shared_futures:
    case form_kind::pending_futures:
      s.value = value_kind::int_value;
      break;
    default:
      break;
  }
  const std::string pattern = s.form == form_kind::mixed ? pattern_of(s.mix) : std::string();

  // How many tasks throw: none, a few, half, most or all of them.
  static constexpr double error_rates[] = {0.0, 0.0, 10.0, 50.0, 80.0, 100.0, 100.0};
  const double error_rate = pick(r, error_rates);
  // How many tasks wait: the total expected latency stays around 15 ms per scenario so
  // that thousands of scenarios fit in minutes even on the inline executor.
  static constexpr double latency_rates[] = {0.0, 10.0, 50.0};
  double latency_rate = pick(r, latency_rates);
  if (n > 0) latency_rate = std::min(latency_rate, 1500.0 / n);

  static constexpr error_kind errors[] = {error_kind::runtime_error, error_kind::out_of_range,
                                          error_kind::bad_alloc, error_kind::custom,
                                          error_kind::integer};
  const int max_nested = depth >= opts.max_depth ? 0 : (depth == 0 ? 3 : 2);
  // The focus mode's calls have few callables: nest more often, so that calls with futures
  // also run inside tasks on the pools they wait on.
  const double nest_rate = focus ? 30.0 : (depth == 0 ? 8.0 : 15.0);
  int nested = 0;

  s.tasks.resize(static_cast<std::size_t>(n));
  std::vector<int> callables;
  for (int i = 0; i < n; ++i) {
    task_spec& t = s.tasks[static_cast<std::size_t>(i)];
    switch (s.form) {
      case form_kind::ready_futures:
      case form_kind::shared_futures:
        t.input = input_kind::ready_future;
        break;
      case form_kind::pending_futures:
        t.input = input_kind::late_future;
        break;
      case form_kind::mixed_futures:
        t.input = pick_future_kind(r, false);
        break;
      case form_kind::mixed:
        if (pattern[static_cast<std::size_t>(i)] == 'F')
          t.input = pick_future_kind(r, pattern.find('C') != std::string::npos);
        else
          callables.push_back(i);
        break;
      default:
        break;
    }
    if (r.percent(error_rate)) t.error = pick(r, errors);
    if (mixed_kinds)
      t.latency = pick_delay(r, focus, t.input == input_kind::callable ? 45 : 15);
    else if (r.percent(latency_rate))
      t.latency = microseconds(r.between(0, 2000));
    if (t.input == input_kind::callable && nested < max_nested && r.percent(nest_rate)) {
      ++nested;
      // Its tasks run on the caller's thread only on the inline executor.
      t.nested = std::make_shared<const scenario>(
          generate_at(mix(seed, static_cast<std::uint64_t>(i) + 1), depth + 1, opts,
                      on_pool_thread || s.exec != exec_kind::inline_exec));
    }
  }
  // Each sibling future names the callable that sets it (drawn after every input, so that
  // it may be a later one).
  for (task_spec& t : s.tasks)
    if (t.input == input_kind::sibling_future)
      t.set_by = callables[static_cast<std::size_t>(r.next() % callables.size())];
  make_decidable(s);
  s.options = draw_options(seed, depth, n, opts);
  s.issue = draw_issue(seed, on_pool_thread, opts);
  return s;
}

}  // namespace

scenario generate(std::uint64_t seed, const generator_options& opts) {
  return generate_at(seed, 0, opts, false);
}

}  // namespace settle_stress
