/// @file detail/watcher.hpp
/// One lazily started thread that looks at things nobody else may block on: the futures
/// a combinator was given. No pool thread and no waiting caller ever blocks in a future's
/// `get()`, so a future that is late (or never ready) holds no thread of any pool.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

namespace settle::detail {

/// Something the watcher looks at from time to time. Intrusive (a combinator's group
/// embeds its node), so that handing a node over allocates nothing and cannot fail
/// once the watcher's thread runs.
struct watch_node {
  using clock = std::chrono::steady_clock;
  /// Returned by `poll` when the watch is over.
  static constexpr clock::time_point done = clock::time_point::min();

  /// Called on the watcher's thread, never concurrently for one node: looks (without
  /// blocking) and returns when to be called again, or `done`. After `done` the node
  /// belongs to its owner again (and may be destroyed before `poll` returns).
  clock::time_point (*poll)(watch_node& self, clock::time_point now) noexcept = nullptr;
  void* context = nullptr;
  clock::time_point due{};
  watch_node* next = nullptr;
  std::atomic<bool> expedited{false};  // see `watcher::expedite`
};

/// The process-wide watcher. Its thread starts on the first `watch` and lives as long as
/// the process (like `default_executor()`, it is never destroyed, so it stays usable
/// from static destructors); it sleeps while nothing is watched.
///
/// `std::future` offers no way to wait for one of several futures, so futures are
/// polled: each node says when it wants to be looked at again (a group backs off as its
/// futures stay pending, see `group::poll_futures`). One thread polling costs nothing per
/// future while idle, where a thread per future would be a thread per pending future.
class watcher {
 public:
  using clock = watch_node::clock;

  /// Whether the calling thread is the watcher's. Work that runs user code (stop
  /// callbacks, destructors of cancelled tasks) is handed elsewhere from here: the
  /// watcher must never block on, or wait for, anything a user wrote.
  [[nodiscard]] static bool on_this_thread() noexcept { return on_watcher_thread(); }

  [[nodiscard]] static watcher& instance() {
    static watcher* const w = new watcher();
    return *w;
  }

  /// Hands `node` to the watcher, which calls its `poll` at once and then when it asks.
  /// Throws `std::system_error` when the watcher's thread cannot be started (nothing
  /// was handed over then).
  void watch(watch_node& node) {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    node.due = clock::time_point{};
    node.next = std::exchange(incoming_, &node);
    cv_.notify_one();
  }

  /// Has the watcher poll `node` (handed over earlier) now rather than when it asked:
  /// a timer called off is dropped at once instead of at its deadline. Harmless when the
  /// node's watch is already over.
  void expedite(watch_node& node) noexcept {
    node.expedited.store(true, std::memory_order_release);
    std::lock_guard lock(mutex_);
    expedite_ = true;
    cv_.notify_one();
  }

 private:
  watcher() = default;

  static bool& on_watcher_thread() noexcept {
    thread_local bool on = false;
    return on;
  }

  void run() noexcept {
    on_watcher_thread() = true;
    watch_node* active = nullptr;  // this thread's own list: no lock needed
    std::unique_lock lock(mutex_);
    for (;;) {
      watch_node* arrived = std::exchange(incoming_, nullptr);
      const bool expedite = std::exchange(expedite_, false);
      lock.unlock();
      if (expedite)
        for (watch_node* node = active; node != nullptr; node = node->next)
          if (node->expedited.exchange(false, std::memory_order_acq_rel)) node->due = {};
      while (arrived != nullptr) {
        watch_node* node = arrived;
        arrived = node->next;
        node->next = active;
        active = node;
      }
      // Poll without the lock: a poll may settle a group, and whatever that runs (stop
      // callbacks of tasks) may hand the watcher a new node.
      const auto now = clock::now();
      auto earliest = clock::time_point::max();
      for (watch_node** link = &active; *link != nullptr;) {
        watch_node* node = *link;
        watch_node* const after = node->next;  // read first: `done` may free the node
        if (node->due <= now) {
          const auto due = node->poll(*node, now);
          if (due == watch_node::done) {
            *link = after;
            continue;
          }
          node->due = due;
        }
        earliest = std::min(earliest, node->due);
        link = &node->next;
      }
      lock.lock();
      const auto arrivals = [this] { return incoming_ != nullptr || expedite_; };
      if (earliest == clock::time_point::max())
        cv_.wait(lock, arrivals);
      else
        cv_.wait_until(lock, earliest, arrivals);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  watch_node* incoming_ = nullptr;
  bool expedite_ = false;
  std::thread thread_;
};

}  // namespace settle::detail
