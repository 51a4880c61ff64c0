// The non-template half of the oracle: which inputs may decide a call, and the checks of
// all, any and race outcomes and of the call's structure.
#include "differential/oracle.hpp"

#include <algorithm>

namespace settle_stress {

namespace {

std::string task_name(const run_context& c, int index) {
  std::string name = "task " + std::to_string(index);
  if (c.s.is_future(index)) name += std::string(" (") + name_of(c.task(index).input) + ")";
  return name;
}

std::string list(const run_context& c, const std::vector<int>& indices) {
  if (indices.empty()) return "none";
  std::string out;
  for (int i : indices) out += (out.empty() ? "" : ", ") + task_name(c, i);
  return out;
}

bool rejects(const run_context& c, int i) { return c.task(i).error != error_kind::none; }

/// A future set only after the call returns cannot settle anything during it.
bool settles_during_call(const run_context& c, int i) {
  return c.task(i).input != input_kind::never_future;
}

std::vector<int> inputs_where(const run_context& c, bool rejecting) {
  std::vector<int> out;
  for (int i = 0; i < c.size(); ++i)
    if (rejects(c, i) == rejecting && settles_during_call(c, i)) out.push_back(i);
  return out;
}

/// The inline executor runs callables one after another in argument order (SPEC §3): with
/// callables only, the order in which they settle is fixed.
bool runs_in_order(const run_context& c) {
  if (!c.has_bodies || c.s.exec != exec_kind::inline_exec) return false;
  for (int i = 0; i < c.size(); ++i)
    if (c.s.is_future(i)) return false;
  return true;
}

/// The inputs that may decide `race` (any input) or `any` (`fulfilling`: inputs that
/// fulfil), given what the SPEC fixes about timing:
/// - a future set only after the call returns decides nothing;
/// - on the inline executor with callables only, the first one in argument order decides;
/// - inputs already settled when the call looks at them go in index order: when a future
///   was ready before the call, the lowest-index such future `r` decides, unless an input
///   below `r` was settled too by the time the call looked at it. Only futures can be:
///   a late one (its setter may have run before the call, or before the call got to it),
///   or one set by a sibling task (if the call looks at futures once it has started its
///   tasks). A callable below `r` cannot: `r` settled before the call began, so before
///   any callable of the call could run.
std::vector<int> possible_winners(const run_context& c, bool fulfilling) {
  const auto wanted = [&](int i) {
    return settles_during_call(c, i) && (!fulfilling || !rejects(c, i));
  };
  std::vector<int> out;
  if (runs_in_order(c)) {
    for (int i = 0; i < c.size(); ++i)
      if (wanted(i)) return {i};
    return out;
  }
  int first_ready = -1;
  for (int i = 0; i < c.size() && first_ready < 0; ++i)
    if (wanted(i) && c.task(i).input == input_kind::ready_future) first_ready = i;
  for (int i = 0; i < c.size(); ++i) {
    if (!wanted(i)) continue;
    const input_kind k = c.task(i).input;
    const bool maybe_settled_first =
        i < first_ready && (k == input_kind::late_future || k == input_kind::sibling_future);
    if (first_ready < 0 || i == first_ready || maybe_settled_first) out.push_back(i);
  }
  return out;
}

}  // namespace

void check_structure(const run_context& c, bool returned) {
  if (!c.has_bodies) return;
  // Acquire pairs with each body's release on exit.
  const int running = c.running.load(std::memory_order_acquire);
  if (running != 0)
    c.mismatch(std::string(returned ? "returned" : "threw") + " while " + std::to_string(running) +
               " task(s) were still running");
  const int n = c.size();
  // On the inline executor the tasks run in order and the call decides at a known task:
  // exactly the tasks up to it start. Elsewhere (or with futures among the inputs, which
  // settle when they are set) only "at most once" (and for all_settled, "every one") is
  // fixed.
  const bool in_order = runs_in_order(c);
  // A deadline or a stop request may have cut the call short: then a task may not have
  // started (its slot is judged by the options' oracle), and on the inline executor the tasks
  // that started are a prefix of those up to the deciding one.
  const bool expired = may_have_expired(c);
  int last = n - 1;
  if (in_order) {
    const auto first_where = [&](bool rejecting) {
      for (int i = 0; i < n; ++i)
        if (rejects(c, i) == rejecting) return i;
      return n - 1;
    };
    switch (c.s.comb) {
      case comb_kind::all_settled:
        break;
      case comb_kind::all:
        last = first_where(true);
        break;
      case comb_kind::any:
        last = first_where(false);
        break;
      case comb_kind::race:
        last = 0;
        break;
    }
  }
  for (int i = 0; i < n; ++i) {
    const int started = c.started[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
    if (c.s.is_future(i)) continue;  // no body: never counted
    if (started > 1) c.mismatch(task_name(c, i) + " started " + std::to_string(started) + " times");
    if (c.s.comb == comb_kind::all_settled && started != 1 && !expired)
      c.mismatch(task_name(c, i) + " never started, but all_settled runs every task");
    if (in_order) {
      const bool before_started =
          i == 0 || c.started[static_cast<std::size_t>(i - 1)].load(std::memory_order_relaxed) == 1;
      if (expired && i <= last && started == 1 && !before_started)
        c.mismatch(task_name(c, i) + " started on the inline executor, but task " +
                   std::to_string(i - 1) + " before it did not");
      if (i <= last && started != 1 && !expired)
        c.mismatch(task_name(c, i) +
                   " did not start on the inline executor before the call was decided at task " +
                   std::to_string(last));
      if (i > last && started != 0)
        c.mismatch(task_name(c, i) + " started after the call was decided at task " +
                   std::to_string(last) + " (not-yet-started tasks must not start)");
    }
  }
}

void check_all_outcome(const run_context& c, const std::exception_ptr& error) {
  if (error && c.opts != nullptr && options_judge_thrown(c, error)) return;
  // Rejections that can settle the call: not those of futures set only after it.
  const std::vector<int> rejecting = inputs_where(c, true);
  bool any_rejects = false;
  for (int i = 0; i < c.size(); ++i) any_rejects = any_rejects || rejects(c, i);
  if (!any_rejects) {
    if (error) c.mismatch("threw " + explain(error) + " although every task fulfils");
    return;
  }
  if (!error) {
    for (int i = 0; i < c.size(); ++i)
      if (rejects(c, i)) {
        c.mismatch("returned although " + task_name(c, i) + " rejects");
        break;
      }
    return;
  }
  // Which rejection comes first in time is open on a pool unless there is only one.
  if (rejecting.size() == 1 || (runs_in_order(c) && !rejecting.empty())) {
    const int expected = rejecting.front();
    if (!reason_matches(c, error, expected))
      c.mismatch("threw " + explain(error) + ", expected the exception of " +
                 task_name(c, expected) + " (" + expected_description(c, expected) + ")");
    return;
  }
  const bool legal = std::any_of(rejecting.begin(), rejecting.end(),
                                 [&](int i) { return reason_matches(c, error, i); });
  if (!legal)
    c.mismatch("threw " + explain(error) + ", which no task that can reject during the call (" +
               list(c, rejecting) + ") threw");
}

void check_single_outcome(const run_context& c, bool returned, std::optional<int> number,
                          const std::exception_ptr& error) {
  if (!returned && c.opts != nullptr && options_judge_thrown(c, error)) return;
  const int n = c.size();

  // A returned value must be that of an input in `allowed` (void values name nobody).
  const auto check_returned_value = [&](const std::vector<int>& allowed) {
    if (!number) return;
    const int j = index_of_number(c, *number);
    if (j < 0) {
      c.mismatch("returned the value " + std::to_string(*number) + ", which no task produces");
    } else if (rejects(c, j)) {
      c.mismatch("returned the value of " + task_name(c, j) + ", which rejects");
    } else if (std::find(allowed.begin(), allowed.end(), j) == allowed.end()) {
      c.mismatch("returned the value of " + task_name(c, j) +
                 ", expected that of one of: " + list(c, allowed));
    }
  };

  if (c.s.comb == comb_kind::any) {
    const std::vector<int> winners = possible_winners(c, true);
    if (!winners.empty()) {
      if (!returned)
        c.mismatch("threw " + explain(error) + " although " + list(c, winners) + " fulfil(s)");
      else
        check_returned_value(winners);
      return;
    }
    if (returned) {
      c.mismatch("returned although every task rejects");
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const settle::aggregate_error& e) {
      if (e.reasons().size() != static_cast<std::size_t>(n)) {
        c.mismatch("aggregate_error has " + std::to_string(e.reasons().size()) + " reasons for " +
                   std::to_string(n) + " tasks");
        return;
      }
      for (int i = 0; i < n; ++i)
        if (!reason_matches(c, e.reasons()[static_cast<std::size_t>(i)], i))
          c.mismatch("aggregate_error reason " + std::to_string(i) + " is " +
                     explain(e.reasons()[static_cast<std::size_t>(i)]) + ", expected " +
                     expected_description(c, i) + " (reasons must be in argument order)");
    } catch (...) {
      c.mismatch("threw " + explain(error) + ", expected settle::aggregate_error");
    }
    return;
  }

  // race
  if (n == 0) {
    bool is_empty_race = false;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const settle::empty_race&) {
        is_empty_race = true;
      } catch (...) {
      }
    }
    if (!is_empty_race)
      c.mismatch(returned ? std::string("returned for no tasks, expected settle::empty_race")
                          : "threw " + explain(error) + ", expected settle::empty_race");
    return;
  }
  const std::vector<int> winners = possible_winners(c, false);
  std::vector<int> fulfilling;
  std::vector<int> rejecting;
  for (int i : winners) (rejects(c, i) ? rejecting : fulfilling).push_back(i);
  if (returned) {
    if (fulfilling.empty())
      c.mismatch("returned a value, but every task that can settle the race first (" +
                 list(c, winners) + ") rejects");
    else
      check_returned_value(fulfilling);
    return;
  }
  const bool legal = std::any_of(rejecting.begin(), rejecting.end(),
                                 [&](int i) { return reason_matches(c, error, i); });
  if (!legal)
    c.mismatch("threw " + explain(error) + ", but the race is won by one of: " + list(c, winners) +
               (rejecting.empty() ? " (each fulfils)" : ""));
}

}  // namespace settle_stress
