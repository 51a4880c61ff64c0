/// @file detail/pool_worker.hpp
/// The life of a `thread_pool` thread: take a unit of queued work and run it, spin a
/// moment when the queue is empty, sleep, retire after the idle timeout; and the drain
/// at shutdown. Included by thread_pool.hpp, whose private members it defines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "settle/detail/os_thread.hpp"
#include "settle/detail/spinner.hpp"
#include "settle/thread_pool.hpp"

namespace settle {

// Whom to wake for the queued work a thread leaves behind when it takes a unit: as
// many sleeping threads as the work could use, within the pool's wake-up cap, and the
// (dormant) supervisor when even more is wanted. One scan of the queue for both.
// Under mutex_; the caller notifies after unlocking.
inline thread_pool::wake_plan thread_pool::wake_for_rest() noexcept {
  const std::size_t sleeping = idle_ - wakeups_;
  const std::size_t active = busy_ + wakeups_ + spinning_;
  const std::size_t cap = room_for_threads();
  const std::size_t room = cap > active ? cap - active : 0;
  const std::size_t limit = std::min(sleeping, room);
  const bool ask_supervisor = supervisor_dormant_ && elastic_;
  if (queue_.empty() || (limit == 0 && !ask_supervisor)) return {};
  const std::size_t wanted = wanted_items(ask_supervisor ? limit + 1 : limit);
  wake_plan plan{std::min(wanted, limit), false};
  plan.supervisor = ask_supervisor && wanted > plan.threads;
  wakeups_ += plan.threads;
  return plan;
}

// How many threads one wake-up may bring to work: a core's worth less the callers
// running their own queued tasks (each counted once), where the sentinel can tell when
// one of them leaves its core (elsewhere nobody would). Under mutex_.
inline std::size_t thread_pool::room_for_threads() const noexcept {
  const std::size_t helping = sentinel_.refused() ? 0 : helpers_.threads();
  return wake_cap_ > helping ? wake_cap_ - helping : 0;
}

inline std::size_t thread_pool::wanted_items(std::size_t limit) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < queue_.size() && n < limit; ++i) {
    const entry& e = queue_[i];
    n += e.item.demand == nullptr ? e.units : std::min(e.units, e.item.demand(e.item.context));
  }
  return std::min(n, limit);
}

inline void thread_pool::work(worker* self) {
  const int os_id = elastic_ ? detail::current_os_thread_id() : 0;  // only growth needs it
  detail::worker_of_pool = this;
  std::unique_lock lock(mutex_);
  self->os_id = os_id;
  --starting_;
  bool may_spin = false;
  for (;;) {
    if (!queue_.empty()) {
      const auto [item, units] = pop_front();
      ++pops_;
      ++busy_;
      const wake_plan wake = wake_for_rest();
      self->busy.store(true, std::memory_order_relaxed);
      lock.unlock();
      for (std::size_t k = 0; k < wake.threads; ++k) work_cv_.notify_one();
      if (wake.supervisor) supervisor_cv_.notify_one();
      item.run(item.context, units);
      self->runs.fetch_add(1, std::memory_order_relaxed);
      self->busy.store(false, std::memory_order_relaxed);
      lock.lock();
      --busy_;
      may_spin = true;
      continue;
    }
    if (stopping_ && busy_ == 0) {
      // Drained: nothing queued and nothing running that could queue more.
      closed_ = true;
      work_cv_.notify_all();
      return;
    }
    if (may_spin && spinning_ == 0 && !stopping_) {
      // One thread at a time stays awake for a moment after its work: the next
      // submission then costs no wake-up (a futex call and tens of microseconds
      // before the woken thread runs). Back under the lock, the loop looks at the
      // queue and at `stopping_` again before this thread may sleep.
      ++spinning_;
      lock.unlock();
      detail::spin_until_work_or_quiet(spin_line_);
      lock.lock();
      --spinning_;
      may_spin = false;
      continue;
    }
    ++idle_;
    bool timed_out = false;
    if (retires_ && live_ > min_ && !stopping_) {
      timed_out = work_cv_.wait_for(lock, idle_timeout_) == std::cv_status::timeout;
    } else {
      work_cv_.wait(lock);
    }
    --idle_;
    if (wakeups_ > 0) --wakeups_;  // this thread is awake now, whoever's wake-up it was
    if (timed_out && queue_.empty() && !stopping_ && live_ > min_) {
      --live_;
      self->finished = true;
      supervisor_cv_.notify_one();  // to be joined now, not when the supervisor next looks
      return;
    }
  }
}

inline void thread_pool::stop_and_join() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  supervisor_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  sentinel_.stop();
  // No thread spawns or reaps any more: the list is ours.
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  // Whatever is still queued (an elastic pool may have had no thread left) runs
  // here: every queued item runs exactly once, whatever the pool's size.
  std::unique_lock lock(mutex_);
  while (!queue_.empty()) {
    const entry whole = queue_.front();
    queue_.pop_front();
    spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
    lock.unlock();
    whole.item.run(whole.item.context, whole.units);
    lock.lock();
  }
  closed_ = true;
}

}  // namespace settle
