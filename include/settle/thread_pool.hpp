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

#include "settle/detail/cpu_census.hpp"
#include "settle/detail/idle_sentinel.hpp"
#include "settle/detail/pool_helpers.hpp"
#include "settle/detail/ring_queue.hpp"
#include "settle/detail/spinner.hpp"
#include "settle/detail/work_item.hpp"
#include "settle/settled.hpp"

namespace settle {

/// Sizing of an elastic `thread_pool`. The defaults are valid on every machine: a core's
/// worth of threads kept, growth up to 256 threads for blocking work (or to the number
/// of hardware threads, on a machine with more than 256), 30 s before an extra thread exits.
struct pool_options {
  /// Threads kept alive even when idle.
  std::size_t min_threads = std::thread::hardware_concurrency();
  /// The most threads the pool ever runs at once.
  std::size_t max_threads = std::max<std::size_t>(256, std::thread::hardware_concurrency());
  /// Threads above `min_threads` exit after being idle this long (a negative duration
  /// counts as zero; one of a century or more means never).
  std::chrono::milliseconds idle_timeout{30'000};
};

class thread_pool;

/// A pool of worker threads; satisfies `settle::executor`.
///
/// Fixed (`thread_pool(n)`): exactly `n` threads for its whole life.
/// Elastic (`thread_pool(pool_options)`): keeps `min_threads`, and grows towards
/// `max_threads` only when queued work stops draining for a quarter millisecond because its
/// threads are blocked (on Linux the kernel says which are; elsewhere a stalled queue is
/// taken to mean blocked). A burst of short tasks is served by the threads already there:
/// an enqueue wakes at most a core's worth of idle threads, and idle threads beyond those
/// are woken once the queue has stalled that quarter millisecond. A plain call's caller
/// runs its own tasks too, so on Linux it counts as one of that core's worth: while it
/// and the busy threads keep every core computing, idle threads stay asleep beside its
/// queued tasks, and one is woken as soon as a core falls idle (for at most 100 ms
/// without progress; see detail/idle_sentinel.hpp). If the OS refuses a new thread, the
/// work stays queued for the threads there are, and growth is retried with back-off.
/// Extra threads exit after `idle_timeout` without work.
///
/// A class derived from `thread_pool` is a `thread_pool` to the combinators: they queue
/// on it directly (not through a hiding `execute`) and help it as described there.
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
    std::atomic<std::uint64_t> runs{0};  // items run so far (relaxed: a hint, like `busy`)
    bool finished = false;               // set by the worker itself when it retires (under mutex_)
    // The supervisor's own: since when, and in which run, it has seen this worker wait
    // for a lock at every look.
    bool lock_wait_seen = false;
    std::uint64_t lock_wait_run = 0;
    std::chrono::steady_clock::time_point lock_wait_since{};
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
    using namespace std::chrono_literals;
    min_ = min_threads;
    max_ = max_threads;
    elastic_ = max_ > min_;
    if (elastic_) wake_cap_ = std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
    // Saturate: a timeout too long to add to a clock reading means "never retire".
    retires_ = idle_timeout < std::chrono::hours(24 * 365 * 100);
    idle_timeout_ = retires_ ? std::max(idle_timeout, 0ms) : 0ms;
    try {
      for (std::size_t i = 0; i < min_; ++i) spawn_one();
      if (elastic_) supervisor_ = std::thread([this] { supervise(); });
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
      ++starting_;
    }
    try {
      w->thread = std::thread([this, w] { work(w); });
    } catch (...) {
      std::lock_guard lock(mutex_);
      --live_;
      --starting_;
      std::erase_if(workers_, [w](const auto& p) { return p.get() == w; });
      throw;
    }
  }

  struct entry {
    detail::work_item item;
    std::size_t units;
  };

