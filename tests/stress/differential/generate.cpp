// The scenario generator. Everything random about a scenario is decided here, from the
// seed alone, before anything runs.
#include <algorithm>
#include <sstream>

#include "differential/scenario.hpp"

namespace settle_stress {

namespace {

constexpr int max_nested_tasks = 6;

template <class T, std::size_t N>
T pick(rng& r, const T (&options)[N]) {
  return options[r.next() % N];
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t salt) {
  rng r(seed ^ (salt * 0xD1B54A32D192ED03ull));
  return r.next();
}

form_kind pick_form(rng& r, int depth) {
  // Percentages; futures only at the top level (their setter thread is joined there).
  const int u = r.between(0, 99);
  if (u < 22) return form_kind::range;
  if (u < 40) return form_kind::range_token;
  if (u < 52) return form_kind::map;
  if (u < 62) return form_kind::map_token;
  if (u < 82 || depth > 0) return form_kind::variadic;
  if (u < 88) return form_kind::ready_futures;
  if (u < 92) return form_kind::shared_futures;
  return form_kind::pending_futures;
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

scenario generate_at(std::uint64_t seed, int depth, const generator_options& opts) {
  rng r(seed);
  scenario s;
  s.seed = seed;
  s.depth = depth;

  static constexpr exec_kind execs[] = {exec_kind::inline_exec, exec_kind::pool1, exec_kind::pool2,
                                        exec_kind::elastic, exec_kind::default_exec};
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

  // Draw every field even when an option overrides it, so that the rest of the scenario
  // stays the same with and without the override.
  const exec_kind drawn_exec = pick(r, execs);
  s.exec = opts.exec.value_or(drawn_exec);
  s.comb = pick(r, combs);
  s.form = pick_form(r, depth);
  s.value = pick(r, values);
  const bool any_like = s.comb == comb_kind::any || s.comb == comb_kind::race;
  s.shape = any_like ? pick(r, any_shapes) : pick(r, all_shapes);

  int n = pick_count(r, depth, opts.max_tasks);
  switch (s.form) {
    case form_kind::variadic:
      n = arity(s.shape);
      break;
    case form_kind::ready_futures:
    case form_kind::shared_futures:
    case form_kind::pending_futures:
      s.value = value_kind::int_value;
      break;
    default:
      break;
  }

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
  const double nest_rate = depth == 0 ? 8.0 : 15.0;
  int nested = 0;

  s.tasks.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    task_spec& t = s.tasks[static_cast<std::size_t>(i)];
    if (r.percent(error_rate)) t.error = pick(r, errors);
    if (r.percent(latency_rate)) t.latency = std::chrono::microseconds(r.between(0, 2000));
    const bool can_nest = s.form != form_kind::ready_futures &&
                          s.form != form_kind::shared_futures &&
                          s.form != form_kind::pending_futures;
    if (can_nest && nested < max_nested && r.percent(nest_rate)) {
      ++nested;
      t.nested = std::make_shared<const scenario>(
          generate_at(mix(seed, static_cast<std::uint64_t>(i) + 1), depth + 1, opts));
    }
  }
  return s;
}

}  // namespace

scenario generate(std::uint64_t seed, const generator_options& opts) {
  return generate_at(seed, 0, opts);
}

int arity(variadic_shape k) {
  switch (k) {
    case variadic_shape::one_int:
      return 1;
    case variadic_shape::int_void_string:
      return 3;
    case variadic_shape::mixed_five:
      return 5;
    case variadic_shape::int_long_short:
      return 3;
    case variadic_shape::four_void:
      return 4;
    case variadic_shape::two_move_only:
      return 2;
  }
  return 0;
}

const char* name_of(exec_kind k) {
  switch (k) {
    case exec_kind::inline_exec:
      return "inline";
    case exec_kind::pool1:
      return "pool1";
    case exec_kind::pool2:
      return "pool2";
    case exec_kind::elastic:
      return "elastic";
    case exec_kind::default_exec:
      return "default";
  }
  return "?";
}

const char* name_of(comb_kind k) {
  switch (k) {
    case comb_kind::all_settled:
      return "all_settled";
    case comb_kind::all:
      return "all";
    case comb_kind::any:
      return "any";
    case comb_kind::race:
      return "race";
  }
  return "?";
}

const char* name_of(form_kind k) {
  switch (k) {
    case form_kind::range:
      return "range";
    case form_kind::range_token:
      return "range(stop_token)";
    case form_kind::map:
      return "map";
    case form_kind::map_token:
      return "map(stop_token)";
    case form_kind::variadic:
      return "variadic";
    case form_kind::ready_futures:
      return "ready futures";
    case form_kind::shared_futures:
      return "ready shared_futures";
    case form_kind::pending_futures:
      return "pending futures";
  }
  return "?";
}

const char* name_of(value_kind k) {
  switch (k) {
    case value_kind::int_value:
      return "int";
    case value_kind::void_value:
      return "void";
    case value_kind::move_only:
      return "unique_ptr<int>";
    case value_kind::string_value:
      return "string";
  }
  return "?";
}

const char* name_of(variadic_shape k) {
  switch (k) {
    case variadic_shape::one_int:
      return "(int)";
    case variadic_shape::int_void_string:
      return "(int, void, string)";
    case variadic_shape::mixed_five:
      return "(unique_ptr<int>, int, void, string, int)";
    case variadic_shape::int_long_short:
      return "(int, long, short)";
    case variadic_shape::four_void:
      return "(void, void, void, void)";
    case variadic_shape::two_move_only:
      return "(unique_ptr<int>, unique_ptr<int>)";
  }
  return "?";
}

const char* name_of(error_kind k) {
  switch (k) {
    case error_kind::none:
      return "ok";
    case error_kind::runtime_error:
      return "runtime_error";
    case error_kind::out_of_range:
      return "out_of_range";
    case error_kind::bad_alloc:
      return "bad_alloc";
    case error_kind::custom:
      return "custom_failure";
    case error_kind::integer:
      return "long long";
  }
  return "?";
}

std::optional<exec_kind> parse_exec(const std::string& name) {
  for (exec_kind k : {exec_kind::inline_exec, exec_kind::pool1, exec_kind::pool2,
                      exec_kind::elastic, exec_kind::default_exec})
    if (name == name_of(k)) return k;
  return std::nullopt;
}

std::string describe(const scenario& s) {
  std::ostringstream out;
  out << "{seed " << s.seed << ": " << name_of(s.comb) << " on " << name_of(s.exec) << ", "
      << name_of(s.form) << " of ";
  if (s.form == form_kind::variadic)
    out << name_of(s.shape);
  else
    out << s.tasks.size() << " x " << name_of(s.value);
  out << "; tasks:";
  bool any_special = false;
  for (std::size_t i = 0; i < s.tasks.size(); ++i) {
    const task_spec& t = s.tasks[i];
    if (t.error == error_kind::none && t.latency.count() == 0 && !t.nested) continue;
    any_special = true;
    out << " [" << i << ": " << name_of(t.error);
    if (t.latency.count() != 0) out << " after " << t.latency.count() << "us";
    if (t.nested) out << ", nested " << describe(*t.nested);
    out << "]";
  }
  if (!any_special)
    out << " all fulfil at once";
  else
    out << " (others fulfil at once)";
  out << "}";
  return out.str();
}

}  // namespace settle_stress
