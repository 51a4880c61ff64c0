/// @file detail/group.hpp
/// The one engine behind every combinator: a group of task slots, launched on an
/// executor and collected when the group's rule says it has settled.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "settle/detail/completion.hpp"
#include "settle/detail/notifier.hpp"
#include "settle/detail/slot.hpp"
#include "settle/detail/watcher.hpp"
#include "settle/errors.hpp"
#include "settle/executor.hpp"
#include "settle/options.hpp"
#include "settle/settled.hpp"
#include "settle/thread_pool.hpp"

namespace settle::detail {

inline constexpr std::size_t no_slot = static_cast<std::size_t>(-1);
/// `winner_` when the call's deadline passed, or the caller's token was signalled, first.
inline constexpr std::size_t expired_slot = no_slot - 2;

/// The life of a slot, in `Storage::claims`. Each slot is claimed exactly once
/// (`unclaimed` -> `running`) by whoever gets to it first: a pool thread or the executor's
/// job, the waiting caller helping on a settle pool, the watcher that sees a future ready,
/// or the thread that settles the group early and cancels what has not started.
enum slot_state : std::uint8_t {
  unclaimed = 0,
  running = 1,
  final_state = 2,      // its outcome is final (tracked only when the call may expire)
  expired_running = 3,  // the call expired while it ran: its outcome will be the expiry's
};

/// The shared state of one combinator call, started (`launch`) and then awaited
/// (`await_all`): the plain call does both in a row, `settle::start` the first at once and
/// the second when its `pending` is waited for.
///
/// Callables run on the executor (and on the helping caller). Futures never do: a thread
/// blocked in `get()` could be the one thread a pool has, or the caller, while the
/// future waits for work nobody runs. Ready futures are settled at launch, in index
/// order; the others are polled by the `watcher` thread until they are ready.
///
/// Completion is counted cppcoro-style: `outstanding_` starts at (callables) + 1; the
/// extra unit is released once, when the group settles (every slot settled, or the rule
/// decided early, or the call expired, with every unstarted slot settled). The call returns
/// when it reaches zero: the group has settled and no callable it started is still
/// running. A future holds a unit only while the watcher settles it, so that nothing is
/// written or reported after the call returns; futures are never waited for otherwise.
template <class Rule, class Storage>
class group : public completion {
 public:
  using rule_type = Rule;

  template <class... Args>
  explicit group(Args&&... args) : storage_(std::forward<Args>(args)...) {}

  /// Must be called once the slots are in place, before `launch`. A call that can be
  /// stopped from outside (`settle::start`'s `request_stop`) is `stoppable`.
  void prepare(options&& opts, bool stoppable) {
    const std::size_t n = storage_.size();
    callables_ = storage_.callables_in(0, n);
    remaining_.store(n, std::memory_order_relaxed);
    outstanding_.store(callables_ + 1, std::memory_order_relaxed);
    helper_end_.store(n, std::memory_order_relaxed);
    if constexpr (Storage::any_stop_aware) stop_ = std::stop_source{};
    take_options(std::move(opts));
    may_expire_ = may_expire_ || stoppable;
    prepared_ = true;
    if (n == 0) settle_group();
  }

  Storage& storage() noexcept { return storage_; }

  /// Index of the slot that settled the group early, `expired_slot`, or `no_slot`.
  [[nodiscard]] std::size_t winner() const noexcept {
    return winner_.load(std::memory_order_acquire);
  }
  /// The reason every slot the expiry settled holds (`timed_out` or `cancelled`).
  [[nodiscard]] const std::exception_ptr& expiry_reason() const noexcept { return expiry_; }

  /// Hands every task to `ex` (futures to the watcher). Runs none on this thread, except
  /// with `inline_executor`, which runs them all here and now.
  /// `caller_helps`: `await_all` follows at once on this thread (a plain call), so on a
  /// settle pool the caller is one of the runners.
  template <class Ex>
  void launch(Ex& ex, bool caller_helps = false) noexcept {
    constexpr bool sequential = std::is_same_v<std::remove_cv_t<Ex>, inline_executor>;
    arm(!sequential);
    if constexpr (Storage::any_future) {
      if (!decided()) start_futures();
    }
    if constexpr (std::derived_from<std::remove_cv_t<Ex>, thread_pool>)
      submit_to_pool(ex, caller_helps);
    else if constexpr (sequential) {
      launch_all(ex);
      // The tasks have run on this thread; pending futures are left: now the deadline and
      // the caller's token may reach them as they pass.
      if constexpr (Storage::any_future) arm(true);
    } else
      launch_on_executor(ex);
  }

