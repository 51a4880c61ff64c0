/// @file detail/started.hpp
/// A call `settle::start` has launched: the group, the executor it runs on, and what its
/// `pending` needs to wait for it, stop it and collect it, behind one interface per
/// result type.
#pragma once

#include <atomic>
#include <concepts>
#include <type_traits>
#include <utility>

#include "settle/detail/combinator.hpp"
#include "settle/detail/completion.hpp"
#include "settle/options.hpp"

namespace settle::detail {

/// What a `pending<R>` holds, whatever the call's tasks and executor.
template <class R>
class call_state {
 public:
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;
  /// Not collected yet: stops the call and waits for it.
  virtual ~call_state() = default;

  /// Waits (helping on a settle pool) until the call has finished.
  virtual void wait() noexcept = 0;
  /// Waits, then returns or throws what the plain call would. Once.
  virtual R collect() = 0;
  /// As if the call's stop token were signalled.
  virtual void request_stop() noexcept = 0;

  [[nodiscard]] completion& done() const noexcept { return *done_; }

 protected:
  explicit call_state(completion& c) noexcept : done_(&c) {}

 private:
  completion* done_;
};

/// A launched group and its executor: `Ex` is a reference to the caller's executor, or
/// (given a temporary) the executor itself, kept for as long as the call may use it.
template <class Group, class Ex, class R>
class started final : public call_state<R> {
 public:
  started(group_handle<Group>&& g, Ex&& ex)
      : call_state<R>(*g), group_(std::move(g)), executor_(std::forward<Ex>(ex)) {}

  void launch(options&& opts) {
    group_->prepare(std::move(opts), true);
    launched_ = true;
    group_->launch(executor_);
  }

  // `pending::wait` is const, so several threads may wait at once: one of them awaits the
  // group (helping, then disarming: once), the others wait for it to have done so.
  void wait() noexcept override {
    int state = not_awaited;
    if (awaited_.compare_exchange_strong(state, awaiting, std::memory_order_acq_rel)) {
      group_->await_all(executor_);
      awaited_.store(awaited, std::memory_order_release);
      awaited_.notify_all();
      return;
    }
    while (state != awaited) {
      awaited_.wait(state, std::memory_order_acquire);
      state = awaited_.load(std::memory_order_acquire);
    }
  }

  R collect() override {
    wait();
    return Group::rule_type::collect(*group_);
  }

  // Callable from any thread while the pending lives: the stopping thread may finish the
  // call, and the owner then free the group at once, so it holds a reference meanwhile.
  void request_stop() noexcept override {
    if (!launched_) return;
    group_->add_refs(1);
    group_->request_stop();
    group_->release();
  }

  // Structured, like std::jthread: no task the call started outlives this. The handle,
  // destroyed next, then drops the outcomes nobody took.
  ~started() override {
    if (launched_ && awaited_.load(std::memory_order_acquire) == not_awaited) {
      group_->request_stop();
      wait();
    }
  }

 private:
  group_handle<Group> group_;
  Ex executor_;
  static constexpr int not_awaited = 0, awaiting = 1, awaited = 2;
  bool launched_ = false;
  std::atomic<int> awaited_{not_awaited};
};

}  // namespace settle::detail
