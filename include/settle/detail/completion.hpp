/// @file detail/completion.hpp
/// The end of a call, as the threads waiting for it see it: a flag to block on, and one
/// registered `waker` (a suspended coroutine, or a thread waiting with a time limit) that
/// the thread finishing the call wakes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace settle::detail {

/// Non-zero while this thread runs a call's stop callback: a coroutine that call's end
/// would resume is resumed elsewhere, since the stop request's other callbacks wait for
/// this one to return.
inline thread_local int in_stop_callback = 0;

/// Someone to tell when a call finishes. Registered with `completion::subscribe`; woken
/// at most once, by the thread that finishes the call.
class waker {
 public:
  virtual void wake() noexcept = 0;

 protected:
  waker() = default;
  waker(const waker&) = default;
  waker& operator=(const waker&) = default;
  ~waker() = default;
};

/// How a call tells that it has finished. `complete()` is called once, by the thread whose
/// release finishes the call; that thread still holds the call's state alive (a reference,
/// or a stop callback the owner's disarming waits for), so nothing here is touched after
/// its owner could have freed it.
class completion {
 public:
  /// The call has finished: the plain call would return now.
  [[nodiscard]] bool ready() const noexcept { return done_.load(std::memory_order_acquire) != 0; }

  /// Blocks until the call has finished.
  void wait() const noexcept {
    // The tasks still running are often tiny ones a worker took a moment ago: poll for a
    // few microseconds before paying for a sleep and a wake-up (~20 us here).
    for (int i = 0; i < spin_polls; ++i)
      if (ready()) return;
    for (int i = 0; i < yield_polls; ++i) {
      std::this_thread::yield();
      if (ready()) return;
    }
    while (!ready()) done_.wait(0, std::memory_order_acquire);
  }

  /// Blocks until the call has finished (true) or `t` has passed (false).
  template <class Clock, class Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& t) {
    if (ready()) return true;
    timed_waiter w;
    if (!subscribe(w)) {
      // Finished (the flag is set before the waker slot closes), or another thread is in
      // a timed wait on the same call: that rare case polls.
      while (!ready()) {
        if (!(left_until(t) > seconds::zero())) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      return true;
    }
    bool woken = false;
    {
      std::unique_lock lock(w.mutex);
      while (!w.woken) {
        // A day at most per wait: a far-off time point must not overflow the conversion to
        // the condition variable's clock.
        const seconds left = left_until(t);
        if (!(left > seconds::zero())) break;  // passed (or not a number)
        if (left > std::chrono::hours(24))
          w.cv.wait_for(lock, std::chrono::hours(24));
        else
          w.cv.wait_for(lock, std::chrono::ceil<std::chrono::nanoseconds>(left));
      }
      woken = w.woken;
    }
    if (woken) return true;
    if (unsubscribe(w)) return false;
    // The call finished as the time ran out and its `wake` is on its way: `w` must outlive it.
    std::unique_lock lock(w.mutex);
    w.cv.wait(lock, [&] { return w.woken; });
    return true;
  }

  /// Registers `w`, to be woken once the call finishes. False when it has finished
  /// already, or another waker is registered (then `w` is not, and will not be woken).
  [[nodiscard]] bool subscribe(waker& w) noexcept {
    waker* expected = nullptr;
    // acq_rel: publishes what `w` holds to the thread that wakes it.
    return waker_.compare_exchange_strong(expected, &w, std::memory_order_acq_rel);
  }

  /// Takes `w` back. False when the call has finished meanwhile: `w` is being woken.
  [[nodiscard]] bool unsubscribe(waker& w) noexcept {
    waker* expected = &w;
    return waker_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
  }

 protected:
  /// The call has finished: wakes whoever waits. Called once.
  void complete() noexcept {
    done_.store(1, std::memory_order_release);
    done_.notify_all();
    waker* w = waker_.exchange(finished(), std::memory_order_acq_rel);
    // The waker may free the call's state (a coroutine resumed here destroys its
    // `pending`): nothing of it is touched after this.
    if (w != nullptr) w->wake();
  }

 private:
  struct timed_waiter final : waker {
    std::mutex mutex;
    std::condition_variable cv;
    bool woken = false;

    void wake() noexcept override {
      // Notified under the lock: the waiting thread cannot return (and destroy `cv`)
      // before this has finished with it.
      std::lock_guard lock(mutex);
      woken = true;
      cv.notify_one();
    }
  };

  using seconds = std::chrono::duration<double>;

  // In floating point: `t` may be far off in a coarse unit (hours::max()) that the clock's
  // own unit cannot hold.
  template <class Clock, class Duration>
  static seconds left_until(const std::chrono::time_point<Clock, Duration>& t) {
    return seconds(t.time_since_epoch()) - seconds(Clock::now().time_since_epoch());
  }

  // A sentinel no waker has as its address: `waker_` once the call has finished.
  waker* finished() noexcept { return reinterpret_cast<waker*>(&waker_); }

  static constexpr int spin_polls = 4000;
  static constexpr int yield_polls = 16;

  std::atomic<std::uint32_t> done_{0};
  std::atomic<waker*> waker_{nullptr};
};

}  // namespace settle::detail
