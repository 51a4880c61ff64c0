/// @file detail/idle_sentinel.hpp
/// A thread at the operating system's idle priority that notices a free core while some
/// threads are meant to keep every core busy. An elastic `thread_pool` leaves idle threads
/// asleep while a plain call's caller and its busy threads fill the cores with computing
/// tasks; it must learn quickly when one of them stops computing (a task blocks), but
/// looking often costs the very cores it watches. A thread of the idle class (Linux's
/// SCHED_IDLE) runs only when a core has nothing else to run: a free core is what wakes
/// it, and while the watched threads compute it does not take their cores (the kernel
/// gives it a sliver now and then, a few microseconds each time).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "settle/detail/cpu_census.hpp"
#include "settle/detail/os_thread.hpp"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace settle::detail {

/// Watches, from a thread of the idle class, for work that waits while a core could run
/// it, and then calls `fire(context, watch)` there (again every couple of periods until the
/// watch changes): when a core has stayed free for two periods while `wanted(context)`,
/// or when, at a sliver of CPU while all cores are busy, one of the watched threads
/// (kernel ids) is off the CPU. Its thread starts with the first watch. `watch`,
/// `unwatch` and `stop` are called by one thread at a time (the pool's supervisor, then
/// its destructor); `fire` and `wanted` must not block nor take a lock that busy threads
/// take: the sentinel may be preempted at any moment, for as long as the cores are busy.
class idle_sentinel {
 public:
  /// `fire(context, watch)`: `watch` is what `watch()` returned for the watch that fired
  /// (a word may arrive after its watch has ended: the receiver compares).
  using callback = void (*)(void*, std::uint64_t) noexcept;
  using predicate = bool (*)(const void*) noexcept;
  static constexpr std::size_t max_watched = 64;
  static constexpr std::chrono::microseconds period{50};
  static constexpr std::chrono::milliseconds sliver_look_interval{2};

  /// `wanted(context)`: whether work waits that a free core could run (cheap, lock-free).
  idle_sentinel(callback fire, predicate wanted, void* context) noexcept
      : fire_(fire), wanted_(wanted), context_(context) {}
  idle_sentinel(const idle_sentinel&) = delete;
  idle_sentinel& operator=(const idle_sentinel&) = delete;
  ~idle_sentinel() { stop(); }

  /// Watches `ids` (each a kernel thread id) from now on, in place of any earlier watch,
  /// and returns the watch's name (never 0), which `fire` passes back. 0 when nobody
  /// watches: not Linux, more than `max_watched` threads, or the thread or its idle
  /// priority refused (then the caller must look by itself, as before).
  /// Watching the same threads again keeps the watch, and what its slivers saw.
  [[nodiscard]] std::uint64_t watch(const int* ids, std::size_t n) noexcept {
    if (n == 0 || n > max_watched || !started()) return 0;
    if (const std::uint64_t now = state_.load(std::memory_order_relaxed); (now & 1) != 0) {
      // The ids are written by the caller alone: its own relaxed reads see them.
      bool same = count_.load(std::memory_order_relaxed) == n;
      for (std::size_t i = 0; i < n && same; ++i)
        same = ids_[i].load(std::memory_order_relaxed) == ids[i];
      if (same) return now;
    }
    // A sequence lock: the sentinel copies the ids only between two equal, odd states.
    // Release stores for the ids keep the "being written" state before them; the reader's
    // acquire loads of the ids keep its second look at the state after them (no fences:
    // ThreadSanitizer does not model them).
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    s = (s | 1) + 1;  // even: being written
    state_.store(s, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) ids_[i].store(ids[i], std::memory_order_release);
    count_.store(n, std::memory_order_release);
    state_.store(s + 1, std::memory_order_release);  // odd: watching
    state_.notify_one();
    return s + 1;
  }

  /// Stops watching (the sentinel sleeps until the next watch).
  void unwatch() noexcept {
    const std::uint64_t s = state_.load(std::memory_order_relaxed);
    if (s & 1) state_.store(s + 1, std::memory_order_release);
  }

  /// Whether watching is known to be impossible here (not Linux, or the thread or its
  /// idle priority was refused). Any thread may ask.
  [[nodiscard]] bool refused() const noexcept {
#if defined(__linux__)
    return refused_.load(std::memory_order_relaxed);
#else
    return true;
#endif
  }

