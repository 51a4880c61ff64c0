/// @file thread_pool.hpp
/// `thread_pool`: settle's executor, fixed-size or elastic, and `default_executor()`.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "settle/detail/ring_queue.hpp"
#include "settle/settled.hpp"

namespace settle {

/// Sizing of an elastic `thread_pool`.
struct pool_options {
  /// Threads kept alive even when idle.
  std::size_t min_threads = std::thread::hardware_concurrency();
  /// The most threads the pool ever runs at once.
  std::size_t max_threads = 256;
  /// Threads above `min_threads` exit after being idle this long.
  std::chrono::milliseconds idle_timeout{30'000};
};

class thread_pool;

namespace detail {

/// Queued work: a plain function pointer and its context, offered to `units` threads.
/// Keeping the queue free of owning objects lets a combinator offer a whole group with
/// one entry and no allocation per task: each thread that takes a unit runs the group's
/// tasks until none is left unclaimed.
struct work_item {
  // Runs with `units` units of this entry handed over: one when a thread takes a unit
  // to work with, all that are left when the entry is dropped as stale (or drained at
  // shutdown). It must give back exactly that many.
  void (*run)(void* context, std::size_t units) noexcept;
  void* context;
  // How many more threads the entry could still keep busy. A combinator's waiting
  // caller runs its own tasks, so entries go stale; the pool must not grow for them,
  // and drops them whole. Null means every unit is wanted.
  std::size_t (*demand)(void* context) noexcept = nullptr;
};

/// The combinators' door into a pool: batch submission, not part of the public API.
struct pool_access {
  static void enqueue_batch(thread_pool& pool, work_item item, std::size_t units);
  // Takes back the units of `context`'s entry that no thread has taken (its caller ran
  // the rest itself): the number of units, 0 when the entry is gone already.
  static std::size_t withdraw(thread_pool& pool, const void* context) noexcept;
};

}  // namespace detail

/// A pool of worker threads; satisfies `settle::executor`.
///
/// Fixed (`thread_pool(n)`): exactly `n` threads for its whole life.
/// Elastic (`thread_pool(pool_options)`): keeps `min_threads`, and grows towards
/// `max_threads` only when queued work stops draining for a quarter millisecond because its
/// threads are blocked (on Linux the kernel says which are; elsewhere a stalled queue is
/// taken to mean blocked). A burst of short tasks is served by the threads already there.
/// Extra threads exit after `idle_timeout` without work.
///
/// After its work, one thread at a time stays awake (yielding the core) until nothing has
/// been submitted for 50 µs, so that a submission in the meantime needs no wake-up; an
/// idle pool uses no CPU beyond that.
///
/// Thread safety: every member may be called from any thread, including from tasks
/// running on this pool. Destruction runs every queued task (also those that tasks queue
/// while the pool drains) and then joins; `execute` after the drain has finished throws
/// `std::runtime_error`. Destroying a pool from one of its own tasks is not allowed.
class thread_pool {
 public:
  /// A fixed pool of `threads` threads. Throws `std::invalid_argument` when `threads` is 0.
  explicit thread_pool(std::size_t threads) {
    if (threads == 0)
      throw std::invalid_argument("settle::thread_pool: a fixed pool needs at least one thread");
    start(threads, threads, std::chrono::milliseconds{0});
  }

  /// An elastic pool. Throws `std::invalid_argument` when `min_threads > max_threads` or
  /// `max_threads == 0`.
  explicit thread_pool(pool_options opts) {
    if (opts.max_threads == 0)
      throw std::invalid_argument("settle::thread_pool: max_threads must be at least 1");
    if (opts.min_threads > opts.max_threads)
      throw std::invalid_argument("settle::thread_pool: min_threads must not exceed max_threads");
    start(opts.min_threads, opts.max_threads, opts.idle_timeout);
  }

  /// An elastic pool with `pool_options{}`.
  thread_pool() : thread_pool(pool_options{}) {}

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Runs every queued task, then joins all threads.
  ~thread_pool() { stop_and_join(); }

