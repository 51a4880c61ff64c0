/// @file detail/group.hpp
/// The one engine behind every combinator: a group of task slots, launched on an
/// executor and collected when the group's rule says it has settled.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "settle/errors.hpp"
#include "settle/executor.hpp"
#include "settle/settled.hpp"
#include "settle/task.hpp"
#include "settle/thread_pool.hpp"

namespace settle::detail {

/// One task and, once it has run, its outcome. `Stored` is a decayed callable or future.
template <class Stored>
struct slot {
  using result_type = typename task_result<Stored>::type;
  static constexpr bool is_future = future_task<Stored>;
  static constexpr bool is_stop_aware = !is_future && stop_aware_callable<Stored>;

  template <class Arg>
    requires(!std::is_same_v<std::remove_cvref_t<Arg>, slot>)
  explicit slot(Arg&& arg) : task(std::in_place, std::forward<Arg>(arg)) {}

  std::optional<Stored> task;                  // engaged until it has run or been cancelled
  std::optional<settled<result_type>> result;  // engaged once settled

  // Runs the task and stores its outcome; never throws (the outcome holds the exception).
  void run(const std::stop_token& token) noexcept {
    try {
      if constexpr (std::is_void_v<result_type>) {
        call(token);
        result.emplace(std::in_place);
      } else {
        result.emplace(std::in_place, call(token));
      }
    } catch (...) {
      result.reset();
      result.emplace(make_rejected<result_type>(std::current_exception()));
    }
    // The callable lives until it returns, and no longer: whatever it captured is
    // released before the combinator can return.
    task.reset();
  }

  void reject(std::exception_ptr reason) noexcept {
    task.reset();
    result.emplace(make_rejected<result_type>(std::move(reason)));
  }

 private:
  decltype(auto) call(const std::stop_token& token) {
    if constexpr (is_future)
      return task->get();
    else if constexpr (is_stop_aware)
      return std::invoke(std::move(*task), token);
    else
      return std::invoke(std::move(*task));
  }
};

/// Slots of different types, for the variadic forms.
template <class... Stored>
struct tuple_storage {
  static constexpr bool any_stop_aware = (slot<Stored>::is_stop_aware || ...);
  static constexpr bool any_future = (slot<Stored>::is_future || ...);

  // Each slot is built in place from its argument: no temporary slot is moved.
  template <class... Args>
  explicit tuple_storage(Args&&... args) : slots(std::forward<Args>(args)...) {}

  [[nodiscard]] static constexpr std::size_t size() noexcept { return sizeof...(Stored); }

  // Calls f(slot) on slot i: a fold over the indices, as the count is small.
  template <class F>
  void visit(std::size_t i, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (void)((i == I && (f(std::get<I>(slots)), true)) || ...);
    }(std::index_sequence_for<Stored...>{});
  }
  [[nodiscard]] static constexpr bool is_future(std::size_t i) noexcept {
    constexpr std::array<bool, sizeof...(Stored)> futures{slot<Stored>::is_future...};
    return futures[i];
  }

  std::tuple<slot<Stored>...> slots;
  std::array<std::atomic<bool>, sizeof...(Stored)> claims{};
};

/// Slots of one type, for the range forms. `Shared` is state every task refers to (the
/// function of a map), kept here so that it lives exactly as long as the group.
template <class Stored, class Shared = std::monostate>
struct vector_storage {
  static constexpr bool any_stop_aware = slot<Stored>::is_stop_aware;
  static constexpr bool any_future = slot<Stored>::is_future;

  template <class... SharedArgs>
  explicit vector_storage(SharedArgs&&... shared_args)
      : shared(std::in_place, std::forward<SharedArgs>(shared_args)...) {}

  template <class Arg>
  void add(Arg&& arg) {
    slots.emplace_back(std::forward<Arg>(arg));
  }
  void seal() { claims = std::make_unique<std::atomic<bool>[]>(slots.size()); }

  [[nodiscard]] std::size_t size() const noexcept { return slots.size(); }
  template <class F>
  void visit(std::size_t i, F&& f) {
    f(slots[i]);
  }
  [[nodiscard]] static constexpr bool is_future(std::size_t) noexcept {
    return slot<Stored>::is_future;
  }

  // Reset by `release_shared` once every task that uses it has returned, so that what it
  // captured is released on the caller's thread before the call returns.
  std::optional<Shared> shared;
  std::vector<slot<Stored>> slots;
  std::unique_ptr<std::atomic<bool>[]> claims;
};

