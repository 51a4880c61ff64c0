// The non-template half of the runner: exceptions, the oracle's rules, dispatch by form.
#include "differential/runner.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <typeinfo>

namespace settle_stress {

namespace {

std::atomic<std::uint64_t> next_call_id{1};

std::string task_name(int index) { return "task " + std::to_string(index); }

std::vector<int> tasks_where(const run_context& c, bool rejecting) {
  std::vector<int> out;
  for (int i = 0; i < c.size(); ++i)
    if ((c.task(i).error != error_kind::none) == rejecting) out.push_back(i);
  return out;
}

/// The SPEC fixes the order in which tasks settle in two cases: the inline executor runs
/// them one after another in argument order, and inputs already settled before the call
/// are taken in index order (for `any` and `race`).
bool order_is_determined(const run_context& c) {
  if (c.s.form == form_kind::ready_futures || c.s.form == form_kind::shared_futures)
    return c.s.comb == comb_kind::any || c.s.comb == comb_kind::race;
  return c.has_bodies && c.s.exec == exec_kind::inline_exec;
}

}  // namespace

statistics& stats() {
  static statistics s;
  return s;
}

void mismatch_log::add(std::string what) {
  std::lock_guard lock(mutex_);
  entries_.push_back(std::move(what));
}

std::vector<std::string> mismatch_log::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

run_context::run_context(const scenario& sc, const pools& ps, mismatch_log& lg, std::string p)
    : s(sc),
      pool(ps),
      log(lg),
      path(std::move(p)),
      call_id(next_call_id.fetch_add(1, std::memory_order_relaxed)),
      started(std::make_unique<std::atomic<int>[]>(sc.tasks.size())) {}

void run_context::mismatch(const std::string& what) const {
  log.add(path + ": " + name_of(s.comb) + " on " + name_of(s.exec) + " (" + name_of(s.form) +
          "): " + what);
}

void run_scenario(const scenario& s, const pools& p, mismatch_log& log, const std::string& path) {
  run_context c(s, p, log, s.depth == 0 ? path : path + " / seed " + std::to_string(s.seed));
  stats().calls.fetch_add(1, std::memory_order_relaxed);
  switch (s.form) {
    case form_kind::range:
    case form_kind::range_token:
      run_range_form(c);
      break;
    case form_kind::map:
    case form_kind::map_token:
      run_map_form(c);
      break;
    case form_kind::variadic:
      run_variadic_form(c);
      break;
    case form_kind::ready_futures:
    case form_kind::shared_futures:
    case form_kind::pending_futures:
      run_futures_form(c);
      break;
  }
}

// ---- exceptions ---------------------------------------------------------------------------

namespace {

std::string message_of(error_kind k, std::uint64_t call, int index) {
  const std::string who = "call " + std::to_string(call) + " task " + std::to_string(index);
  return k == error_kind::out_of_range ? who + ": out of range" : who + " failed";
}

long long integer_of(std::uint64_t call, int index) {
  return static_cast<long long>(call) * 1000 + index;
}

}  // namespace

void throw_error(error_kind k, std::uint64_t call, int index) {
  switch (k) {
    case error_kind::runtime_error:
      throw std::runtime_error(message_of(k, call, index));
    case error_kind::out_of_range:
      throw std::out_of_range(message_of(k, call, index));
    case error_kind::bad_alloc:
      throw std::bad_alloc();
    case error_kind::custom:
      throw custom_failure{call, index};
    case error_kind::integer:
      throw integer_of(call, index);
    case error_kind::none:
      break;
  }
  throw std::logic_error("throw_error(none)");
}

std::exception_ptr make_error(error_kind k, std::uint64_t call, int index) {
  try {
    throw_error(k, call, index);
  } catch (...) {
    return std::current_exception();
  }
}

bool reason_matches(const run_context& c, const std::exception_ptr& e, int index) {
  if (!e) return false;
  const error_kind k = c.task(index).error;
  try {
    std::rethrow_exception(e);
  } catch (const std::out_of_range& x) {
    return k == error_kind::out_of_range && typeid(x) == typeid(std::out_of_range) &&
           x.what() == message_of(k, c.call_id, index);
  } catch (const std::runtime_error& x) {
    return k == error_kind::runtime_error && typeid(x) == typeid(std::runtime_error) &&
           x.what() == message_of(k, c.call_id, index);
  } catch (const std::bad_alloc& x) {
    return k == error_kind::bad_alloc && typeid(x) == typeid(std::bad_alloc);
  } catch (const custom_failure& x) {
    return k == error_kind::custom && x.call == c.call_id && x.index == index;
  } catch (long long x) {
    return k == error_kind::integer && x == integer_of(c.call_id, index);
  } catch (...) {
    return false;
  }
}

std::string expected_description(const run_context& c, int index) {
  const error_kind k = c.task(index).error;
  switch (k) {
    case error_kind::runtime_error:
    case error_kind::out_of_range:
      return message_of(k, c.call_id, index);
    case error_kind::bad_alloc:
      return std::bad_alloc().what();
    case error_kind::custom:
    case error_kind::integer:
      return "unknown exception";
    case error_kind::none:
      break;
  }
  return "";
}

std::string explain(const std::exception_ptr& e) {
  if (!e) return "(no exception)";
  try {
    std::rethrow_exception(e);
  } catch (const settle::aggregate_error& x) {
    std::string s =
        "settle::aggregate_error with " + std::to_string(x.reasons().size()) + " reasons [";
    for (std::size_t i = 0; i < x.reasons().size() && i < 8; ++i)
      s += (i != 0 ? "; " : "") + explain(x.reasons()[i]);
    return s + (x.reasons().size() > 8 ? "; ...]" : "]");
  } catch (const settle::cancelled&) {
    return "settle::cancelled";
  } catch (const std::exception& x) {
    return std::string("std::exception \"") + x.what() + "\"";
  } catch (const custom_failure& x) {
    return "custom_failure{call " + std::to_string(x.call) + ", task " + std::to_string(x.index) +
           "}";
  } catch (const stopped_early& x) {
    return "stopped_early{call " + std::to_string(x.call) + ", task " + std::to_string(x.index) +
           "} (a stop_token was signalled before the call settled)";
  } catch (long long x) {
    return "integer " + std::to_string(x);
  } catch (...) {
    return "an exception of unknown type";
  }
}

int index_of_number(const run_context& c, int number) {
  for (int i = 0; i < c.size(); ++i)
    if (value_of(c.s, i) == number) return i;
  return -1;
}

// ---- the oracle ---------------------------------------------------------------------------

void check_structure(const run_context& c, bool returned) {
  if (!c.has_bodies) return;
  // Acquire pairs with each body's release on exit.
  const int running = c.running.load(std::memory_order_acquire);
  if (running != 0)
    c.mismatch(std::string(returned ? "returned" : "threw") + " while " + std::to_string(running) +
               " task(s) were still running");
  const int n = c.size();
  // On the inline executor the tasks run in order and the call decides at a known task:
  // exactly the tasks up to it start. Elsewhere only "at most once" (and for all_settled,
  // "every one") is fixed.
  int last = n - 1;
  if (c.s.exec == exec_kind::inline_exec) {
    const auto first_where = [&](bool rejecting) {
      for (int i = 0; i < n; ++i)
        if ((c.task(i).error != error_kind::none) == rejecting) return i;
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
    if (started > 1) c.mismatch(task_name(i) + " started " + std::to_string(started) + " times");
    if (c.s.comb == comb_kind::all_settled && started != 1)
      c.mismatch(task_name(i) + " never started, but all_settled runs every task");
    if (c.s.exec == exec_kind::inline_exec) {
      if (i <= last && started != 1)
        c.mismatch(task_name(i) +
                   " did not start on the inline executor before the call was decided at task " +
                   std::to_string(last));
      if (i > last && started != 0)
        c.mismatch(task_name(i) + " started after the call was decided at task " +
                   std::to_string(last) + " (not-yet-started tasks must not start)");
    }
  }
}

void check_all_outcome(const run_context& c, const std::exception_ptr& error) {
  const std::vector<int> rejecting = tasks_where(c, true);
  if (rejecting.empty()) {
    if (error) c.mismatch("threw " + explain(error) + " although every task fulfils");
    return;
  }
  if (!error) {
    c.mismatch("returned although " + task_name(rejecting.front()) + " rejects");
    return;
  }
  // Which rejection comes first in time is open on a pool unless there is only one.
  if (rejecting.size() == 1 || order_is_determined(c)) {
    const int expected = rejecting.front();
    if (!reason_matches(c, error, expected))
      c.mismatch("threw " + explain(error) + ", expected the exception of " + task_name(expected) +
                 " (" + expected_description(c, expected) + ")");
    return;
  }
  const bool legal = std::any_of(rejecting.begin(), rejecting.end(),
                                 [&](int i) { return reason_matches(c, error, i); });
  if (!legal) c.mismatch("threw " + explain(error) + ", which no rejected task threw");
}

void check_single_outcome(const run_context& c, bool returned, std::optional<int> number,
                          const std::exception_ptr& error) {
  const int n = c.size();
  const bool determined = order_is_determined(c);
  const std::vector<int> fulfilling = tasks_where(c, false);

  const auto check_returned_value = [&](int expected_index) {
    if (!number) return;  // void: nothing names the task
    const int j = index_of_number(c, *number);
    if (j < 0) {
      c.mismatch("returned the value " + std::to_string(*number) + ", which no task produces");
    } else if (c.task(j).error != error_kind::none) {
      c.mismatch("returned the value of " + task_name(j) + ", which rejects");
    } else if (expected_index >= 0 && j != expected_index) {
      c.mismatch("returned the value of " + task_name(j) + ", expected that of " +
                 task_name(expected_index));
    }
  };

  if (c.s.comb == comb_kind::any) {
    if (!fulfilling.empty()) {
      if (!returned)
        c.mismatch("threw " + explain(error) + " although " + task_name(fulfilling.front()) +
                   " fulfils");
      else
        check_returned_value(determined ? fulfilling.front() : -1);
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
  if (returned) {
    if (fulfilling.empty())
      c.mismatch("returned although every task rejects");
    else if (determined && c.task(0).error != error_kind::none)
      c.mismatch("returned a value, but task 0 settles first and rejects");
    else
      check_returned_value(determined ? 0 : -1);
    return;
  }
  if (determined) {
    if (!reason_matches(c, error, 0))
      c.mismatch("threw " + explain(error) + ", but task 0 settles first" +
                 (c.task(0).error == error_kind::none ? std::string(" and fulfils")
                                                      : " with " + expected_description(c, 0)));
    return;
  }
  bool legal = false;
  for (int i = 0; i < n && !legal; ++i)
    legal = c.task(i).error != error_kind::none && reason_matches(c, error, i);
  if (!legal) c.mismatch("threw " + explain(error) + ", which no task threw");
}

}  // namespace settle_stress
