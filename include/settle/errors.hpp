/// @file errors.hpp
/// The exceptions settle itself throws or stores as a reason.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace settle {

/// Thrown by `any` when every task rejected, like JavaScript's `AggregateError`.
/// `reasons()` holds each task's exception in argument (or range) order; it is empty
/// when `any` was given no tasks. Copying shares the stored exceptions.
class aggregate_error : public std::exception {
 public:
  /// Holds `reasons` (in argument order); `what()` says how many tasks rejected.
  explicit aggregate_error(std::vector<std::exception_ptr> reasons)
      : reasons_(std::move(reasons)),
        what_("settle::aggregate_error: all " + std::to_string(reasons_.size()) +
              " tasks rejected") {}

  /// Each task's exception, in argument order.
  [[nodiscard]] const std::vector<std::exception_ptr>& reasons() const noexcept { return reasons_; }

  /// "settle::aggregate_error: all N tasks rejected".
  [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::vector<std::exception_ptr> reasons_;
  std::string what_;
};

/// The reason of a task that was never started: `all`, `any` or `race` settled before
/// it began, or its executor destroyed it without running it; and of every task not
/// settled when the caller's stop token (`settle::stop_on`) was signalled.
class cancelled : public std::exception {
 public:
  /// A fixed message saying the task was not started because its result was not needed.
  [[nodiscard]] const char* what() const noexcept override {
    return "settle::cancelled: the task was not started because its result was no longer "
           "needed";
  }
};

/// The reason when a call's deadline (`settle::timeout`, `settle::deadline`) passed before
/// it settled: the reason of every task that had not settled by then, and what `all`,
/// `any` and `race` throw. A `cancelled`, so code that handles "no result" handles both.
class timed_out : public cancelled {
 public:
  /// A fixed message saying the call's deadline passed before the task settled.
  [[nodiscard]] const char* what() const noexcept override {
    return "settle::timed_out: the call's deadline passed before the task settled";
  }
};

/// Thrown by `race` over no tasks. JavaScript's `race([])` never settles; a call that
/// never returns is no use to a C++ caller, so settle reports the empty input instead.
class empty_race : public std::invalid_argument {
 public:
  empty_race() : std::invalid_argument("settle::race: no tasks to race") {}
};

}  // namespace settle