  /// Ends the sentinel's thread; idempotent.
  void stop() noexcept {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_release);
    state_.fetch_add(2, std::memory_order_release);
    state_.notify_one();
#if defined(__linux__)
    // In the idle class it would leave only when a core is free: back in the normal class
    // where allowed (a privileged process, or RLIMIT_NICE), so that the join is prompt
    // on a busy machine too.
    sched_param none{};
    (void)pthread_setschedparam(thread_.native_handle(), SCHED_OTHER, &none);
#endif
    thread_.join();
  }

 private:
  // Starts the thread on first use, in the idle class (set from here: no waiting for a
  // thread that may get no core for a while).
  bool started() noexcept {
#if defined(__linux__)
    if (!thread_.joinable() && !refused()) {
      try {
        thread_ = std::thread([this] { run(); });
      } catch (...) {
        refused_.store(true, std::memory_order_relaxed);
        return false;
      }
      // Without the idle class, a sentinel that looks every `period` would take the very
      // cores it watches: then there is none.
      sched_param none{};
      if (pthread_setschedparam(thread_.native_handle(), SCHED_IDLE, &none) != 0) {
        stop();
        refused_.store(true, std::memory_order_relaxed);
      }
    }
    return thread_.joinable();
#else
    return false;
#endif
  }

  void run() noexcept {
#if defined(__linux__)
    std::uint64_t s = state_.load(std::memory_order_acquire);
    while (!stopping_.load(std::memory_order_acquire)) {
      if ((s & 1) == 0) {
        state_.wait(s, std::memory_order_acquire);
        s = state_.load(std::memory_order_acquire);
        continue;
      }
      std::array<int, max_watched> ids{};
      const std::size_t n = count_.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < n; ++i) ids[i] = ids_[i].load(std::memory_order_acquire);
      std::uint64_t now = state_.load(std::memory_order_relaxed);  // changed: copy again
      census_.forget();
      int free_periods = 0;
      auto last_look = std::chrono::steady_clock::time_point{};
      bool first_look = true;
      std::array<cpu_census::verdict, max_watched> did{};
      while (now == s && !stopping_.load(std::memory_order_acquire)) {
        // Asleep for a period; awake again at once when a core is free, or for the
        // sliver the kernel gives the idle class now and then while all cores are busy.
        std::this_thread::sleep_for(period);
        now = state_.load(std::memory_order_acquire);
        if (now != s) break;
        if (!wanted_(context_)) {
          free_periods = 0;
          continue;
        }
        // The yield tells the two apart: with a busy thread waiting for this core, it
        // returns only after that thread has had the core back.
        const auto before_yield = std::chrono::steady_clock::now();
        std::this_thread::yield();
        const auto after_yield = std::chrono::steady_clock::now();
        if (after_yield - before_yield < period) {
          // A core free for two periods beside wanted work: whatever the watched threads
          // do, the work could run there. (One period is a woken thread on its way.)
          if (++free_periods < 2) continue;
        } else {
          // A sliver: the cores are busy, maybe with other processes, while a watched
          // thread may be blocked. Their clocks say which barely ran since the last look
          // (one system call each); only those are looked up in /proc, tens of microseconds
          // of a busy core (they may be waiting for a core). The first look of a watch
          // only reads the clocks: the watch began with the threads computing.
          free_periods = 0;
          if (after_yield - last_look < sliver_look_interval) continue;
          last_look = after_yield;
          census_.look(ids.data(), n, did.data());
          bool blocked = false;
          for (std::size_t i = 0; i < n && !first_look && !blocked; ++i)
            blocked = !cpu_census::computing(did[i], ids[i]);
          first_look = false;
          if (!blocked) continue;
        }
        fire_(context_, s);
      }
      s = now;
    }
#endif
  }

  callback fire_;
  predicate wanted_;
  void* context_;
  std::thread thread_;
  cpu_census census_;                 // the sentinel thread's
  std::atomic<bool> refused_{false};  // no thread, or no idle class (relaxed: a hint)
  std::atomic<bool> stopping_{false};
  // Odd while watching; every change moves it on, so the sentinel sees a new watch.
  std::atomic<std::uint64_t> state_{0};
  std::atomic<std::size_t> count_{0};
  std::array<std::atomic<int>, max_watched> ids_{};
};

}  // namespace settle::detail