  /// Queues `f` to run once on a pool thread (fire and forget). An exception escaping `f`
  /// is caught and reported on stderr; it never terminates the process.
  /// Throws `std::runtime_error` once the pool has finished draining in its destructor.
  template <class F>
    requires std::invocable<std::decay_t<F>> && std::constructible_from<std::decay_t<F>, F>
  void execute(F&& f) {
    using fn_type = std::decay_t<F>;
    auto fn = std::make_unique<fn_type>(std::forward<F>(f));
    push(detail::work_item{&run_owned<fn_type>, fn.get()}, 1);
    fn.release();  // the queue owns it now; run_owned deletes it
  }

  /// Queues `f` and returns a future of its result (or of the exception it throws).
  template <class F>
    requires std::invocable<std::decay_t<F>&> && std::constructible_from<std::decay_t<F>, F>
  [[nodiscard]] auto submit(F&& f) -> std::future<std::invoke_result_t<F>> {
    std::packaged_task<std::invoke_result_t<F>()> job(std::forward<F>(f));
    auto result = job.get_future();
    execute(std::move(job));
    return result;
  }

  /// The number of threads alive now.
  [[nodiscard]] std::size_t thread_count() const noexcept {
    std::lock_guard lock(mutex_);
    return live_;
  }

 private:
  friend struct detail::pool_access;

  struct worker {
    std::thread thread;
    int os_id = 0;  // kernel thread id where the OS tells it (Linux), else 0
    // Inside an item's run. Cleared before re-locking mutex_: a worker waiting for the
    // pool's own lock (its holder preempted on a crowded machine) is not a blocked task.
    // Relaxed everywhere: it is a hint for growth, and a stale read only shifts one
    // growth decision by a stall interval.
    std::atomic<bool> busy{false};
    bool finished = false;  // set by the worker itself when it retires (under mutex_)
  };

  template <class F>
  static void run_owned(void* context, std::size_t) noexcept {
    std::unique_ptr<F> fn(static_cast<F*>(context));
    try {
      std::invoke(std::move(*fn));
    } catch (...) {
      report_escaped(std::current_exception());
    }
  }

  static void report_escaped(const std::exception_ptr& e) noexcept {
    const std::string what = describe(e);
    std::fprintf(stderr, "settle::thread_pool: a task threw and nobody caught it: %s\n",
                 what.c_str());
  }

  void start(std::size_t min_threads, std::size_t max_threads,
             std::chrono::milliseconds idle_timeout) {
    min_ = min_threads;
    max_ = max_threads;
    if (max_ > min_) wake_cap_ = std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
    idle_timeout_ = idle_timeout;
    try {
      for (std::size_t i = 0; i < min_; ++i) spawn_one();
      if (max_ > min_) supervisor_ = std::thread([this] { supervise(); });
    } catch (...) {
      stop_and_join();
      throw;
    }
  }

  // Called before any other thread could reap workers (constructor) or by the
  // supervisor, the only thread that reaps: so `w->thread` is assigned before anyone
  // else may join it.
  void spawn_one() {
    worker* w = nullptr;
    {
      std::lock_guard lock(mutex_);
      workers_.push_back(std::make_unique<worker>());
      w = workers_.back().get();
      ++live_;
    }
    try {
      w->thread = std::thread([this, w] { work(w); });
    } catch (...) {
      std::lock_guard lock(mutex_);
      --live_;
      std::erase_if(workers_, [w](const auto& p) { return p.get() == w; });
      throw;
    }
  }

  struct entry {
    detail::work_item item;
    std::size_t units;
  };

