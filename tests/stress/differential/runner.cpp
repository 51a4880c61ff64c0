// The non-template half of the runner: exceptions, dispatch by form, the liveness check.
#include "differential/runner.hpp"

#include "differential/issue.hpp"
#include "differential/options.hpp"

#include <algorithm>
#include <future>
#include <new>
#include <stdexcept>
#include <typeinfo>

namespace settle_stress {

namespace {

std::atomic<std::uint64_t> next_call_id{1};

/// The executors scenario `s` and its nested scenarios use.
void collect_executors(const scenario& s, std::vector<exec_kind>& used) {
  if (std::find(used.begin(), used.end(), s.exec) == used.end()) used.push_back(s.exec);
  for (const task_spec& t : s.tasks)
    if (t.nested) collect_executors(*t.nested, used);
}

/// Whether scenario `s` or a nested one has a future that is not ready before its call.
bool has_pending_future(const scenario& s) {
  for (const task_spec& t : s.tasks) {
    if (t.input != input_kind::callable && t.input != input_kind::ready_future) return true;
    if (t.nested && has_pending_future(*t.nested)) return true;
  }
  return false;
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

void run_scenario(const scenario& s, const pools& p, mismatch_log& log, const std::string& path,
                  const std::stop_token* parent) {
  run_context c(s, p, log, s.depth == 0 ? path : path + " / seed " + std::to_string(s.seed));
  stats().calls.fetch_add(1, std::memory_order_relaxed);
  // Destroyed before `c`, once the form has set its futures: it checks that nothing started or
  // was reported after the call returned.
  std::optional<option_run> options;
  if (s.options.drawn) options.emplace(c, parent);
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
    case form_kind::mixed_futures:
      run_futures_form(c);
      break;
    case form_kind::mixed:
      run_mixed_form(c);
      break;
  }
  // The scenario has set every future by now: a pool left waiting for one is free again,
  // and runs the probe it did not run in time (else this is a hang, and reported as one).
  for (std::future<int>& probe : c.late_probes) probe.wait();
}

void check_liveness(run_context& c) {
  if (c.s.depth != 0) return;
  if (!has_pending_future(c.s) && c.s.seed % c.pool.liveness_every != 0) return;
  std::vector<exec_kind> used;
  collect_executors(c.s, used);
  for (exec_kind k : used) {
    settle::thread_pool* pool = nullptr;
    switch (k) {
      case exec_kind::inline_exec:
        break;
      case exec_kind::pool1:
        pool = &c.pool.pool1;
        break;
      case exec_kind::pool2:
        pool = &c.pool.pool2;
        break;
      case exec_kind::elastic:
        pool = &c.pool.elastic;
        break;
      case exec_kind::default_exec:
        pool = &settle::default_executor();
        break;
      case exec_kind::derived:
        pool = &c.pool.derived;
        break;
    }
    if (pool == nullptr) continue;
    stats().liveness_checks.fetch_add(1, std::memory_order_relaxed);
    std::future<int> probe = pool->submit([] { return 1; });
    if (probe.wait_for(c.pool.liveness_timeout) == std::future_status::ready) continue;
    c.late_probes.push_back(std::move(probe));
    c.log.add("pool left parked after scenario " + std::to_string(c.s.seed) + ": " + name_of(k) +
              " did not run a new task within " + std::to_string(c.pool.liveness_timeout.count()) +
              " ms of the call's return (a pool thread still waits for a future the call "
              "no longer needs?)" +
              (c.pool.shared ? "; other scenarios ran on the pool at the same time: rerun "
                               "this one alone"
                             : ""));
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

void other_work(int rounds) {
  // Kept where the compiler cannot drop the loop; relaxed, nobody reads it for ordering.
  static std::atomic<std::uint64_t> sink{0};
  rng r(static_cast<std::uint64_t>(rounds));
  std::uint64_t x = 0;
  for (int i = 0; i < rounds; ++i) x ^= r.next();
  sink.fetch_xor(x, std::memory_order_relaxed);
}

int index_of_number(const run_context& c, int number) {
  for (int i = 0; i < c.size(); ++i)
    if (value_of(c.s, i) == number) return i;
  return -1;
}

}  // namespace settle_stress