inline constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

/// The shared state of one combinator call.
///
/// Each slot is claimed exactly once (an atomic exchange), by whoever gets to it first:
/// the executor's job, the waiting caller helping on a settle pool, or the thread that
/// settles the group early and cancels what has not started.
///
/// Completion is counted cppcoro-style: `outstanding_` starts at (slots the caller must
/// wait for) + 1; the extra unit is released once, when the group settles (every slot
/// settled, or the rule decided early). The call returns when it reaches zero: the group
/// has settled and no task the call must wait for is still running.
template <class Rule, class Storage>
class group {
 public:
  template <class... Args>
  explicit group(Args&&... args) : storage_(std::forward<Args>(args)...) {}

  /// Must be called once the slots are in place, before `launch`.
  void prepare() {
    const std::size_t n = storage_.size();
    std::size_t counting = 0;
    for (std::size_t i = 0; i < n; ++i) counting += counts(i) ? 1 : 0;
    remaining_.store(n, std::memory_order_relaxed);
    outstanding_.store(counting + 1, std::memory_order_relaxed);
    if constexpr (Storage::any_stop_aware) stop_ = std::stop_source{};
    if (n == 0) settle_group();
  }

  Storage& storage() noexcept { return storage_; }

  /// Index of the slot that settled the group early, or `no_slot`.
  [[nodiscard]] std::size_t winner() const noexcept {
    return winner_.load(std::memory_order_acquire);
  }

  /// Hands every task to `ex`, helps when `ex` is a settle pool, and waits until the
  /// group has settled and every task the call must wait for has returned.
  template <class Ex>
  void launch_and_wait(Ex& ex) noexcept {
    if constexpr (Storage::any_future) settle_ready_futures();
    if constexpr (std::is_same_v<std::remove_cv_t<Ex>, thread_pool>) {
      launch_on_pool(ex);
    } else {
      for (std::size_t i = 0; i < storage_.size() && !decided(); ++i)
        if (!claimed(i)) launch_one(ex, i);
    }
    wait();
  }

  /// Destroys the outcomes the caller did not take, on the caller's thread. Slots the
  /// call did not wait for (losing futures of `any`/`race`) are left to their waiter.
  void discard_results() noexcept {
    // Once every slot has settled no outcome is being written any more, so all of
    // them go here; otherwise only those the call waited for.
    const bool all_final = remaining_.load(std::memory_order_acquire) == 0;
    for (std::size_t i = 0; i < storage_.size(); ++i)
      if (all_final || counts(i)) storage_.visit(i, [](auto& s) { s.result.reset(); });
    if constexpr (Storage::any_future && !Rule::waits_for_futures) let_go_of_futures();
    // Shared state (a map's function) is used only by tasks, never by futures, so
    // every task that could use it has returned by now.
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
  [[nodiscard]] bool counts(std::size_t i) const noexcept {
    return Rule::waits_for_futures || !storage_.is_future(i);
  }
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
  /// tasks in a row counts them down once, instead of contending for the shared
  /// counters after every task.
  struct tally {
    std::size_t settled = 0;
    std::size_t counting = 0;

    void add(bool counts) noexcept {
      ++settled;
      counting += counts ? 1 : 0;
    }
  };

  // Runs a slot this thread has claimed (unless the group has already settled early)
  // and counts it down at once.
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
    t.add(counts(i));
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
    t.add(counts(i));
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
    if (t.counting != 0) release_outstanding(t.counting);
  }

  void settle_early() noexcept {
    stop_.request_stop();  // tokens of running tasks (a no-op when no task takes one)
    settle_group();
    // Futures the call does not wait for are left alone here: see `let_go_of_futures`.
    for (std::size_t j = 0; j < storage_.size(); ++j)
      if (counts(j) && claim(j)) cancel_claimed(j, std::make_exception_ptr(cancelled{}));
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

  // A losing future nobody has started waiting for is released without blocking the
  // caller: the destructor of a future from std::async waits for its work, so a future
  // that is not ready yet is destroyed on a default-pool thread instead.
  void let_go_of_futures() noexcept {
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      if (counts(i) || !claim(i)) continue;
      storage_.visit(i, [](auto& s) {
        if constexpr (std::remove_reference_t<decltype(s)>::is_future) {
          auto& f = *s.task;
          if (f.valid() && f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            try {
              default_executor().execute([lost = std::move(f)] {});
            } catch (...) {
              // The pool refused: let go of it here after all.
            }
          }
        }
      });
      cancel_claimed(i, std::make_exception_ptr(cancelled{}));
    }
  }