  // `helped`: the calling thread will run the entry's units itself too (a plain call).
  void push(detail::work_item item, std::size_t units, bool helped = false) {
    std::size_t wake = 0;
    bool wake_supervisor = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) throw std::runtime_error("settle::thread_pool: the pool has shut down");
      queue_.push_back(entry{item, units});
      // A helping caller of an elastic pool is one of the runners (detail/pool_helpers.hpp):
      // it takes a unit's worth itself. A worker of this pool is counted as busy already.
      const std::size_t own = helped && elastic_ && detail::worker_of_pool != this &&
                                      helpers_.add(item.context, detail::this_thread_os_id())
                                  ? 1
                                  : 0;
      spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
      // Written only under mutex_: a load and a store, no read-modify-write.
      spin_line_.pushes.store(spin_line_.pushes.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
      // A spinning thread will take the entry and wake whoever else it needs (see
      // `work`): the submitter pays for no wake-up. Otherwise idle threads already
      // woken for earlier units are not counted twice: one notification per unit, or
      // a unit could sit behind a blocking one.
      if (spinning_ == 0) wake = std::min({units - own, idle_ - wakeups_, room_for_threads()});
      wakeups_ += wake;
      // Nobody idle to take the new work: the supervisor decides whether the pool
      // must grow (it only does when the queue stops draining). With a thread
      // spinning, that thread asks when it takes the entry.
      wake_supervisor = spinning_ == 0 && wake + own < units && elastic_ && supervisor_dormant_;
      // New work during a hold: the supervisor starts its looks afresh, as for a first
      // call (the hold's threads may have changed, or the work be another's).
      if (watching_) {
        recheck_ = true;
        wake_supervisor = true;
      }
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
    std::size_t units = 0;
    bool end_hold = false;
    {
      std::lock_guard lock(mutex_);
      helpers_.remove(context);  // its caller has finished helping
      // The hold's callers are gone: the supervisor ends it now, not at its next look.
      end_hold = watching_ && helpers_.empty();
      if (end_hold) recheck_ = true;
      // The entry was pushed by this caller a moment ago: it is near the back, if there.
      const std::size_t n = queue_.size();
      for (std::size_t back = 1; back <= n && back <= withdraw_depth; ++back) {
        if (queue_[n - back].item.context != context) continue;
        units = queue_[n - back].units;
        queue_.erase(n - back);
        spin_line_.queued.store(queue_.size(), std::memory_order_relaxed);
        break;
      }
    }
    if (end_hold) supervisor_cv_.notify_one();
    return units;
  }

  struct wake_plan {
    std::size_t threads = 0;  // sleeping threads to notify
    bool supervisor = false;  // wanted units are left over: the supervisor must look
  };

  // Whom to wake for the queued work a thread leaves behind when it takes a unit, and
  // how many threads one wake-up may bring to work (detail/pool_worker.hpp).
  wake_plan wake_for_rest() noexcept;
  [[nodiscard]] std::size_t room_for_threads() const noexcept;

  // A worker's life (detail/pool_worker.hpp): take work, spin a moment, sleep, retire.
  void work(worker* self);
  // Drains the queue (every queued item runs), then joins every thread.
  void stop_and_join() noexcept;

  // The supervisor of an elastic pool (detail/pool_supervisor.hpp): wakes idle threads
  // and starts new ones when the queue stalls, and joins retired threads.
  void supervise();
  [[nodiscard]] std::size_t blocked_of_busy(std::unique_lock<std::mutex>& lock);
  [[nodiscard]] bool hold_for_helpers(std::unique_lock<std::mutex>& lock, bool decide = true);
  void stop_watching() noexcept;
  static void on_idle_core(void* pool, std::uint64_t watch) noexcept;
  static bool has_queued_work(const void* pool) noexcept;
  [[nodiscard]] bool spawn(std::size_t threads) noexcept;
  void reap(std::unique_lock<std::mutex>& lock);

  // How many queued units would still do work, counting no further than `limit`.
  [[nodiscard]] std::size_t wanted_items(std::size_t limit) const noexcept;

