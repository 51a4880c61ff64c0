// The oracle: what SPEC.md allows as the outcome of one call, given its scenario.
//
// The oracle knows nothing about how settle works inside: it reads the scenario (which
// inputs throw what, which are futures and when they are set, which executor) and the rules
// of SPEC.md, and says which outcomes are legal. Where the SPEC leaves the outcome open
// (which of several rejections `all` reports on a pool, which task wins a race on a pool)
// it accepts every legal answer; where the SPEC fixes it (the inline executor runs tasks one
// after another in argument order; ready futures are taken in index order; a future set
// only after the call can decide nothing) it demands it.
#pragma once

#include <string>
#include <vector>

#include "differential/issue.hpp"
#include "differential/runner.hpp"

namespace settle_stress {

// Call options (options.cpp; the rules in options.hpp).
/// Right after the call: what may have expired it by then.
void options_call_returned(run_context& c);
/// all_settled, slot `index`: true when it holds timed_out or cancelled (judged there).
[[nodiscard]] bool options_judge_slot(const run_context& c, int index, bool fulfilled,
                                      const std::exception_ptr& reason);
/// all, any, race: true when `error` is timed_out or cancelled (judged there).
[[nodiscard]] bool options_judge_thrown(const run_context& c, const std::exception_ptr& error);
/// Starts, limit, order and on_settled reports, once the outcome has been checked.
void options_check_call(const run_context& c, bool returned, std::optional<int> number,
                        const std::exception_ptr& error);
/// After the call: its deadline had passed, or its stop had been requested, when it returned.
[[nodiscard]] bool may_have_expired(const run_context& c);

/// After every call: no task body still running, none started twice, all_settled started
/// every one; on the inline executor with callables only, exactly the tasks up to the
/// deciding one started.
void check_structure(const run_context& c, bool returned);

/// One slot of all_settled: the right status, value or reason, and consistent observers.
template <class T>
void check_slot(const run_context& c, int index, const settle::settled<T>& r) {
  const std::string where = "slot " + std::to_string(index);
  const bool fulfilled = r.is_fulfilled();
  if (fulfilled == r.is_rejected() || static_cast<bool>(r) != fulfilled ||
      (r.status() == settle::status::fulfilled) != fulfilled ||
      (r.reason() == nullptr) != fulfilled)
    c.mismatch(where + ": status(), is_fulfilled(), is_rejected(), bool and reason() disagree");
  if (c.opts != nullptr && options_judge_slot(c, index, fulfilled, r.reason())) return;
  const task_spec& t = c.task(index);
  if (t.error == error_kind::none) {
    if (!fulfilled) {
      c.mismatch(where + ": expected fulfilled, got rejected with " + explain(r.reason()));
      return;
    }
    if constexpr (!std::is_void_v<T>) {
      const std::optional<int> n = number_of(r.value());
      if (n != value_of(c.s, index))
        c.mismatch(where + ": wrong value " + (n ? std::to_string(*n) : std::string("(none)")) +
                   ", expected " + std::to_string(value_of(c.s, index)));
    }
    return;
  }
  if (fulfilled) {
    c.mismatch(where + ": expected rejected with " + name_of(t.error) + ", got fulfilled");
    return;
  }
  if (!reason_matches(c, r.reason(), index))
    c.mismatch(where + ": expected " + expected_description(c, index) + " (" + name_of(t.error) +
               "), got " + explain(r.reason()));
  if (settle::describe(r.reason()) != expected_description(c, index))
    c.mismatch(where + ": describe() says \"" + settle::describe(r.reason()) + "\", expected \"" +
               expected_description(c, index) + "\"");
  try {
    if constexpr (std::is_void_v<T>)
      r.value();
    else
      (void)r.value();
    c.mismatch(where + ": value() of a rejected slot did not throw");
  } catch (...) {
    if (!reason_matches(c, std::current_exception(), index))
      c.mismatch(where + ": value() threw " + explain(std::current_exception()));
  }
}

/// `all`: a value per slot when no input rejects, else one rejected input's exception (one
/// that can settle during the call: never a future set only after it).
void check_all_outcome(const run_context& c, const std::exception_ptr& error);
/// One value of `all`'s result (monostate for void tasks).
template <class V>
void check_all_value(const run_context& c, int index, const V& v) {
  if constexpr (!std::is_same_v<V, std::monostate>) {
    const std::optional<int> n = number_of(v);
    if (n != value_of(c.s, index))
      c.mismatch("all: value " + std::to_string(index) + " is " +
                 (n ? std::to_string(*n) : std::string("(none)")) + ", expected " +
                 std::to_string(value_of(c.s, index)));
  }
}

/// `any` and `race`: `number` is what the returned value carries (nothing for void). The
/// winner is an input that can settle during the call; when futures were ready before the
/// call, the lowest-index one of those (of those that fulfil, for `any`) or an input
/// below it that may have been settled by the time the call looked at it.
void check_single_outcome(const run_context& c, bool returned, std::optional<int> number,
                          const std::exception_ptr& error);

/// The checks every form makes on the outcome of a call of combinator C.
template <comb_kind C, class Result, class PerValue>
void check_outcome(run_context& c, const outcome<Result>& o, PerValue&& per_value) {
  const bool returned = o.value.has_value();
  if (c.opts != nullptr) options_call_returned(c);
  std::optional<int> number;
  if constexpr (C == comb_kind::all_settled) {
    if (!returned)
      c.mismatch("all_settled threw " + explain(o.error));
    else
      per_value(*o.value);
  } else if constexpr (C == comb_kind::all) {
    check_all_outcome(c, o.error);
    if (returned) per_value(*o.value);
  } else {
    if (returned) number = number_of(*o.value);
    check_single_outcome(c, returned, number, o.error);
  }
  check_structure(c, returned);
  if (c.opts != nullptr) options_check_call(c, returned, number, o.error);
  check_liveness(c);
}

/// The per-slot checks of the range and map forms (all_settled and all).
template <comb_kind C, class Vector>
void check_range_values(const run_context& c, const Vector& v) {
  if (v.size() != c.s.tasks.size()) {
    c.mismatch("returned " + std::to_string(v.size()) + " results for " +
               std::to_string(c.s.tasks.size()) + " tasks");
    return;
  }
  for (int i = 0; i < c.size(); ++i) {
    if constexpr (C == comb_kind::all_settled)
      check_slot(c, i, v[static_cast<std::size_t>(i)]);
    else
      check_all_value(c, i, v[static_cast<std::size_t>(i)]);
  }
}

/// Runs `call<C>(c, ex, args...)` on the scenario's executor and combinator, and checks the
/// outcome slot by slot as a range result.
template <class... Args>
void run_and_check_range(run_context& c, Args&... args) {
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      const auto o = capture([&] { return call<C>(c, ex, args...); });
      check_outcome<C>(c, o, [&](const auto& result) { check_range_values<C>(c, result); });
    });
  });
}

}  // namespace settle_stress
