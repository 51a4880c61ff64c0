/// @file detail/group.hpp
/// The one engine behind every combinator: a group of task slots, launched on an
/// executor and collected when the group's rule says it has settled.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

#include "settle/detail/slot.hpp"
#include "settle/detail/watcher.hpp"
#include "settle/errors.hpp"
#include "settle/executor.hpp"
#include "settle/settled.hpp"
#include "settle/thread_pool.hpp"

namespace settle::detail {

inline constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

/// Where the watcher hands the user code that settling a group early runs (stop
/// callbacks, destructors of cancelled tasks). Not `default_executor()`: the tasks waiting
/// for that stop request may be what fills it. An elastic pool of its own, created on
/// first use and never destroyed, so a callback that blocks gets another thread for the
/// next one.
[[nodiscard]] inline thread_pool& notifier() {
  static thread_pool* const pool = [] {
    pool_options opts;
    opts.min_threads = 1;
    opts.max_threads = 64;
    return new thread_pool(opts);
  }();
  return *pool;
}

/// The shared state of one combinator call.
///
/// Each slot is claimed exactly once (an atomic exchange), by whoever gets to it first:
/// a pool thread or the executor's job, the waiting caller helping on a settle pool, the
/// thread that sees a future ready, or the thread that settles the group early and
/// cancels what has not started.
///
/// Callables run on the executor (and on the helping caller). Futures never do: a thread
/// blocked in `get()` could be the one thread a pool has, or the caller, while the
/// future waits for work nobody runs. Ready futures are settled at launch, in index
/// order; the others are polled by the `watcher` thread until they are ready.
///
/// Completion is counted cppcoro-style: `outstanding_` starts at (callables) + 1; the
/// extra unit is released once, when the group settles (every slot settled, or the rule
/// decided early, with every unstarted slot cancelled). The call returns when it reaches
/// zero: the group has settled and no callable it started is still running. Futures are
/// never waited for beyond the group's settling: they count in `remaining_` only.
template <class Rule, class Storage>
class group {
 public:
  template <class... Args>
  explicit group(Args&&... args) : storage_(std::forward<Args>(args)...) {}

  /// Must be called once the slots are in place, before `launch_and_wait`.
  void prepare() {
    const std::size_t n = storage_.size();
    callables_ = storage_.callables_in(0, n);
    remaining_.store(n, std::memory_order_relaxed);
    outstanding_.store(callables_ + 1, std::memory_order_relaxed);
    helper_end_.store(n, std::memory_order_relaxed);
    if constexpr (Storage::any_stop_aware) stop_ = std::stop_source{};
    prepared_ = true;
    if (n == 0) settle_group();
  }

  Storage& storage() noexcept { return storage_; }

  /// Index of the slot that settled the group early, or `no_slot`.
  [[nodiscard]] std::size_t winner() const noexcept {
    return winner_.load(std::memory_order_acquire);
  }

  /// Hands every task to `ex` (futures to the watcher), helps when `ex` is a settle
  /// pool, and waits until the group has settled and every callable has returned.
  template <class Ex>
  void launch_and_wait(Ex& ex) noexcept {
    if constexpr (Storage::any_future) start_futures();
    if constexpr (std::derived_from<std::remove_cv_t<Ex>, thread_pool>) {
      launch_on_pool(ex);
    } else {
      for (std::size_t i = 0; i < storage_.size() && !decided(); ++i)
        if (!storage_.is_future(i) && !claimed(i)) launch_one(ex, i);
    }
    wait();
  }