  void push(detail::work_item item, std::size_t units) {
    std::size_t wake = 0;
    bool wake_supervisor = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) throw std::runtime_error("settle::thread_pool: the pool has shut down");
      queue_.push_back(entry{item, units});
      spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
      // Written only under mutex_: a load and a store, no read-modify-write.
      spin_line_.pushes.store(spin_line_.pushes.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
      // A spinning thread will take the entry and wake whoever else it needs (see
      // `work`): the submitter pays for no wake-up. Otherwise idle threads already
      // woken for earlier units are not counted twice: one notification per unit, or
      // a unit could sit behind a blocking one.
      if (spinning_ == 0) wake = std::min({units, idle_ - wakeups_, wake_cap_});
      wakeups_ += wake;
      // Nobody idle to take the new work: the supervisor decides whether the pool
      // must grow (it only does when the queue stops draining). With a thread
      // spinning, that thread asks when it takes the entry.
      wake_supervisor =
          spinning_ == 0 && wake < units && supervisor_.joinable() && supervisor_dormant_;
    }
    for (std::size_t k = 0; k < wake; ++k) work_cv_.notify_one();
    if (wake_supervisor) supervisor_cv_.notify_one();
  }

  // Takes one unit of the front entry, or the whole entry when it is stale. Under mutex_.
  std::pair<detail::work_item, std::size_t> pop_front() {
    entry& front = queue_.front();
    const detail::work_item item = front.item;
    if (front.units > 1 && (item.demand == nullptr || item.demand(item.context) > 0)) {
      --front.units;
      return {item, 1};
    }
    const std::size_t units = front.units;
    queue_.pop_front();
    spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
    return {item, units};
  }

  std::size_t withdraw(const void* context) noexcept {
    std::lock_guard lock(mutex_);
    // The entry was pushed by this caller a moment ago: it is near the back, if there.
    const std::size_t n = queue_.size();
    for (std::size_t back = 1; back <= n && back <= withdraw_depth; ++back) {
      if (queue_[n - back].item.context != context) continue;
      const std::size_t units = queue_[n - back].units;
      queue_.erase(n - back);
      spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
      return units;
    }
    return 0;
  }

  struct wake_plan {
    std::size_t threads = 0;  // sleeping threads to notify
    bool supervisor = false;  // wanted units are left over: the supervisor must look
  };

  // Whom to wake for the queued work a thread leaves behind when it takes a unit: as
  // many sleeping threads as the work could use, within the pool's wake-up cap, and the
  // (dormant) supervisor when even more is wanted. One scan of the queue for both.
  // Under mutex_; the caller notifies after unlocking.
  wake_plan wake_for_rest() noexcept {
    const std::size_t sleeping = idle_ - wakeups_;
    const std::size_t active = busy_ + wakeups_ + spinning_;
    const std::size_t room = wake_cap_ > active ? wake_cap_ - active : 0;
    const std::size_t limit = std::min(sleeping, room);
    const bool ask_supervisor = supervisor_dormant_ && supervisor_.joinable();
    if (queue_.empty() || (limit == 0 && !ask_supervisor)) return {};
    const std::size_t wanted = wanted_items(ask_supervisor ? limit + 1 : limit);
    wake_plan plan{std::min(wanted, limit), false};
    plan.supervisor = ask_supervisor && wanted > plan.threads;
    wakeups_ += plan.threads;
    return plan;
  }

  // The spin of a thread that just ran out of work, before it sleeps. Returns when work
  // has been queued for `spin_grace` (the submitter of a small group has usually run
  // it all by then, and taken its entry back), or when nothing was pushed for
  // `spin_budget`. It reads two atomics on a cache line of their own, and no more often
  // than every `spin_poll`: each read takes the line from the submitter's core, which
  // then pays a cache miss on its next push.
  void spin() const noexcept {
    using clock = std::chrono::steady_clock;
    std::uint64_t last_push = spin_line_.pushes.load(std::memory_order_relaxed);
    auto quiet_since = clock::now();
    auto queued_since = clock::time_point::max();
    auto polled = quiet_since;
    for (;;) {
      std::this_thread::yield();  // a crowded core runs someone else meanwhile
      const auto now = clock::now();
      if (now - polled < spin_poll) continue;
      polled = now;
      if (spin_line_.queued.load(std::memory_order_relaxed) == 0) {
        queued_since = clock::time_point::max();
      } else if (queued_since == clock::time_point::max()) {
        queued_since = now;
      } else if (now - queued_since >= spin_grace) {
        return;
      }
      const std::uint64_t pushes = spin_line_.pushes.load(std::memory_order_relaxed);
      if (pushes != last_push) {
        last_push = pushes;
        quiet_since = now;
      } else if (now - quiet_since >= spin_budget) {
        return;
      }
    }
  }

