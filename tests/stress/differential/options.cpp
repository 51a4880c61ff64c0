// Call options in the differential suite: building settle::options from a scenario's
// option_spec, signalling the stop token at the drawn moment, and judging what the call did
// with them. The rules and what is exact about them: options.hpp.
#include "differential/options.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "differential/oracle.hpp"
#include "support/options_probes.hpp"

namespace settle_stress {

namespace {

/// "timed_out" or "cancelled" (a cancelled that is not timed_out), or "" for anything else.
std::string expiry_kind(const std::exception_ptr& e) {
  std::string k = settle_test::kind(e);
  return k == "timed_out" || k == "cancelled" ? k : std::string();
}

option_run& of(const run_context& c) { return *c.opts; }

}  // namespace

// ---- hooks of runner.hpp and oracle.hpp ---------------------------------------------------

settle::options options_for_call(run_context& c) { return of(c).start_call(); }

void options_task_started(run_context& c, int index, int running_now) {
  of(c).task_started(index, running_now);
}

bool may_expire(const run_context& c) { return c.opts != nullptr && of(c).may_expire(); }

bool may_have_expired(const run_context& c) {
  return c.opts != nullptr && of(c).may_have_expired();
}

// ---- option_run ---------------------------------------------------------------------------

option_run::option_run(run_context& c, const std::stop_token* parent)
    : c_(c),
      spec_(c.s.options),
      parent_(spec_.stop == stop_kind::parent ? parent : nullptr),
      n_(c.s.tasks.size()),
      seq_(std::make_unique<std::atomic<int>[]>(n_)),
      reports_(std::make_unique<std::atomic<int>[]>(n_)),
      report_status_(std::make_unique<std::atomic<int>[]>(n_)),
      report_at_(std::make_unique<std::atomic<clock::rep>[]>(n_)),
      result_(n_, 0) {
  for (std::size_t i = 0; i < n_; ++i) seq_[i].store(-1, std::memory_order_relaxed);
  c_.opts = this;
  stats().option_calls.fetch_add(1, std::memory_order_relaxed);
}

option_run::~option_run() {
  if (stopper_.joinable()) {
    events_.fetch_add(over_mark);
    events_.notify_all();
    stopper_.request_stop();
    stopper_.join();
  }
  // The scenario is over (its futures set, its setter joined): nothing may have started or
  // reported since the call returned.
  if (returned_.load(std::memory_order_acquire)) {
    if (const int late = late_starts_.load(); late != 0)
      c_.mismatch(std::to_string(late) + " task(s) started after the call had returned");
    if (const int late = late_reports_.load(); late != 0)
      c_.mismatch("on_settled was called " + std::to_string(late) +
                  " time(s) after the call had returned");
  }
  c_.opts = nullptr;
}

bool option_run::may_expire() const {
  return spec_.deadline != deadline_kind::none ||
         (spec_.stop != stop_kind::none && (spec_.stop != stop_kind::parent || parent_ != nullptr));
}

void option_run::issue_stop() {
  stop_issued_at_ = clock::now();
  stop_issued_.store(true, std::memory_order_release);
  source_.request_stop();
}

void option_run::stopper(std::stop_token cut) {
  if (spec_.stop == stop_kind::delay) {
    // The delay only places the request at a random moment of the call; the oracle accepts
    // it anywhere. `cut` ends it when the call has returned first.
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    if (cv.wait_until(lock, cut, before_ + spec_.stop_delay, [] { return false; })) return;
  } else {
    for (int seen = events_.load(); seen < spec_.stop_after; seen = events_.load())
      events_.wait(seen);
  }
  if (events_.load() < over_mark) issue_stop();
}

settle::options option_run::start_call() {
  before_ = clock::now();
  std::optional<std::chrono::microseconds> timeout;
  std::optional<clock::time_point> deadline;
  if (spec_.deadline != deadline_kind::none) {
    if (spec_.absolute)
      deadline = before_ + spec_.offset;
    else
      timeout = spec_.offset;
    if (spec_.both) {
      if (spec_.absolute)
        timeout = spec_.also;
      else
        deadline = before_ + spec_.also;
    }
    // The engine measures a timeout from its own start, after `before_`.
    if (timeout) deadline_lo_ = before_ + *timeout;
    if (deadline) deadline_lo_ = std::min(deadline_lo_.value_or(*deadline), *deadline);
    deadline_before_ = (timeout && timeout->count() <= 0) || (deadline && *deadline <= before_);
  }
  std::stop_token token;
  switch (spec_.stop) {
    case stop_kind::none:
      break;
    case stop_kind::before:
      issue_stop();
      stop_before_ = true;
      token = source_.get_token();
      break;
    case stop_kind::delay:
    case stop_kind::after_starts:
      token = source_.get_token();
      stopper_ = std::jthread([this](std::stop_token cut) { stopper(std::move(cut)); });
      break;
    case stop_kind::parent:
      if (parent_ != nullptr) {
        token = *parent_;
        stop_before_ = token.stop_requested();
      }
      break;
  }
  std::function<void(std::size_t, settle::status)> progress;
  if (spec_.progress) progress = [this](std::size_t i, settle::status s) { report(i, s); };

  if (spec_.designated)
    return settle::options{.max_concurrency = spec_.limit,
                           .timeout = timeout,
                           .deadline = deadline,
                           .stop = token,
                           .on_settled = std::move(progress)};
  settle::options o;
  if (spec_.limit != 0) o = o | settle::limit(spec_.limit);
  if (timeout) o = o | settle::timeout(*timeout);
  if (deadline) o = settle::deadline(*deadline) | o;
  if (token.stop_possible()) o = o | settle::stop_on(token);
  if (progress) o = o | settle::on_settled(std::move(progress));
  return o;
}

void option_run::task_started(int index, int running_now) {
  if (returned_.load(std::memory_order_acquire)) late_starts_.fetch_add(1);
  int peak = peak_.load(std::memory_order_relaxed);
  while (running_now > peak && !peak_.compare_exchange_weak(peak, running_now)) {
  }
  seq_[static_cast<std::size_t>(index)].store(next_seq_.fetch_add(1));
  if (spec_.stop == stop_kind::after_starts) {
    events_.fetch_add(1);
    events_.notify_all();
  }
}

void option_run::report(std::size_t index, settle::status s) {
  const clock::rep now = clock::now().time_since_epoch().count();
  stats().reports.fetch_add(1, std::memory_order_relaxed);
  if (returned_.load(std::memory_order_acquire)) late_reports_.fetch_add(1);
  if (index >= n_) {
    out_of_range_.fetch_add(1);
    return;
  }
  report_at_[index].store(now, std::memory_order_relaxed);
  report_status_[index].store(s == settle::status::fulfilled ? 1 : 2, std::memory_order_relaxed);
  reports_[index].fetch_add(1, std::memory_order_relaxed);
}

void option_run::call_returned() {
  returned_at_ = clock::now();
  returned_.store(true, std::memory_order_release);
  // Exact: a stop that reached the call was issued (the flag set before request_stop) before
  // the call returned, so before this load.
  stop_seen_ = stop_issued_.load(std::memory_order_acquire) ||
               (parent_ != nullptr && parent_->stop_requested());
  deadline_passed_ = deadline_lo_ && returned_at_ >= *deadline_lo_;
  if (stopper_.joinable()) {
    events_.fetch_add(over_mark);
    events_.notify_all();
    stopper_.request_stop();
    stopper_.join();
  }
  reports_at_return_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i)
    reports_at_return_[i] = reports_[i].load(std::memory_order_relaxed);
  if (may_have_expired()) stats().expired_calls.fetch_add(1, std::memory_order_relaxed);
}

