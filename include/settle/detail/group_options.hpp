/// @file detail/group_options.hpp
/// The call options in the engine: the deadline (a watcher timer), the caller's stop
/// token (a stop callback), both checked again around every task; the limit's permits.
/// Included by group.hpp, whose members it defines.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <utility>

#include "settle/detail/group.hpp"
#include "settle/detail/watcher.hpp"
#include "settle/errors.hpp"
#include "settle/options.hpp"

namespace settle::detail {

template <class Rule, class Storage>
void group<Rule, Storage>::take_options(options&& opts) {
  using clock = watch_node::clock;
  limit_ = opts.max_concurrency;
  if (opts.timeout || opts.deadline) {
    auto when = opts.deadline.value_or(clock::time_point::max());
    if (opts.timeout) {
      // The call's start + timeout, saturated: a huge timeout is no deadline at all.
      const auto now = clock::now();
      const auto room = clock::time_point::max() - now;
      when = std::min(when, *opts.timeout >= room ? clock::time_point::max() : now + *opts.timeout);
    }
    if (when != clock::time_point::max()) deadline_ = when;
  }
  if (opts.stop.stop_possible()) caller_token_ = std::move(opts.stop);
  on_settled_ = std::move(opts.on_settled);
  may_expire_ = deadline_.has_value() || caller_token_.stop_possible();
}

// Before anything starts: a deadline already past, or a token already signalled, starts
// nothing. Then, unless the tasks run on the caller one after another (`inline_executor`:
// checked around each task only), a stop callback on the caller's token and a timer on
// the watcher make the expiry reach running tasks as it happens.
template <class Rule, class Storage>
void group<Rule, Storage>::arm(bool watch) noexcept {
  if (!deadline_ && !caller_token_.stop_possible()) return;
  check_expiry();
  if (!watch || decided()) return;
  if (caller_token_.stop_possible()) caller_stop_.emplace(caller_token_, on_caller_stop{this});
  if (deadline_ && !decided()) {
    add_refs(1);  // the timer's, until it fires or is called off
    deadline_watch_.poll = &poll_deadline;
    deadline_watch_.context = this;
    try {
      watcher::instance().watch(deadline_watch_);
    } catch (...) {
      // No watcher thread: the deadline is still checked around every task.
      refs_.fetch_sub(1, std::memory_order_relaxed);
      deadline_watch_.context = nullptr;
    }
  }
}

// The call is over: no more expiry from the caller's token, and the timer is dropped now
// rather than at the deadline (it holds the group's memory).
template <class Rule, class Storage>
void group<Rule, Storage>::disarm() noexcept {
  caller_stop_.reset();  // waits for a callback running on another thread
  if (deadline_watch_.context != nullptr) {
    deadline_off_.store(true, std::memory_order_release);
    watcher::instance().expedite(deadline_watch_);
  }
}

template <class Rule, class Storage>
watch_node::clock::time_point group<Rule, Storage>::poll_deadline(
    watch_node& node, watch_node::clock::time_point now) noexcept {
  auto* self = static_cast<group*>(node.context);
  if (!self->deadline_off_.load(std::memory_order_acquire)) {
    if (now < *self->deadline_) return *self->deadline_;
    self->expire(std::make_exception_ptr(timed_out{}));
  }
  self->release();
  return watch_node::done;
}

template <class Rule, class Storage>
void group<Rule, Storage>::check_expiry() noexcept {
  if (deadline_ && watch_node::clock::now() >= *deadline_)
    expire(std::make_exception_ptr(timed_out{}));
  else if (caller_token_.stop_requested())
    expire(std::make_exception_ptr(cancelled{}));
}

// The deadline passed, or the caller's token was signalled, before the group settled:
// the call settles with `reason`. Unstarted slots settle with it without running; running
// ones are marked, and settle with it whatever they return (see `finish`).
template <class Rule, class Storage>
void group<Rule, Storage>::expire(std::exception_ptr reason) noexcept {
  if (!enter()) return;  // the call is over
  const bool first = !expiring_.exchange(true, std::memory_order_acq_rel);
  if (first && !group_settled_.load(std::memory_order_acquire) && !decided() &&
      !every_slot_final()) {
    expiry_ = std::move(reason);
    std::size_t expected = no_slot;
    // acq_rel: publishes `expiry_` to whoever sees `expired_slot`.
    if (winner_.compare_exchange_strong(expected, expired_slot, std::memory_order_acq_rel)) {
      for (std::size_t j = 0; j < storage_.size(); ++j) {
        std::uint8_t state = running;
        storage_.claims[j].compare_exchange_strong(state, expired_running,
                                                   std::memory_order_acq_rel);
      }
      settle_early(expiry_);
    }
  }
  release_outstanding();
}

// Every slot has its final outcome, reported or about to be: the call has settled in
// all but the counting, and an expiry now would overrule outcomes already given.
template <class Rule, class Storage>
bool group<Rule, Storage>::every_slot_final() const noexcept {
  for (std::size_t j = 0; j < storage_.size(); ++j)
    if (storage_.claims[j].load(std::memory_order_acquire) != final_state) return false;
  return true;
}

template <class Rule, class Storage>
bool group<Rule, Storage>::take_permit() noexcept {
  if (limit_ == 0) return true;
  std::size_t busy = permits_.load(std::memory_order_relaxed);
  do {
    if (busy >= limit_) return false;
  } while (!permits_.compare_exchange_weak(busy, busy + 1, std::memory_order_acq_rel));
  return true;
}

template <class Rule, class Storage>
void group<Rule, Storage>::return_permit() noexcept {
  if (limit_ != 0) permits_.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace settle::detail