  void work(worker* self) {
    const int os_id = max_ > min_ ? current_os_thread_id() : 0;  // only growth needs it
    std::unique_lock lock(mutex_);
    self->os_id = os_id;
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
        spin();
        lock.lock();
        --spinning_;
        may_spin = false;
        continue;
      }
      ++idle_;
      bool timed_out = false;
      if (live_ > min_ && !stopping_) {
        timed_out = work_cv_.wait_for(lock, idle_timeout_) == std::cv_status::timeout;
      } else {
        work_cv_.wait(lock);
      }
      --idle_;
      if (wakeups_ > 0) --wakeups_;  // this thread is awake now, whoever's wake-up it was
      if (timed_out && queue_.empty() && !stopping_ && live_ > min_) {
        --live_;
        self->finished = true;
        return;
      }
    }
  }

  void supervise() {
    using namespace std::chrono_literals;
    std::unique_lock lock(mutex_);
    std::chrono::microseconds patience = stall_interval;
    while (!stopping_) {
      reap(lock);
      if (queue_.empty() || (live_ >= max_ && idle_ <= wakeups_)) {
        supervisor_dormant_ = true;
        if (live_ > min_)
          supervisor_cv_.wait_for(lock, idle_timeout_ + 1ms);  // wake to join retirees
        else
          supervisor_cv_.wait(lock);
        supervisor_dormant_ = false;
        continue;
      }
      if (live_ > 0) {
        // Work is queued. Give the running threads a moment: if they take nothing
        // from the queue meanwhile (and no woken thread is still on its way), they are
        // blocked or on long work, and the queued tasks would wait for them.
        const std::size_t before = pops_;
        supervisor_cv_.wait_for(lock, patience);
        if (stopping_ || queue_.empty() || pops_ != before || wakeups_ > 0) {
          patience = stall_interval;
          continue;
        }
      }
      std::size_t grow = wanted_items(max_);
      // Only stale items left: one thread gives their references back.
      if (grow == 0) grow = 1;
      if (busy_ > 0) {
        // A stalled queue means blocked threads, or merely busy ones on a crowded
        // machine. Where the OS says which (Linux), grow only for blocked threads:
        // threads that compute would just share the same cores with new ones.
        std::vector<int> ids;
        for (const auto& w : workers_)
          if (w->busy.load(std::memory_order_relaxed)) ids.push_back(w->os_id);
        lock.unlock();
        std::size_t running = 0;
        for (int id : ids) running += is_running(id) ? 1 : 0;
        lock.lock();
        const std::size_t blocked = ids.size() - running;
        // Some compute: replace only the blocked ones.
        if (running != 0) grow = std::min(grow, blocked);
        if (grow == 0 || stopping_) {
          // Threads computing: look again, but less and less often, so that a long
          // CPU-bound phase is not slowed by the watching itself.
          patience = std::min(patience * 2, max_patience);
          continue;
        }
      }
      patience = stall_interval;
      // Idle threads first (an elastic pool wakes only a core's worth at a time),
      // then new ones.
      const std::size_t wake = std::min(grow, idle_ - wakeups_);
      wakeups_ += wake;
      grow = std::min(grow - wake, max_ - live_);
      lock.unlock();
      for (std::size_t k = 0; k < wake; ++k) work_cv_.notify_one();
      for (std::size_t k = 0; k < grow; ++k) {
        try {
          spawn_one();
        } catch (...) {
          break;  // out of threads: the existing ones still drain the queue
        }
      }
      lock.lock();
    }
  }

  // The kernel id of the calling thread, read from /proc on Linux; 0 elsewhere.
  static int current_os_thread_id() noexcept {
    try {
      std::ifstream stat("/proc/thread-self/stat");
      int id = 0;
      if (stat >> id) return id;
    } catch (...) {
    }
    return 0;
  }

  // Whether a thread is on a CPU or waiting for one ('R' in /proc), as opposed to
  // blocked. Unknown (not Linux, id 0) counts as blocked, so growth falls back to the
  // stalled-queue test alone.
  static bool is_running(int os_id) noexcept {
    if (os_id == 0) return false;
    try {
      std::ifstream stat("/proc/self/task/" + std::to_string(os_id) + "/stat");
      std::string line;
      if (!std::getline(stat, line)) return false;
      const auto close = line.rfind(')');  // the command name may contain anything
      return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'R';
    } catch (...) {
      return false;
    }
  }

  // How many queued units would still do work, counting no further than `limit`.
  [[nodiscard]] std::size_t wanted_items(std::size_t limit) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < queue_.size() && n < limit; ++i) {
      const entry& e = queue_[i];
      n += e.item.demand == nullptr ? e.units : std::min(e.units, e.item.demand(e.item.context));
    }
    return std::min(n, limit);
  }

  // Joins the workers that retired after their idle timeout.
  void reap(std::unique_lock<std::mutex>& lock) {
    std::vector<std::unique_ptr<worker>> done;
    for (auto& w : workers_)
      if (w->finished) done.push_back(std::move(w));
    if (done.empty()) return;
    std::erase(workers_, nullptr);
    lock.unlock();
    for (auto& w : done) w->thread.join();
    lock.lock();
  }

  void stop_and_join() noexcept {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    supervisor_cv_.notify_all();
    if (supervisor_.joinable()) supervisor_.join();
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

  static constexpr std::chrono::microseconds stall_interval{250};
  static constexpr std::chrono::microseconds spin_grace{2};
  static constexpr std::chrono::nanoseconds spin_poll{500};
  static constexpr std::chrono::microseconds spin_budget{50};
  static constexpr std::size_t withdraw_depth = 8;
  static constexpr std::chrono::microseconds max_patience{8000};

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable supervisor_cv_;
  detail::ring_queue<entry> queue_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::thread supervisor_;
  std::size_t min_ = 0;
  std::size_t max_ = 0;
  std::chrono::milliseconds idle_timeout_{0};
  std::size_t live_ = 0;     // threads started and not retired
  std::size_t idle_ = 0;     // threads waiting for work
  std::size_t wakeups_ = 0;  // notifications sent to idle threads and not yet taken
  // How many idle threads one enqueue may wake. Elastic pools wake a core's worth and
  // leave the rest to the supervisor, which wakes more only for blocked threads:
  // otherwise CPU-bound work would wake every idle thread a blocking burst left behind.
  std::size_t wake_cap_ = static_cast<std::size_t>(-1);
  std::size_t busy_ = 0;   // threads running an item
  std::size_t pops_ = 0;   // items taken so far: the supervisor's measure of progress
  bool stopping_ = false;  // destructor started: drain, then exit
  bool closed_ = false;    // drained: execute refuses
  bool supervisor_dormant_ = false;
  std::size_t spinning_ = 0;  // threads spinning before they sleep (at most one)
  // Read by the spinning thread without the lock; written under it. A cache line of
  // their own, so that the spinner's reads disturb nothing else.
  struct alignas(64) spin_line {
    std::atomic<std::size_t> queued{0};  // entries in queue_
    std::atomic<std::uint64_t> pushes{0};
  };
  spin_line spin_line_;
};

inline void detail::pool_access::enqueue_batch(thread_pool& pool, work_item item,
                                               std::size_t units) {
  pool.push(item, units);
}

inline std::size_t detail::pool_access::withdraw(thread_pool& pool, const void* context) noexcept {
  return pool.withdraw(context);
}

/// The process-wide elastic pool (`pool_options{}`), created on first use.
/// It is never destroyed, so it stays usable from static destructors of other objects;
/// its idle threads are simply ended with the process.
[[nodiscard]] inline thread_pool& default_executor() {
  static thread_pool* const pool = new thread_pool(pool_options{});
  return *pool;
}

}  // namespace settle