bool option_run::judge_slot(int index, bool fulfilled, const std::exception_ptr& reason) {
  const auto i = static_cast<std::size_t>(index);
  const std::string where = "slot " + std::to_string(index);
  const std::string kind = fulfilled ? "" : expiry_kind(reason);
  result_[i] = fulfilled ? 1 : kind.empty() ? 2 : kind == "timed_out" ? 3 : 4;
  if (kind.empty()) {
    if (expired_before_call())
      c_.mismatch(where + " kept an outcome of its own, but the call's " +
                  (deadline_before_ ? "deadline had passed" : "stop token was signalled") +
                  " before it started");
    if (c_.has_bodies && !c_.s.is_future(index) && c_.started[i].load() != 1)
      c_.mismatch(where + " has an outcome of its own, but its task started " +
                  std::to_string(c_.started[i].load()) + " times");
    return false;
  }
  stats().expired_slots.fetch_add(1, std::memory_order_relaxed);
  if (kind == "timed_out" && !deadline_passed_)
    c_.mismatch(where + " is timed_out, but the call's deadline had not passed when it returned");
  if (kind == "cancelled" && !stop_seen_)
    c_.mismatch(where + " is cancelled, but no stop had been requested when the call returned");
  if (reports_at_return_.empty() || reports_[i].load() == 0) return true;
  const clock::time_point at{clock::duration(report_at_[i].load())};
  if (kind == "timed_out" && deadline_lo_ && at < *deadline_lo_)
    c_.mismatch(where + " is timed_out, but on_settled reported it before the deadline");
  if (kind == "cancelled" && stop_seen_ && parent_ == nullptr && at < stop_issued_at_)
    c_.mismatch(where + " is cancelled, but on_settled reported it before the stop request");
  return true;
}

