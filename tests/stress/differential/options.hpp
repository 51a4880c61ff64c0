// The call options of one combinator call (SPEC §5) while it runs: the settle::options it
// passes, the thread that signals its stop token at a random moment, the concurrency gauge
// inside its tasks, the on_settled reports; and afterwards, what the oracle needs to judge
// them (options.cpp).
//
// What the oracle can fix exactly, and what it cannot: expiry (the deadline, the stop token)
// races with the tasks, so which slots expire is open, but
// - a slot may hold timed_out only if the deadline had passed when the call returned, and
//   cancelled (all_settled) only if the stop had been requested by then; one call expires
//   one way only;
// - a slot reported by on_settled before the deadline (before the stop request) was final
//   before the expiry, so it keeps its own outcome (a report is made once the outcome is
//   final, and once only);
// - a deadline already past, or a token already signalled, at the call starts nothing;
// - without an expiry by the time the call returned, the plain oracle applies unchanged;
// - at most `limit` task bodies run at once (a gauge inside the tasks), and on settle's pools
//   they are claimed in argument order: when task i starts, at most limit - 1 tasks before
//   it have not started yet (their runners hold the other permits);
// - every slot is reported once, before the call returns, with the status its result has;
//   no task starts and nothing is reported after the call returned.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "differential/runner.hpp"

namespace settle_stress {

class option_run {
 public:
  using clock = std::chrono::steady_clock;

  /// `parent`: the token of the task that makes this (nested) call, if it takes one.
  option_run(run_context& c, const std::stop_token* parent);
  ~option_run();
  option_run(const option_run&) = delete;
  option_run& operator=(const option_run&) = delete;

  /// Just before the call: the options to pass. Requests a stop "before the call" and starts
  /// the stopper thread.
  [[nodiscard]] settle::options start_call();
  void task_started(int index, int running_now);
  /// Right after the call returned or threw: what could have expired it by then.
  void call_returned();

  [[nodiscard]] bool may_expire() const;
  /// After call_returned: the deadline had passed, or the stop had been requested.
  [[nodiscard]] bool may_have_expired() const { return deadline_passed_ || stop_seen_; }

  /// all_settled, slot `index`: true when it holds timed_out or cancelled (judged here).
  bool judge_slot(int index, bool fulfilled, const std::exception_ptr& reason);
  /// all, any, race: true when `error` is timed_out or cancelled (judged here).
  bool judge_thrown(const std::exception_ptr& error) const;
  /// The rest, once the outcome has been checked: starts, limit, order, reports.
  void check_call(bool returned, std::optional<int> number, const std::exception_ptr& error);

 private:
  void issue_stop();
  void stopper(std::stop_token cut);
  void report(std::size_t index, settle::status s);
  [[nodiscard]] bool expired_before_call() const { return deadline_before_ || stop_before_; }
  void check_reports(bool returned, std::optional<int> number, const std::exception_ptr& error);
  void check_order();
  void check_settled_first(bool returned, const std::exception_ptr& error);

  static constexpr int over_mark = 1 << 24;  // added to `events_` when the call returned

  run_context& c_;
  const option_spec& spec_;
  const std::stop_token* parent_;
  std::size_t n_;
  std::stop_source source_;
  std::jthread stopper_;
  std::atomic<int> events_{0};  // task bodies started, + over_mark once the call returned
  std::atomic<bool> stop_issued_{false};
  clock::time_point stop_issued_at_{};  // written before stop_issued_ (release)
  clock::time_point before_{};
  clock::time_point returned_at_{};
  std::optional<clock::time_point> deadline_lo_;  // no expiry by the deadline before this
  bool deadline_before_ = false;
  bool stop_before_ = false;
  bool deadline_passed_ = false;
  bool stop_seen_ = false;
  std::atomic<bool> returned_{false};
  std::atomic<int> peak_{0};
  std::atomic<int> next_seq_{0};
  std::unique_ptr<std::atomic<int>[]> seq_;  // per task: its start's rank, -1 if none
  std::unique_ptr<std::atomic<int>[]> reports_;
  std::unique_ptr<std::atomic<int>[]> report_status_;  // 1 fulfilled, 2 rejected
  std::unique_ptr<std::atomic<clock::rep>[]> report_at_;
  std::vector<int> reports_at_return_;
  // all_settled, per slot: 1 its value, 2 its error, 3 timed_out, 4 cancelled.
  std::vector<std::uint8_t> result_;
  std::atomic<int> out_of_range_{0};
  std::atomic<int> late_starts_{0};
  std::atomic<int> late_reports_{0};
};

}  // namespace settle_stress