  /// Helps when `ex` is a settle pool, and waits until the group has settled and every
  /// callable has returned. Called once, after `launch`.
  template <class Ex>
  void await_all(Ex& ex) noexcept {
    if constexpr (std::derived_from<std::remove_cv_t<Ex>, thread_pool>) help_on_pool(ex);
    wait();
    disarm();
  }

  /// As if the caller's token were signalled: the call settles `cancelled` (unless it
  /// has settled already). Only for a group prepared `stoppable`.
  void request_stop() noexcept { expire(std::make_exception_ptr(cancelled{})); }

  /// Destroys the outcomes the caller did not take, on the caller's thread: once the call
  /// has returned, nothing writes an outcome any more.
  void discard_results() noexcept {
    if (prepared_)
      for (std::size_t i = 0; i < storage_.size(); ++i)
        storage_.visit(i, [](auto& s) { s.result.reset(); });
    // Shared state (a map's function) is used only by callables, all returned by now;
    // `on_settled` by threads the call waited for. Both go now, like every callable.
    if constexpr (requires { storage_.shared.reset(); }) storage_.shared.reset();
    on_settled_ = nullptr;
  }

  void add_refs(std::size_t n) noexcept {
    // Relaxed: a new reference is only ever made by a thread that already holds one.
    refs_.fetch_add(n, std::memory_order_relaxed);
  }
  void release(std::size_t n = 1) noexcept {
    // acq_rel: the last owner must see every other owner's writes before deleting.
    if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) delete this;
  }

 private:
  [[nodiscard]] bool decided() const noexcept {
    return winner_.load(std::memory_order_acquire) != no_slot;
  }
  [[nodiscard]] bool claimed(std::size_t i) const noexcept {
    return storage_.claims[i].load(std::memory_order_relaxed) != unclaimed;
  }
  [[nodiscard]] bool claim(std::size_t i) noexcept {
    // acq_rel: the claimer must see the slot as constructed, and later claim attempts
    // see it taken.
    std::uint8_t expected = unclaimed;
    return storage_.claims[i].compare_exchange_strong(expected, running, std::memory_order_acq_rel);
  }

  /// Slots settled by one thread and not yet counted down: a thread that runs many
  /// tasks in a row counts them down once. Safe because such a thread only ever goes on
  /// to callables of this group, which the call waits for anyway: it never blocks on
  /// anything the call does not wait for while it holds counts.
  struct tally {
    std::size_t settled = 0;
    std::size_t callables = 0;

    void add(bool callable) noexcept {
      ++settled;
      callables += callable ? 1 : 0;
    }
  };

  // Runs a callable this thread has claimed (unless the group has already settled
  // early) and counts it down at once.
  void run_claimed(std::size_t i) noexcept {
    tally t;
    run_claimed(i, t);
    count_down(t);
  }

  // As above, but leaves the count in `t` for the caller to count down later. The
  // deadline and the caller's token are also looked at here, before and after the task:
  // that is all `inline_executor` gets, and it makes the others' expiry more precise.
  void run_claimed(std::size_t i, tally& t) noexcept {
    check_expiry();
    if (decided()) {
      reject_claimed(i, unstarted_reason(), t);
      return;
    }
    storage_.visit(i, [&](auto& s) { s.run(stop_.get_token()); });
    check_expiry();
    finish(i, t);
  }

  void cancel_claimed(std::size_t i, std::exception_ptr reason) noexcept {
    tally t;
    reject_claimed(i, std::move(reason), t);
    count_down(t);
  }

  // Settles a slot this thread has claimed as rejected with `reason`, without running it.
  void reject_claimed(std::size_t i, std::exception_ptr reason, tally& t) noexcept {
    storage_.visit(i, [&](auto& s) { s.reject(std::move(reason)); });
    finish(i, t);
  }

