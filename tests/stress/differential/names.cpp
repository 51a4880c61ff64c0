// Names of the scenario's enumerations, and the one-line description of a scenario that
// failure and hang reports print.
#include <sstream>

#include "differential/scenario.hpp"

namespace settle_stress {

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
    case exec_kind::derived:
      return "derived";
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
    case form_kind::mixed_futures:
      return "futures of mixed kinds";
    case form_kind::mixed:
      return "variadic futures and callables";
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

const char* name_of(input_kind k) {
  switch (k) {
    case input_kind::callable:
      return "callable";
    case input_kind::ready_future:
      return "ready future";
    case input_kind::late_future:
      return "late future";
    case input_kind::never_future:
      return "future set after the call";
    case input_kind::sibling_future:
      return "future set by task";
  }
  return "?";
}

const char* name_of(mixed_shape k) {
  switch (k) {
    case mixed_shape::f:
      return "(F)";
    case mixed_shape::ff:
      return "(F, F)";
    case mixed_shape::fc:
      return "(F, C)";
    case mixed_shape::cf:
      return "(C, F)";
    case mixed_shape::cfc:
      return "(C, F, C)";
    case mixed_shape::ffc:
      return "(F, F, C)";
    case mixed_shape::fcfc:
      return "(F, C, F, C)";
    case mixed_shape::cffcf:
      return "(C, F, F, C, F)";
  }
  return "?";
}

const char* name_of(deadline_kind k) {
  switch (k) {
    case deadline_kind::none:
      return "none";
    case deadline_kind::before:
      return "before the call";
    case deadline_kind::during:
      return "during the call";
    case deadline_kind::after:
      return "after the call";
  }
  return "?";
}

const char* name_of(stop_kind k) {
  switch (k) {
    case stop_kind::none:
      return "none";
    case stop_kind::before:
      return "before the call";
    case stop_kind::delay:
      return "by another thread after";
    case stop_kind::after_starts:
      return "by another thread once started:";
    case stop_kind::parent:
      return "the parent task's token";
  }
  return "?";
}

const char* name_of(call_mode k) {
  switch (k) {
    case call_mode::plain:
      return "plain call";
    case call_mode::start:
      return "start";
    case call_mode::await:
      return "start, co_await in a coroutine, its result collected on the caller";
  }
  return "?";
}

const char* name_of(poll_kind k) {
  switch (k) {
    case poll_kind::none:
      return "none";
    case poll_kind::wait:
      return "wait()";
    case poll_kind::wait_for:
      return "wait_for()";
    case poll_kind::ready:
      return "ready()";
  }
  return "?";
}

namespace {

std::string describe(const issue_spec& o) {
  std::ostringstream out;
  out << "; issued: " << name_of(o.mode);
  if (o.mode != call_mode::start) return out.str();
  if (o.work != 0) out << ", " << o.work << " rounds of work";
  if (o.poll == poll_kind::wait_for)
    out << ", wait_for(" << o.wait_for.count() << "us)";
  else if (o.poll != poll_kind::none)
    out << ", " << name_of(o.poll);
  out << ", get";
  return out.str();
}

std::string describe(const option_spec& o) {
  std::ostringstream out;
  out << "; options:";
  if (o.designated) out << " (designated)";
  if (o.limit != 0) out << " limit " << o.limit;
  if (o.deadline != deadline_kind::none) {
    out << " " << (o.absolute ? "deadline" : "timeout") << " " << name_of(o.deadline) << " ("
        << o.offset.count() << "us)";
    if (o.both)
      out << " | " << (o.absolute ? "timeout" : "deadline") << " " << o.also.count() << "us";
  }
  if (o.stop != stop_kind::none) {
    out << " stop " << name_of(o.stop);
    if (o.stop == stop_kind::delay) out << " " << o.stop_delay.count() << "us";
    if (o.stop == stop_kind::after_starts) out << " " << o.stop_after;
  }
  if (o.progress) out << " on_settled";
  return out.str();
}

}  // namespace

std::string pattern_of(mixed_shape k) {
  std::string out;
  for (const char* p = name_of(k); *p != '\0'; ++p)
    if (*p == 'F' || *p == 'C') out += *p;
  return out;
}

std::optional<exec_kind> parse_exec(const std::string& name) {
  for (exec_kind k : {exec_kind::inline_exec, exec_kind::pool1, exec_kind::pool2,
                      exec_kind::elastic, exec_kind::default_exec, exec_kind::derived})
    if (name == name_of(k)) return k;
  return std::nullopt;
}

std::string describe(const scenario& s) {
  std::ostringstream out;
  out << "{seed " << s.seed << ": " << name_of(s.comb) << " on " << name_of(s.exec) << ", "
      << name_of(s.form) << " of ";
  if (s.form == form_kind::variadic)
    out << name_of(s.shape);
  else if (s.form == form_kind::mixed)
    out << name_of(s.mix) << " -> int";
  else
    out << s.tasks.size() << " x " << name_of(s.value);
  out << describe(s.issue);
  if (s.options.drawn) out << describe(s.options);
  out << "; tasks:";
  bool any_special = false;
  for (std::size_t i = 0; i < s.tasks.size(); ++i) {
    const task_spec& t = s.tasks[i];
    // Futures of the mixed forms are always listed: their kind is the point.
    const bool listed = s.form == form_kind::mixed || s.form == form_kind::mixed_futures;
    // A delay means something for callables and late futures only.
    const bool delayed = t.latency.count() != 0 &&
                         (t.input == input_kind::callable || t.input == input_kind::late_future);
    if (!listed && t.error == error_kind::none && !delayed && !t.nested) continue;
    any_special = true;
    out << " [" << i << ": ";
    if (t.input != input_kind::callable) out << name_of(t.input) << ", ";
    out << name_of(t.error);
    if (t.input == input_kind::sibling_future) out << ", set by task " << t.set_by;
    if (delayed) out << " after " << t.latency.count() << "us";
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