  // JavaScript settles already-settled inputs in index order: so do we, before any
  // task starts, so that `race`/`any` over ready futures pick the lowest index.
  void settle_ready_futures() noexcept {
    for (std::size_t i = 0; i < storage_.size() && !decided(); ++i) {
      if (!storage_.is_future(i)) continue;
      bool ready = false;
      storage_.visit(i, [&](auto& s) {
        if constexpr (std::remove_reference_t<decltype(s)>::is_future) {
          // An invalid future is "ready": get() reports future_errc::no_state at once.
          ready = !s.task->valid() ||
                  s.task->wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }
      });
      if (ready && claim(i)) run_claimed(i);
    }
  }

  // --- settle's own pool: one entry, taken by as many threads as it can use ----------

  // A pool thread took `units` units of this group's entry: it runs unclaimed tasks from
  // the front until there are none, then gives the units (one reference each) back.
  static void run_units(void* context, std::size_t units) noexcept {
    auto* self = static_cast<group*>(context);
    self->work_from_front();
    self->release(units);
  }

  static std::size_t demand(void* context) noexcept {
    const auto* self = static_cast<const group*>(context);
    const std::size_t n = self->storage_.size();
    const std::size_t next = self->cursor_.load(std::memory_order_relaxed);
    return self->decided() || next >= n ? 0 : n - next;
  }

  void work_from_front() noexcept {
    const std::size_t n = storage_.size();
    tally t;
    while (!decided()) {
      const std::size_t i = cursor_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) break;
      if (claimed(i)) {
        // Without futures (which may be claimed out of order, as they become ready)
        // only the caller claims ahead of the cursor, from the back: so from here on
        // every slot is taken.
        if constexpr (!Storage::any_future) break;
        continue;
      }
      if (claim(i)) run_claimed(i, t);
    }
    count_down(t);
  }

  void launch_on_pool(thread_pool& pool) noexcept {
    const std::size_t n = storage_.size();
    if (n != 0 && !decided()) {
      add_refs(n);
      try {
        pool_access::enqueue_batch(pool, work_item{&run_units, this, &demand}, n);
      } catch (...) {
        const auto reason = std::current_exception();
        refs_.fetch_sub(n, std::memory_order_relaxed);  // the caller still holds one
        for (std::size_t i = 0; i < n; ++i)
          if (claim(i)) cancel_claimed(i, reason);
      }
    }
    // Help: run our own not-yet-started tasks here instead of only sleeping. This is
    // what makes a combinator called from a pool task safe on any pool size, and keeps
    // short fan-outs off the wake-up path. From the back, so that the caller and the
    // pool's threads (which go from the front) rarely contend for the same slot. Slots
    // the call does not wait for (losing futures of any/race) are not the caller's to
    // block on.
    tally t;
    for (std::size_t i = n; i-- > 0 && !decided();)
      if (counts(i) && !claimed(i) && claim(i)) run_claimed(i, t);
    count_down(t);
    // Every slot is claimed now (unless losing futures are left to the pool): the
    // group's entry is stale. Take back what no pool thread took, so that the pool has
    // nothing of ours to look at or wake up for.
    if constexpr (!Storage::any_future) {
      cursor_.store(n, std::memory_order_relaxed);
      if (n != 0) {
        if (const std::size_t units = pool_access::withdraw(pool, this)) release(units);
      }
    }
  }

  // --- any other executor: one job per task ------------------------------------------

  static void run_job(group* self, std::size_t i) noexcept {
    if (self->claim(i)) self->run_claimed(i);
    self->release();
  }

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
      if (group* g = std::exchange(group_, nullptr)) run_job(g, index_);
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

  Storage storage_;
  std::stop_source stop_{std::nostopstate};
  std::atomic<std::size_t> refs_{1};  // the caller's
  std::atomic<std::size_t> remaining_{0};
  std::atomic<std::size_t> outstanding_{0};
  std::atomic<std::size_t> winner_{no_slot};
  std::atomic<std::size_t> submitting_{no_slot};
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