  static constexpr std::chrono::microseconds stall_interval{250};
  static constexpr std::size_t withdraw_depth = 8;
  static constexpr std::chrono::microseconds max_patience{8000};
  // How long a worker must wait for a lock within one run before it counts as blocked.
  static constexpr std::chrono::milliseconds lock_patience{4};
  static constexpr std::chrono::milliseconds max_spawn_backoff{1000};
  // How long idle threads may stay asleep beside helped work that fills the cores and
  // does not move: a bound, so that tasks spinning until a sibling runs still get it run.
  static constexpr std::chrono::milliseconds hold_back_limit{100};
  // Between the supervisor's looks during a hold: what a task that blocks while other
  // processes keep every core busy may wait (the sentinel sees it sooner on a free core).
  static constexpr std::chrono::milliseconds hold_look{16};
  // How old the runners' clocks (from this call's looks) may be to compare with.
  static constexpr std::chrono::milliseconds census_window{2 * hold_look};
  std::chrono::milliseconds spawn_backoff_{0};  // after a failed thread start (supervisor's)

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable supervisor_cv_;
  detail::ring_queue<entry> queue_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::thread supervisor_;
  std::size_t min_ = 0;
  std::size_t max_ = 0;
  bool elastic_ = false;  // may grow: has a supervisor (set once, before any thread starts)
  bool retires_ = true;   // threads above min_ exit after idle_timeout_
  std::chrono::milliseconds idle_timeout_{0};
  std::size_t live_ = 0;      // threads started and not retired
  std::size_t starting_ = 0;  // threads spawned that have not yet looked at the queue
  std::size_t idle_ = 0;      // threads waiting for work
  std::size_t wakeups_ = 0;   // notifications sent to idle threads and not yet taken
  // How many idle threads one enqueue may wake. Elastic pools wake a core's worth and
  // leave the rest to the supervisor, which wakes more once the queue stalls: so a burst
  // of short CPU-bound work does not wake every idle thread a blocking burst left behind.
  std::size_t wake_cap_ = static_cast<std::size_t>(-1);
  std::size_t busy_ = 0;   // threads running an item
  std::size_t pops_ = 0;   // items taken so far: the supervisor's measure of progress
  bool stopping_ = false;  // destructor started: drain, then exit
  bool closed_ = false;    // drained: execute refuses
  bool supervisor_dormant_ = false;
  std::size_t spinning_ = 0;      // threads spinning before they sleep (at most one)
  detail::pool_helpers helpers_;  // callers running their own entries' units (elastic pools)
  // Set by the sentinel to the watch it speaks for (a core free beside queued work, or a
  // watched runner off its core): the supervisor ends the hold and wakes threads now.
  std::atomic<std::uint64_t> look_now_{0};
  std::uint64_t watch_ = 0;      // the sentinel's current watch (the supervisor's)
  bool watching_ = false;        // the supervisor holds idle threads back, the sentinel watching
  detail::cpu_census census_;    // the runners' clocks at the last look (the supervisor's)
  bool recheck_ = false;         // a call began or ended during the hold: look afresh
  detail::spin_line spin_line_;  // read by the spinning thread without the lock
  // Last: it reads the members above from its own thread until stop_and_join ends it.
  detail::idle_sentinel sentinel_{&on_idle_core, &has_queued_work, this};
};

// The combinators' access to the queue (declared in detail/): not part of the API reference.
/// @cond SETTLE_DETAIL
inline void detail::pool_access::enqueue_batch(thread_pool& pool, work_item item, std::size_t units,
                                               bool helped) {
  pool.push(item, units, helped);
}

inline std::size_t detail::pool_access::withdraw(thread_pool& pool, const void* context) noexcept {
  return pool.withdraw(context);
}
/// @endcond

}  // namespace settle

#include "settle/detail/pool_supervisor.hpp"
#include "settle/detail/pool_worker.hpp"

namespace settle {

/// The process-wide elastic pool (`pool_options{}`), created on first use.
/// It is never destroyed, so it stays usable from static destructors of other objects;
/// its idle threads are simply ended with the process.
[[nodiscard]] inline thread_pool& default_executor() {
  static thread_pool* const pool = new thread_pool(pool_options{});
  return *pool;
}

}  // namespace settle