  // Slot i, claimed by this thread, has its outcome: make it final (the expiry's, if the
  // call expired while it ran), apply the rule, report it.
  void finish(std::size_t i, tally& t) noexcept {
    // Only a call with a deadline or a caller's token can expire: the others skip this
    // exchange (it would cost every tiny task a second atomic operation).
    std::uint8_t state = running;
    // acq_rel: a failed exchange acquires the expiry's reason.
    if (may_expire_ && !storage_.claims[i].compare_exchange_strong(state, final_state,
                                                                   std::memory_order_acq_rel)) {
      storage_.visit(i, [&](auto& s) { s.replace_outcome(expiry_); });
      storage_.claims[i].store(final_state, std::memory_order_release);
    }
    bool rejected = false;
    storage_.visit(i, [&](auto& s) { rejected = s.result->is_rejected(); });
    const status st = rejected ? status::rejected : status::fulfilled;
    if (Rule::settles_on(st)) {
      std::size_t expected = no_slot;
      // The first slot (in time) that meets the rule wins; acq_rel publishes its
      // outcome to whoever reads `winner_`.
      if (winner_.compare_exchange_strong(expected, i, std::memory_order_acq_rel)) settle_early();
    }
    // Reported once the rule has taken it into account: a slot reported as deciding the
    // call has decided it, whatever expiry comes after. This thread's count, not counted
    // down yet, keeps the call from returning before the report.
    if (on_settled_) on_settled_(i, st);  // noexcept context: a throw terminates
    t.add(!storage_.is_future(i));
  }

  void count_down(const tally& t) noexcept {
    if (t.settled != 0 && remaining_.fetch_sub(t.settled, std::memory_order_acq_rel) == t.settled)
      settle_group();
    if (t.callables != 0) {
      // Launch first: the caller may return (and its executor go) once counted down.
      if (limited_launch_.load(std::memory_order_acquire)) launch_more(t.callables);
      release_outstanding(t.callables);
    }
  }

  // The rule decided (or the call expired): signal the running tasks, and settle every
  // slot nobody has claimed with `reason` before the group's extra unit is released, so
  // that when the caller wakes no outcome is being written except by threads it waits for.
  void settle_early(std::exception_ptr reason = nullptr) noexcept {
    // Stop callbacks and destructors of cancelled tasks are user code: never on the
    // watcher's thread (when a future won, or a deadline passed). A thread of the
    // notifier pool does it; the group's extra unit, still held, keeps the call waiting
    // for it meanwhile.
    if (watcher::on_this_thread()) {
      add_refs(1);
      try {
        notifier().execute([this, reason]() noexcept {
          settle_early_here(reason);
          release();
        });
        return;
      } catch (...) {
        refs_.fetch_sub(1, std::memory_order_relaxed);  // refused: do it here after all
      }
    }
    settle_early_here(std::move(reason));
  }

  void settle_early_here(std::exception_ptr reason) noexcept {
    stop_.request_stop();  // tokens of running tasks (a no-op when no task takes one)
    tally t;
    for (std::size_t j = 0; j < storage_.size(); ++j)
      if (claim(j)) reject_claimed(j, reason ? reason : std::make_exception_ptr(cancelled{}), t);
    count_down(t);
    settle_group();
  }

  // The reason of a slot that was never started because the group had decided.
  [[nodiscard]] std::exception_ptr unstarted_reason() const {
    return winner() == expired_slot ? expiry_ : std::make_exception_ptr(cancelled{});
  }

  void settle_group() noexcept {
    if (!group_settled_.exchange(true, std::memory_order_acq_rel)) release_outstanding();
  }

  void release_outstanding(std::size_t n = 1) noexcept {
    // acq_rel: the releases of every slot's outcome meet in this counter, and the
    // waiter acquires them through `complete`.
    if (outstanding_.fetch_sub(n, std::memory_order_acq_rel) == n) complete();
  }

