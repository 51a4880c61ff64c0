/// @file detail/group_launch.hpp
/// How a group hands its callables to an executor: to settle's own pool as one queue
/// entry that many threads (and the helping caller) take from; to `inline_executor` one
/// after another; to any other executor one job per callable (under a limit, the next
/// one as another returns). Included by group.hpp, whose members it defines.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <utility>

#include "settle/detail/group.hpp"
#include "settle/detail/work_item.hpp"

namespace settle::detail {

// --- settle's own pool: one entry, taken by as many threads as it can use ------------

// A pool thread took `units` units of this group's entry: it runs unclaimed callables
// from the front until there are none, then gives the units (one reference each) back.
template <class Rule, class Storage>
void group<Rule, Storage>::run_units(void* context, std::size_t units) noexcept {
  auto* self = static_cast<group*>(context);
  self->work_from_front();
  self->release(units);
}

// How many more threads the entry could keep busy: the callables between the pool's
// cursor and the first one the helping caller has claimed from the back, and no more
// than the call's limit leaves room for.
template <class Rule, class Storage>
std::size_t group<Rule, Storage>::demand(void* context) noexcept {
  const auto* self = static_cast<const group*>(context);
  const std::size_t next = self->cursor_.load(std::memory_order_relaxed);
  const std::size_t end = self->helper_end_.load(std::memory_order_relaxed);
  if (self->decided() || next >= end) return 0;
  std::size_t wanted = storage_type::callables_in(next, end);
  if (self->limit_ != 0) {
    const std::size_t busy = self->permits_.load(std::memory_order_relaxed);
    wanted = std::min(wanted, self->limit_ > busy ? self->limit_ - busy : 0);
  }
  return wanted;
}

// Runs callables in order from the pool's cursor, under a permit when the call has a
// limit (held across the loop: it counts this thread as one of the `limit` runners).
template <class Rule, class Storage>
void group<Rule, Storage>::work_from_front() noexcept {
  if (!take_permit()) return;  // `limit` runners are at it: they finish the group
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
  return_permit();
  count_down(t);
}

template <class Rule, class Storage>
void group<Rule, Storage>::submit_to_pool(thread_pool& pool, bool caller_helps) noexcept {
  // Under a limit the entry offers `limit` units: the pool never grows for more runners.
  const std::size_t units = limit_ != 0 ? std::min(limit_, callables_) : callables_;
  if (units == 0 || decided()) return;
  add_refs(units);
  try {
    // Under a limit the caller may not help at all (it takes a permit like the others).
    pool_access::enqueue_batch(pool, work_item{&run_units, this, &demand}, units,
                               caller_helps && limit_ == 0);
    submitted_ = true;
  } catch (...) {
    const auto reason = std::current_exception();
    refs_.fetch_sub(units, std::memory_order_relaxed);  // the caller still holds one
    for (std::size_t i = 0; i < storage_.size(); ++i)
      if (!storage_.is_future(i) && claim(i)) cancel_claimed(i, reason);
  }
}

// Help: run our own not-yet-started callables here instead of only sleeping. This is
// what makes a combinator called from a pool task safe on any pool size, and keeps
// short fan-outs off the wake-up path.
template <class Rule, class Storage>
void group<Rule, Storage>::help_on_pool(thread_pool& pool) noexcept {
  const std::size_t n = storage_.size();
  if (limit_ != 0) {
    // In argument order, as one of the `limit` runners (or not at all, when they are
    // all busy: they finish the group).
    work_from_front();
    if (cursor_.load(std::memory_order_relaxed) < n && !decided()) return;
  } else {
    // From the back, so that the caller and the pool's threads (which go from the front)
    // rarely contend for the same slot; a slot a pool thread has claimed means every slot
    // before it is taken too.
    tally t;
    for (std::size_t i = n; i-- > 0 && !decided();) {
      if (storage_.is_future(i)) continue;
      if (!claim(i)) break;
      helper_end_.store(i, std::memory_order_relaxed);
      run_claimed(i, t);
    }
    count_down(t);
  }
  // Every callable is claimed now: the group's entry is stale. Take back what no pool
  // thread took, so that the pool has nothing of ours to look at or wake up for.
  cursor_.store(n, std::memory_order_relaxed);
  if (submitted_) {
    if (const std::size_t left = pool_access::withdraw(pool, this)) release(left);
  }
}

// --- inline_executor, and any other executor: one job per callable -------------------

// A job owns one reference. Run, it claims its slot; destroyed unrun (the executor
// dropped it), it settles its slot `cancelled` so that nothing waits forever.
template <class Rule, class Storage>
class group<Rule, Storage>::job {
 public:
  job(group* g, std::size_t i) noexcept : group_(g), index_(i) {}
  job(job&& other) noexcept : group_(std::exchange(other.group_, nullptr)), index_(other.index_) {}
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
inline constexpr std::size_t dropped_in_submit = no_slot - 1;

template <class Rule, class Storage>
void group<Rule, Storage>::dropped(std::size_t i) noexcept {
  std::size_t expected = i;
  if (submitting_.compare_exchange_strong(expected, dropped_in_submit, std::memory_order_acq_rel))
    return;
  if (claim(i)) cancel_claimed(i, std::make_exception_ptr(cancelled{}));
}

template <class Rule, class Storage>
template <class Ex>
void group<Rule, Storage>::launch_one(Ex& ex, std::size_t i) noexcept {
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

// Every callable, in order (`inline_executor` runs each during `execute`).
template <class Rule, class Storage>
template <class Ex>
void group<Rule, Storage>::launch_all(Ex& ex) noexcept {
  for (std::size_t i = 0; i < storage_.size() && !decided(); ++i)
    if (!storage_.is_future(i) && !claimed(i)) launch_one(ex, i);
}

// Without a limit, every callable at once. Under one, the first `limit`; then each
// callable that returns (or is refused, or dropped) launches the next, in order.
template <class Rule, class Storage>
template <class Ex>
void group<Rule, Storage>::launch_on_executor(Ex& ex) noexcept {
  if (limit_ == 0 || limit_ >= callables_) {
    launch_all(ex);
    return;
  }
  // A const executor too (its `execute` is const): stored as `void*`, cast back below.
  executor_ = const_cast<void*>(static_cast<const volatile void*>(std::addressof(ex)));
  launch_next_ = [](group* self) noexcept {
    const std::size_t n = self->storage_.size();
    while (!self->decided()) {
      const std::size_t i = self->launch_cursor_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      if (self->storage_.is_future(i) || self->claimed(i)) continue;
      self->launch_one(*static_cast<Ex*>(self->executor_), i);
      return;
    }
  };
  limited_launch_.store(true, std::memory_order_release);
  launch_more(limit_);
}

// Launches `k` more callables. One thread at a time launches (a refused launch settles
// its slot and asks for one more, on this same thread: a loop, not a recursion); a
// thread that finds another launching leaves its share to it.
template <class Rule, class Storage>
void group<Rule, Storage>::launch_more(std::size_t k) noexcept {
  if (launches_due_.fetch_add(k, std::memory_order_acq_rel) != 0) return;
  std::size_t owed = k;
  while (owed != 0) {
    for (std::size_t j = 0; j < owed; ++j) launch_next_(this);
    owed = launches_due_.fetch_sub(owed, std::memory_order_acq_rel) - owed;
  }
}

}  // namespace settle::detail