bool option_run::judge_thrown(const std::exception_ptr& error) const {
  const std::string kind = expiry_kind(error);
  if (kind.empty()) return false;
  if (kind == "timed_out" && !deadline_passed_)
    c_.mismatch("threw settle::timed_out, but the deadline had not passed when it returned");
  if (kind == "cancelled" && !stop_seen_)
    c_.mismatch("threw settle::cancelled, but no stop had been requested when it returned");
  // Which of the two wins when both are there before the call is the engine's choice.
  if (deadline_before_ && !stop_seen_ && kind != "timed_out")
    c_.mismatch("threw " + kind + ", but the deadline had passed before the call");
  if (stop_before_ && !deadline_passed_ && kind != "cancelled")
    c_.mismatch("threw " + kind + ", but the stop token was signalled before the call");
  return true;
}

void option_run::check_call(bool returned, std::optional<int> number,
                            const std::exception_ptr& error) {
  const int n = c_.size();
  int started = 0;
  for (int i = 0; i < n; ++i) started += c_.started[static_cast<std::size_t>(i)].load();
  if (expired_before_call() && n > 0) {
    if (started != 0)
      c_.mismatch(std::to_string(started) + " task(s) ran although the call's " +
                  (deadline_before_ ? "deadline had passed" : "stop token was signalled") +
                  " before it started");
    if (c_.s.comb != comb_kind::all_settled && expiry_kind(error).empty())
      c_.mismatch(std::string(returned ? "returned" : "threw " + explain(error)) +
                  ", but the call expired before it started (expected timed_out or cancelled)");
  }
  if (c_.s.comb == comb_kind::all_settled && returned) {
    // One expiry per call: its slots hold one reason, timed_out or cancelled.
    const bool timed = std::find(result_.begin(), result_.end(), 3) != result_.end();
    const bool stopped = std::find(result_.begin(), result_.end(), 4) != result_.end();
    if (timed && stopped)
      c_.mismatch("some slots are timed_out and others cancelled: a call expires one way only");
  }
  const int peak = peak_.load();
  if (spec_.limit != 0) {
    if (peak > static_cast<int>(spec_.limit))
      c_.mismatch(std::to_string(peak) + " tasks ran at once under limit(" +
                  std::to_string(spec_.limit) + ")");
    if (peak == static_cast<int>(spec_.limit))
      stats().at_limit.fetch_add(1, std::memory_order_relaxed);
    check_order();
  }
  if (c_.s.exec == exec_kind::inline_exec && peak > 1)
    c_.mismatch(std::to_string(peak) + " tasks ran at once on the inline executor");
  if (spec_.progress) check_reports(returned, number, error);
}

void option_run::check_order() {
  if (c_.s.exec == exec_kind::inline_exec || !c_.has_bodies) return;
  const int n = c_.size();
  const auto seq = [&](int i) { return seq_[static_cast<std::size_t>(i)].load(); };
  for (int i = 0; i < n; ++i) {
    if (c_.s.is_future(i) || seq(i) < 0) continue;
    int behind = 0;  // tasks before i that had not started when i did
    for (int j = 0; j < i; ++j)
      if (!c_.s.is_future(j) && (seq(j) < 0 || seq(j) > seq(i))) ++behind;
    if (behind > static_cast<int>(spec_.limit) - 1) {
      c_.mismatch("task " + std::to_string(i) + " started while " + std::to_string(behind) +
                  " tasks before it had not, under limit(" + std::to_string(spec_.limit) +
                  ") (tasks start in argument order)");
      return;
    }
  }
}