  /// Destroys the outcomes the caller did not take, on the caller's thread. A future's
  /// outcome may still be written by the watcher while its slot is unsettled, so those
  /// are left to the group's last owner unless every slot has settled.
  void discard_results() noexcept {
    if (prepared_) {
      const bool all_final = remaining_.load(std::memory_order_acquire) == 0;
      for (std::size_t i = 0; i < storage_.size(); ++i)
        if (all_final || !storage_.is_future(i)) storage_.visit(i, [](auto& s) { s.result.reset(); });
    }
    // Shared state (a map's function) is used only by callables, all returned by now.
    if constexpr (requires { storage_.shared.reset(); }) storage_.shared.reset();
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
    return storage_.claims[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool claim(std::size_t i) noexcept {
    // acq_rel: the claimer must see the slot as constructed, and later claim attempts
    // see it taken.
    return !storage_.claims[i].exchange(true, std::memory_order_acq_rel);
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

  // As above, but leaves the count in `t` for the caller to count down later.
  void run_claimed(std::size_t i, tally& t) noexcept {
    if (decided()) {
      reject_claimed(i, std::make_exception_ptr(cancelled{}), t);
      return;
    }
    storage_.visit(i, [&](auto& s) { s.run(stop_.get_token()); });
    judge(i);
    t.add(!storage_.is_future(i));
  }

  void cancel_claimed(std::size_t i, std::exception_ptr reason) noexcept {
    tally t;
    reject_claimed(i, std::move(reason), t);
    count_down(t);
  }

  // Settles a slot this thread has claimed as rejected with `reason`, without running it.
  void reject_claimed(std::size_t i, std::exception_ptr reason, tally& t) noexcept {
    storage_.visit(i, [&](auto& s) { s.reject(std::move(reason)); });
    judge(i);
    t.add(!storage_.is_future(i));
  }

  // Slot i has its outcome: apply the rule.
  void judge(std::size_t i) noexcept {
    bool rejected = false;
    storage_.visit(i, [&](auto& s) { rejected = s.result->is_rejected(); });
    if (Rule::settles_on(rejected ? status::rejected : status::fulfilled)) {
      std::size_t expected = no_slot;
      // The first slot (in time) that meets the rule wins; acq_rel publishes its
      // outcome to whoever reads `winner_`.
      if (winner_.compare_exchange_strong(expected, i, std::memory_order_acq_rel)) settle_early();
    }
  }

  void count_down(const tally& t) noexcept {
    if (t.settled != 0 && remaining_.fetch_sub(t.settled, std::memory_order_acq_rel) == t.settled)
      settle_group();
    if (t.callables != 0) release_outstanding(t.callables);
  }

  void settle_early() noexcept {
    // Stop callbacks and destructors of cancelled tasks are user code: never on the
    // watcher's thread (when a future won, or a deadline passed). A thread of the
    // notifier pool does it; the group's extra unit, still held, keeps the call waiting
    // for it meanwhile.
    if (watcher::on_this_thread()) {
      add_refs(1);
      try {
        notifier().execute([this]() noexcept {
          settle_early_here();
          release();
        });
        return;
      } catch (...) {
        refs_.fetch_sub(1, std::memory_order_relaxed);  // refused: do it here after all
      }
    }
    settle_early_here();
  }

  void settle_early_here() noexcept {
    stop_.request_stop();  // tokens of running tasks (a no-op when no task takes one)
    // Every slot nobody has claimed is settled `cancelled` before the group's extra unit
    // is released: when the caller wakes, no outcome is being written any more except
    // by threads it still waits for (and futures' watchers, see `discard_results`).
    tally t;
    for (std::size_t j = 0; j < storage_.size(); ++j)
      if (claim(j)) reject_claimed(j, std::make_exception_ptr(cancelled{}), t);
    count_down(t);
    settle_group();
  }

  void settle_group() noexcept {
    if (!group_settled_.exchange(true, std::memory_order_acq_rel)) release_outstanding();
  }

  void release_outstanding(std::size_t n = 1) noexcept {
    // acq_rel: the releases of every slot's outcome meet in this counter, and the
    // waiter acquires them through `done_`.
    if (outstanding_.fetch_sub(n, std::memory_order_acq_rel) == n) {
      done_.store(1, std::memory_order_release);
      done_.notify_all();
    }
  }

  void wait() noexcept {
    // The tasks still running are often tiny ones a worker took a moment ago: poll
    // for a few microseconds before paying for a sleep and a wake-up (~20 us here).
    for (int i = 0; i < spin_polls; ++i)
      if (done_.load(std::memory_order_acquire) != 0) return;
    for (int i = 0; i < yield_polls; ++i) {
      std::this_thread::yield();
      if (done_.load(std::memory_order_acquire) != 0) return;
    }
    while (done_.load(std::memory_order_acquire) == 0) done_.wait(0, std::memory_order_acquire);
  }
  static constexpr int spin_polls = 4000;
  static constexpr int yield_polls = 16;

  // --- futures: settled when ready, never waited on by a thread the call needs -------
  // (detail/group_futures.hpp)

  void finish_future(std::size_t i) noexcept;
  void start_futures() noexcept;
  static watch_node::clock::time_point poll_futures(watch_node& node,
                                                    watch_node::clock::time_point now) noexcept;

  // --- settle's own pool: one entry, taken by as many threads as it can use ----------

  // A pool thread took `units` units of this group's entry: it runs unclaimed callables
  // from the front until there are none, then gives the units (one reference each) back.
  static void run_units(void* context, std::size_t units) noexcept {
    auto* self = static_cast<group*>(context);
    self->work_from_front();
    self->release(units);
  }

  // How many more threads the entry could keep busy: the callables between the pool's
  // cursor and the first one the helping caller has claimed from the back.
  static std::size_t demand(void* context) noexcept {
    const auto* self = static_cast<const group*>(context);
    const std::size_t next = self->cursor_.load(std::memory_order_relaxed);
    const std::size_t end = self->helper_end_.load(std::memory_order_relaxed);
    return self->decided() || next >= end ? 0 : storage_type::callables_in(next, end);
  }

  void work_from_front() noexcept {
    const std::size_t n = storage_.size();
    tally t;
    while (!decided()) {
      const std::size_t i = cursor_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) break;
      if (storage_.is_future(i)) continue;
      // Only the caller claims callables ahead of the cursor, from the back (or the
      // group settled early): from a claimed one on, every callable is taken.
      if (!claim(i)) break;
      run_claimed(i, t);
    }
    count_down(t);
  }

  void launch_on_pool(thread_pool& pool) noexcept {
    const std::size_t n = storage_.size();
    if (callables_ != 0 && !decided()) {
      add_refs(callables_);
      try {
        pool_access::enqueue_batch(pool, work_item{&run_units, this, &demand}, callables_);
      } catch (...) {
        const auto reason = std::current_exception();
        refs_.fetch_sub(callables_, std::memory_order_relaxed);  // the caller still holds one
        for (std::size_t i = 0; i < n; ++i)
          if (!storage_.is_future(i) && claim(i)) cancel_claimed(i, reason);
      }
    }
    // Help: run our own not-yet-started callables here instead of only sleeping. This is
    // what makes a combinator called from a pool task safe on any pool size, and keeps
    // short fan-outs off the wake-up path. From the back, so that the caller and the
    // pool's threads (which go from the front) rarely contend for the same slot; a slot
    // a pool thread has claimed means every slot before it is taken too.
    tally t;
    for (std::size_t i = n; i-- > 0 && !decided();) {
      if (storage_.is_future(i)) continue;
      if (!claim(i)) break;
      helper_end_.store(i, std::memory_order_relaxed);
      run_claimed(i, t);
    }
    count_down(t);
    // Every callable is claimed now: the group's entry is stale. Take back what no pool
    // thread took, so that the pool has nothing of ours to look at or wake up for.
    cursor_.store(n, std::memory_order_relaxed);
    if (callables_ != 0) {
      if (const std::size_t units = pool_access::withdraw(pool, this)) release(units);
    }
  }

  // --- any other executor: one job per callable --------------------------------------

  // A job owns one reference. Run, it claims its slot; destroyed unrun (the executor
  // dropped it), it settles its slot `cancelled` so that nothing waits forever.
  class job {
   public:
    job(group* g, std::size_t i) noexcept : group_(g), index_(i) {}
    job(job&& other) noexcept
        : group_(std::exchange(other.group_, nullptr)), index_(other.index_) {}
    job& operator=(job&&) = delete;
    ~job() {
      if (group_ != nullptr) {
        group_->dropped(index_);
        group_->release();
      }
    }
    void operator()() noexcept {
      if (group* g = std::exchange(group_, nullptr)) {
        if (g->claim(index_)) g->run_claimed(index_);
        g->release();
      }
    }

   private:
    group* group_;
    std::size_t index_;
  };

  // While `execute` runs for slot i, `submitting_` holds i. A job dropped inside that
  // call leaves the verdict to the submitter (who may still see `execute` throw, and
  // then the slot's reason is that exception); a job dropped later settles itself.
  static constexpr std::size_t dropped_in_submit = no_slot - 1;

  void dropped(std::size_t i) noexcept {
    std::size_t expected = i;
    if (submitting_.compare_exchange_strong(expected, dropped_in_submit, std::memory_order_acq_rel))
      return;
    if (claim(i)) cancel_claimed(i, std::make_exception_ptr(cancelled{}));
  }

  template <class Ex>
  void launch_one(Ex& ex, std::size_t i) noexcept {
    add_refs(1);
    std::exception_ptr refused;
    {
      job j(this, i);
      submitting_.store(i, std::memory_order_release);
      try {
        ex.execute(std::move(j));
      } catch (...) {
        refused = std::current_exception();
      }
      const bool dropped_now =
          submitting_.exchange(no_slot, std::memory_order_acq_rel) == dropped_in_submit;
      if (refused || dropped_now) {
        if (claim(i)) cancel_claimed(i, refused ? refused : std::make_exception_ptr(cancelled{}));
      }
    }  // j, if `execute` never took it, is dropped here and settles nothing twice
  }

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
  // The next slot the pool's threads try. Kept off the cache line of the counters above,
  // as every pool thread on the group takes from it (padding rather than alignas: an
  // over-aligned group would need the slower aligned operator new on every call).
  unsigned char before_cursor_[64] = {};
  std::atomic<std::size_t> cursor_{0};
  unsigned char after_cursor_[64] = {};
  std::atomic<bool> group_settled_{false};
  std::atomic<std::uint32_t> done_{0};
};

/// The caller's reference to a group: waits happen inside `launch_and_wait`; on scope
/// exit the unclaimed outcomes are destroyed here and the reference released.
template <class Group>
class group_handle {
 public:
  explicit group_handle(Group* g) noexcept : group_(g) {}
  group_handle(const group_handle&) = delete;
  group_handle& operator=(const group_handle&) = delete;
  ~group_handle() {
    group_->discard_results();
    group_->release();
  }
  Group* operator->() const noexcept { return group_; }
  Group& operator*() const noexcept { return *group_; }

 private:
  Group* group_;
};

}  // namespace settle::detail

#include "settle/detail/group_futures.hpp"
