/// @file detail/pool_supervisor.hpp
/// The supervisor of an elastic `thread_pool`: it wakes idle threads and starts new ones
/// when queued work stops draining, and joins the threads that retired. Included by
/// thread_pool.hpp, whose private members it defines.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "settle/detail/cpu_census.hpp"
#include "settle/detail/os_thread.hpp"
#include "settle/thread_pool.hpp"

namespace settle {

// The supervisor sleeps until an enqueue finds no idle thread to wake. It then watches
// the queue: when no unit is taken for a stall interval while wanted units wait, the
// threads are stuck (blocked, or on long work), so it
// - wakes idle threads for the waiting units first (an enqueue wakes only a core's worth
//   of them): an idle thread is never left asleep beside wanted work for longer than a
//   stall interval, except beside the tasks of plain calls whose callers and the busy
//   threads keep the cores computing (see hold_for_helpers), and then for at most
//   hold_back_limit without progress;
// - starts new threads only for busy threads the OS reports blocked: threads that compute
//   would just share the same cores with new ones, and a thread waiting for a lock for a
//   moment waits for the thread that holds it, not for a core (see blocked_of_busy).
inline void thread_pool::supervise() {
  std::unique_lock lock(mutex_);
  std::chrono::microseconds patience = stall_interval;
  // The last look found the threads computing: then the queue moving on says nothing
  // new, and the looks stay as rare as they had become.
  bool computing = false;
  std::chrono::steady_clock::time_point holding_since{};  // idle threads held back since
  // The sentinel has seen a core free beside held work since the queue was last empty:
  // that work blocks, and no hold counts on its threads again until then.
  bool hold_refuted = false;
  // After a dormant spell, or a call that began or ended during a hold: the looks start
  // as for a first call.
  const auto start_afresh = [&] {
    recheck_ = false;
    census_.forget();
    patience = stall_interval;
    computing = false;
    holding_since = {};
    hold_refuted = false;
  };
  while (!stopping_) {
    reap(lock);
    // `reap` lets go of the lock to join: the destructor may have asked us to stop then,
    // and its one notification is gone.
    if (stopping_) break;
    if (queue_.empty() || (live_ >= max_ && idle_ <= wakeups_)) {
      stop_watching();
      supervisor_dormant_ = true;
      if (retires_ && live_ > min_)
        supervisor_cv_.wait_for(lock, idle_timeout_ + std::chrono::milliseconds(1));  // to reap
      else
        supervisor_cv_.wait(lock);
      supervisor_dormant_ = false;
      start_afresh();
      continue;
    }
    bool look_now = false;
    if (live_ > 0) {
      // Work is queued. Give the running threads a moment: if they take nothing from
      // the queue meanwhile (and no woken thread is still on its way), they are stuck.
      // While the sentinel watches, its word ends the wait at once.
      // During a hold, the helping callers and busy threads take their callables without
      // coming back to the queue: the demand falling is their progress.
      const std::size_t before = pops_;
      const std::size_t demand_before = watching_ ? wanted_items(max_) : 0;
      supervisor_cv_.wait_for(lock, patience, [this] {
        return stopping_ || recheck_ || look_now_.load(std::memory_order_acquire) != 0;
      });
      // A word for an earlier watch (one that ended while the sentinel fired) is stale.
      look_now = look_now_.exchange(0, std::memory_order_acq_rel) == watch_ && watching_;
      if (recheck_) {
        stop_watching();
        start_afresh();
        continue;
      }
      const bool moved =
          pops_ != before || (watching_ && !look_now && wanted_items(max_) != demand_before);
      if (moved) holding_since = {};
      // Progress while held: the runners' clocks must still say that they compute (a
      // thread may block while the others take the callables). If not, as a word.
      if (moved && !look_now && watching_ && !stopping_ && !hold_for_helpers(lock)) look_now = true;
      if (stopping_ || queue_.empty() || (moved && !look_now) || wakeups_ > 0 || starting_ > 0) {
        if (!computing) patience = stall_interval;
        // Threads at work: the runners' clocks now, for a hold's start at the next look.
        if (!stopping_ && !watching_ && !queue_.empty()) (void)hold_for_helpers(lock, false);
        continue;
      }
    }
    // Callers run their own queued tasks, and with the busy threads they are a core's
    // worth: idle threads would only share the cores. They stay asleep while the sentinel
    // sees no free core beside the work (its word, `look_now`, ends the hold: threads are
    // woken for the work at once), for at most hold_back_limit without progress.
    if (look_now) hold_refuted = true;
    const std::size_t seen = pops_;
    if (!look_now && !hold_refuted && idle_ > wakeups_ && hold_for_helpers(lock)) {
      if (stopping_) break;
      const auto now = std::chrono::steady_clock::now();
      if (holding_since == std::chrono::steady_clock::time_point{}) holding_since = now;
      const auto held = now - holding_since;
      if (held < hold_back_limit) {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(hold_back_limit - held);
        patience = std::clamp<std::chrono::microseconds>(left, stall_interval, hold_look);
        computing = true;
        continue;
      }
    }
    if (stopping_) break;
    stop_watching();
    holding_since = {};
    // The census let go of the lock: if the queue moved meanwhile, look again first.
    if (pops_ != seen || queue_.empty()) {
      patience = stall_interval;
      computing = false;
      continue;
    }
    // Only stale entries left: one thread gives their references back.
    const std::size_t wanted = std::max<std::size_t>(wanted_items(max_), 1);
    const std::size_t wake = std::min(wanted, idle_ - wakeups_);
    wakeups_ += wake;
    std::size_t grow = std::min(wanted - wake, max_ - live_);
    // No thread busy: the threads there are (idle ones just woken, a spinning one, new
    // ones still starting) will take the work; nothing says any is blocked.
    if (grow != 0) grow = busy_ != 0 ? std::min(grow, blocked_of_busy(lock)) : live_ == 0 ? 1 : 0;
    if (stopping_) break;
    if (wake == 0 && grow == 0) {
      // Threads computing: look again, but less and less often, so that a long
      // CPU-bound phase is not slowed by the watching itself.
      patience = std::min(patience * 2, max_patience);
      computing = true;
      continue;
    }
    patience = stall_interval;
    computing = false;
    lock.unlock();
    for (std::size_t k = 0; k < wake; ++k) work_cv_.notify_one();
    const bool started = spawn(grow);
    lock.lock();
    if (started) {
      spawn_backoff_ = std::chrono::milliseconds(0);
    } else {
      // Out of threads (EAGAIN): the work stays queued, and the existing threads (or
      // the destructor) still run it. Retry later, backing off, rather than spin.
      using namespace std::chrono_literals;
      spawn_backoff_ = std::clamp(spawn_backoff_ * 2, 1ms, max_spawn_backoff);
      supervisor_cv_.wait_for(lock, spawn_backoff_, [this] { return stopping_; });
    }
  }
}

// How many of the busy threads are blocked. Where the OS says (Linux), a busy thread in
// state 'R' computes; elsewhere every busy thread counts as blocked. A thread at work also
// waits for a moment now and then (for malloc's lock, or ours while an enqueue holds it):
// only one seen off the CPU twice, a stall interval apart, counts. And one seen waiting for
// a mutex counts only once it has waited at every look for `lock_patience` within one run:
// in a burst of tiny tasks, every worker freeing what the submitter allocated waits for
// malloc's lock whenever the submitter is preempted holding it, and new threads would only
// wait with them; a wait that lasts is treated as blocking, whoever holds the lock (its
// holder may wait for queued work, or for I/O). At most one new thread per blocked one
// each time: tasks that wait for each other get their threads in a few rounds (doubling),
// and a burst of tiny tasks cannot make the pool jump to its maximum. Under mutex_, which
// it releases meanwhile; only the supervisor reaps workers, so the pointers stay valid.
inline std::size_t thread_pool::blocked_of_busy(std::unique_lock<std::mutex>& lock) {
  struct look {
    worker* w;
    std::uint64_t run;  // the run it was in at the first look
  };
  std::vector<look> looked;
  for (const auto& w : workers_)
    if (w->busy.load(std::memory_order_relaxed))
      looked.push_back({w.get(), w->runs.load(std::memory_order_relaxed)});
  lock.unlock();
  const auto on_cpu = [](const look& l) {
    const bool on = detail::os_thread_on_cpu(l.w->os_id);
    if (on) l.w->lock_wait_seen = false;
    return on;
  };
  // At the second look, a worker that has finished the run it was in since the first has
  // not been blocked all along (it may be asleep now for want of work).
  const auto not_blocked = [](const look& l) {
    worker& w = *l.w;
    const auto run = w.runs.load(std::memory_order_relaxed);
    if (run != l.run || !w.busy.load(std::memory_order_relaxed)) return true;
    const auto state = detail::os_thread_now(w.os_id);
    if (state != detail::os_thread_state::waiting_for_lock) {
      w.lock_wait_seen = false;
      return state == detail::os_thread_state::running;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!w.lock_wait_seen || w.lock_wait_run != run) {
      w.lock_wait_seen = true;
      w.lock_wait_run = run;
      w.lock_wait_since = now;
    }
    return now - w.lock_wait_since < lock_patience;
  };
  std::erase_if(looked, on_cpu);
  if (!looked.empty()) {
    std::this_thread::sleep_for(stall_interval);
    std::erase_if(looked, not_blocked);
  }
  lock.lock();
  return looked.size();
}

// Whether idle threads may stay asleep beside the queued work: when every queued entry
// is the work of a caller that runs it too (a plain call), the helping callers and the
// busy threads are a core's worth, and the sentinel watches them from now on (where it
// can: Linux). No when no queued unit is wanted and no hold is on (stale entries go back
// through a woken thread). The helpers and a core's worth of busy threads must also be
// computing: work that blocks at once gets its threads at the hold's first look, even
// when other processes keep every core busy. Their CPU clocks say so, compared with the
// previous look of this call (a look that does not `decide` only reads them); a runner
// whose clock barely moved, or that has no earlier reading, is looked up in /proc (it may
// be waiting for a core). Later, the sentinel sees a free core within a tenth of a
// millisecond, or a blocked thread at its slivers of CPU. Under mutex_, released while it
// reads the clocks.
inline bool thread_pool::hold_for_helpers(std::unique_lock<std::mutex>& lock, bool decide) {
  for (std::size_t i = 0; i < queue_.size(); ++i)
    if (!helpers_.helps(queue_[i].item.context)) return false;
  // Every callable is taken: the callers take their entries back as they finish.
  if (wanted_items(1) == 0) return watching_;
  std::vector<int> runners;
  helpers_.os_ids(runners);
  const std::size_t helping = runners.size();
  for (const auto& w : workers_)
    if (w->busy.load(std::memory_order_relaxed)) runners.push_back(w->os_id);
  if (runners.size() < wake_cap_ || runners.size() > detail::cpu_census::capacity) return false;
  lock.unlock();
  if (census_.age() > census_window) census_.forget();  // from an earlier call: no use
  std::array<detail::cpu_census::verdict, detail::cpu_census::capacity> did{};
  census_.look(runners.data(), runners.size(), did.data());
  const auto computing = [&](std::size_t i) {
    return detail::cpu_census::computing(did[i], runners[i]);
  };
  std::uint64_t watch = 0;
  if (decide) {
    bool hold = true;
    for (std::size_t i = 0; i < helping && hold; ++i) hold = computing(i);
    // The computing runners move to the front: the helpers, then busy threads as found.
    std::size_t on_cpu = helping;
    std::size_t off_cpu = 0;
    for (std::size_t i = helping; hold && i < runners.size(); ++i) {
      if (on_cpu >= wake_cap_ || off_cpu >= wake_cap_) break;
      if (computing(i))
        runners[on_cpu++] = runners[i];
      else
        ++off_cpu;
    }
    if (hold && on_cpu >= wake_cap_) watch = sentinel_.watch(runners.data(), on_cpu);
  }
  lock.lock();
  if (!decide) return false;
  watch_ = watch;
  watching_ = watch != 0;
  return watching_;
}

// The supervisor's: the sentinel has nothing to watch. Under mutex_.
inline void thread_pool::stop_watching() noexcept {
  sentinel_.unwatch();
  watching_ = false;
}

// The sentinel's test, lock-free: queued entries (stale ones too, a rare false alarm).
inline bool thread_pool::has_queued_work(const void* pool) noexcept {
  return static_cast<const thread_pool*>(pool)->spin_line_.queued.load(std::memory_order_relaxed) !=
         0;
}

// Called by the sentinel's thread: a core is free beside queued work, or a watched runner
// is off the CPU.
inline void thread_pool::on_idle_core(void* pool, std::uint64_t watch) noexcept {
  auto& self = *static_cast<thread_pool*>(pool);
  self.look_now_.store(watch, std::memory_order_release);
  self.supervisor_cv_.notify_one();
}

// Starts `threads` threads; false when the OS refused one.
inline bool thread_pool::spawn(std::size_t threads) noexcept {
  for (std::size_t k = 0; k < threads; ++k) {
    try {
      spawn_one();
    } catch (...) {
      return false;
    }
  }
  return true;
}

// Joins the workers that retired after their idle timeout.
inline void thread_pool::reap(std::unique_lock<std::mutex>& lock) {
  std::vector<std::unique_ptr<worker>> done;
  for (auto& w : workers_)
    if (w->finished) done.push_back(std::move(w));
  if (done.empty()) return;
  std::erase(workers_, nullptr);
  lock.unlock();
  for (auto& w : done) w->thread.join();
  lock.lock();
}

}  // namespace settle