void option_run::check_reports(bool returned, std::optional<int> number,
                               const std::exception_ptr& error) {
  const int n = c_.size();
  if (const int bad = out_of_range_.load(); bad != 0)
    c_.mismatch("on_settled reported " + std::to_string(bad) + " index(es) out of range");
  const auto status = [&](int i) { return report_status_[static_cast<std::size_t>(i)].load(); };
  for (int i = 0; i < n; ++i) {
    const int k = reports_at_return_[static_cast<std::size_t>(i)];
    if (k != 1) {
      c_.mismatch("on_settled reported slot " + std::to_string(i) + " " + std::to_string(k) +
                  " times before the call returned (expected once)");
      return;
    }
  }
  const auto count = [&](int st) {
    int m = 0;
    for (int i = 0; i < n; ++i) m += status(i) == st ? 1 : 0;
    return m;
  };
  const auto expect = [&](int i, int st, const char* why) {
    if (i >= 0 && i < n && status(i) != st)
      c_.mismatch("on_settled reported slot " + std::to_string(i) + " " +
                  (status(i) == 1 ? "fulfilled" : "rejected") + ", but " + why);
  };
  switch (c_.s.comb) {
    case comb_kind::all_settled:
      for (int i = 0; i < n && returned; ++i)
        expect(i, result_[static_cast<std::size_t>(i)] == 1 ? 1 : 2, "its result says otherwise");
      break;
    case comb_kind::all:
      if (returned && count(1) != n)
        c_.mismatch("all returned, but on_settled reported a rejected slot");
      if (!returned && n > 0 && count(2) == 0 && expiry_kind(error).empty())
        c_.mismatch("all threw, but on_settled reported no rejected slot");
      break;
    case comb_kind::any:
    case comb_kind::race: {
      if (returned && number) expect(index_of_number(c_, *number), 1, "its value was returned");
      if (returned && count(1) == 0)
        c_.mismatch("returned a value, but on_settled reported no fulfilled slot");
      if (!returned && c_.s.comb == comb_kind::any && count(2) != n && expiry_kind(error).empty())
        c_.mismatch("any threw " + explain(error) + ", but on_settled reported a fulfilled slot");
      if (!returned && c_.s.comb == comb_kind::race && expiry_kind(error).empty())
        for (int i = 0; i < n; ++i)
          if (reason_matches(c_, error, i)) expect(i, 2, "race threw its exception");
      break;
    }
  }
  check_settled_first(returned, error);
}

// all, any and race throw the expiry "unless they settled first" (SPEC §5). A report is made
// once a slot's outcome is final: when on_settled had reported what decides the call (every
// slot fulfilled for all, a fulfilled slot for any, any slot for race) before the deadline
// (before the stop request), the call had settled before it expired. Opt-in
// (--strict-settled-first): the engine reports a slot before it decides the call with it, so
// a thread preempted in between (hundreds of microseconds under ThreadSanitizer on 2 cores)
// lets an expiry win after every report said the call was decided.
void option_run::check_settled_first(bool returned, const std::exception_ptr& error) {
  const std::string kind = expiry_kind(error);
  const int n = c_.size();
  if (!c_.pool.strict_settled_first || returned || kind.empty() || n == 0) return;
  std::optional<clock::time_point> bound;
  if (kind == "timed_out") bound = deadline_lo_;
  if (kind == "cancelled" && stop_seen_ && parent_ == nullptr) bound = stop_issued_at_;
  if (!bound) return;
  const auto at = [&](int i) {
    return clock::time_point{clock::duration(report_at_[static_cast<std::size_t>(i)].load())};
  };
  const auto status = [&](int i) { return report_status_[static_cast<std::size_t>(i)].load(); };
  int decided_by = -1;  // the report that decided the call before the bound
  clock::time_point last{};
  switch (c_.s.comb) {
    case comb_kind::all:
      decided_by = n - 1;
      for (int i = 0; i < n; ++i) {
        if (status(i) != 1 || at(i) >= *bound) decided_by = -1;
        last = std::max(last, at(i));
      }
      break;
    case comb_kind::any:
    case comb_kind::race:
      for (int i = 0; i < n && decided_by < 0; ++i)
        if ((status(i) == 1 || c_.s.comb == comb_kind::race) && at(i) < *bound) {
          decided_by = i;
          last = at(i);
        }
      break;
    case comb_kind::all_settled:
      break;
  }
  if (decided_by < 0) return;
  const auto ahead = std::chrono::duration_cast<std::chrono::microseconds>(*bound - last);
  c_.mismatch("threw settle::" + kind + ", but on_settled had reported " +
              (c_.s.comb == comb_kind::all ? std::string("every slot fulfilled")
                                           : "slot " + std::to_string(decided_by)) +
              " " + std::to_string(ahead.count()) + " us before the " +
              (kind == "timed_out" ? "deadline" : "stop request") + ": the call had settled first");
}

// ---- oracle hooks ------------------------------------------------------------------------

void options_call_returned(run_context& c) { of(c).call_returned(); }

bool options_judge_slot(const run_context& c, int index, bool fulfilled,
                        const std::exception_ptr& reason) {
  return of(c).judge_slot(index, fulfilled, reason);
}

bool options_judge_thrown(const run_context& c, const std::exception_ptr& error) {
  return of(c).judge_thrown(error);
}

void options_check_call(const run_context& c, bool returned, std::optional<int> number,
                        const std::exception_ptr& error) {
  of(c).check_call(returned, number, error);
}

}  // namespace settle_stress