  // Takes a unit of `outstanding_` unless the call is over (it is zero): a thread that
  // is not waited for otherwise (the watcher, an expiry) holds one while it writes.
  [[nodiscard]] bool enter() noexcept {
    std::size_t n = outstanding_.load(std::memory_order_relaxed);
    while (n != 0)
      if (outstanding_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    return false;
  }

  // --- futures: settled when ready, never waited on (detail/group_futures.hpp) -------

  void finish_future(std::size_t i) noexcept;
  void start_futures() noexcept;
  static watch_node::clock::time_point poll_futures(watch_node& node,
                                                    watch_node::clock::time_point now) noexcept;

  // --- call options: deadline, caller's token, limit (detail/group_options.hpp) -------

  void take_options(options&& opts);
  void arm(bool watch_deadline) noexcept;
  void disarm() noexcept;
  void check_expiry() noexcept;
  void expire(std::exception_ptr reason) noexcept;
  [[nodiscard]] bool every_slot_final() const noexcept;
  static watch_node::clock::time_point poll_deadline(watch_node& node,
                                                     watch_node::clock::time_point now) noexcept;
  [[nodiscard]] bool take_permit() noexcept;
  void return_permit() noexcept;

  struct on_caller_stop {
    group* self;
    void operator()() const noexcept {
      ++in_stop_callback;
      self->expire(std::make_exception_ptr(cancelled{}));
      --in_stop_callback;
    }
  };

  // --- launching: settle's pool, inline, other executors (detail/group_launch.hpp) ----

  static void run_units(void* context, std::size_t units) noexcept;
  static std::size_t demand(void* context) noexcept;
  void work_from_front() noexcept;
  void submit_to_pool(thread_pool& pool, bool caller_helps) noexcept;
  void help_on_pool(thread_pool& pool) noexcept;
  template <class Ex>
  void launch_all(Ex& ex) noexcept;
  template <class Ex>
  void launch_on_executor(Ex& ex) noexcept;
  template <class Ex>
  void launch_one(Ex& ex, std::size_t i) noexcept;
  void launch_more(std::size_t finished) noexcept;
  void dropped(std::size_t i) noexcept;
  class job;

  using storage_type = Storage;

  Storage storage_;
  std::stop_source stop_{std::nostopstate};
  std::size_t callables_ = 0;
  bool prepared_ = false;
  std::atomic<std::size_t> refs_{1};  // the caller's
  std::atomic<std::size_t> remaining_{0};
  std::atomic<std::size_t> outstanding_{0};
  std::atomic<std::size_t> winner_{no_slot};
  std::atomic<std::size_t> submitting_{no_slot};
  std::atomic<std::size_t> helper_end_{0};
  watch_node watch_;
  watch_node::clock::time_point watch_since_{};
  // Call options (detail/group_options.hpp).
  std::size_t limit_ = 0;
  bool may_expire_ = false;              // a deadline or a caller's token
  std::atomic<std::size_t> permits_{0};  // callables running, under a limit
  std::optional<watch_node::clock::time_point> deadline_;
  std::stop_token caller_token_;
  std::function<void(std::size_t, status)> on_settled_;
  std::exception_ptr expiry_;
  std::atomic<bool> expiring_{false};
  std::optional<std::stop_callback<on_caller_stop>> caller_stop_;
  watch_node deadline_watch_;
  std::atomic<bool> deadline_off_{false};
  // Foreign executors under a limit launch one callable as another returns.
  // Release-stored after `executor_` and `launch_next_`: an expiry (timer, stop callback)
  // may count down on another thread while the caller still sets them up.
  std::atomic<bool> limited_launch_{false};
  void (*launch_next_)(group*) noexcept = nullptr;
  void* executor_ = nullptr;
  std::atomic<std::size_t> launch_cursor_{0};
  std::atomic<std::size_t> launches_due_{0};
  // The next slot the pool's threads try. Kept off the cache line of the counters above,
  // as every pool thread on the group takes from it (padding rather than alignas: an
  // over-aligned group would need the slower aligned operator new on every call).
  unsigned char before_cursor_[64] = {};
  std::atomic<std::size_t> cursor_{0};
  unsigned char after_cursor_[64] = {};
  std::atomic<bool> group_settled_{false};
  bool submitted_ = false;  // an entry went to the pool
};

}  // namespace settle::detail

#include "settle/detail/group_futures.hpp"
#include "settle/detail/group_launch.hpp"
#include "settle/detail/group_options.hpp"
