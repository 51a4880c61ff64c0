// A minimal coroutine type for the W9 benchmarks (co_await on a settle::pending): `eager`
// starts at once on the calling thread, may end on any thread, and keeps nothing. What a
// coroutine computes it hands to a `finish_line`, on which the benchmark thread waits.
#ifndef SETTLE_BENCHMARKS_PEERS_CORO_HPP
#define SETTLE_BENCHMARKS_PEERS_CORO_HPP

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>

namespace peers::coro {

/// Counts the coroutines that ended and sums their results; wakes the thread that waits
/// when the count it waits for is reached. A coroutine that arrives must keep the line
/// alive until arrive() returns (the waiter may go as soon as the count is reached).
class finish_line {
 public:
  void arrive(std::uint64_t result, bool resumed_elsewhere) noexcept {
    sum_.fetch_add(result);
    elsewhere_.fetch_add(resumed_elsewhere ? 1 : 0);
    if (finished_.fetch_add(1) + 1 == target_.load()) {
      finished_.notify_all();
    }
  }
  /// Blocks until `n` coroutines in all have arrived.
  void wait_for(std::uint64_t n) noexcept {
    target_.store(n);
    for (auto seen = finished_.load(); seen < n; seen = finished_.load()) {
      finished_.wait(seen);
    }
  }
  [[nodiscard]] std::uint64_t finished() const noexcept { return finished_.load(); }
  [[nodiscard]] std::uint64_t sum() const noexcept { return sum_.load(); }
  /// How many were resumed on a thread other than the one that started them.
  [[nodiscard]] std::uint64_t resumed_elsewhere() const noexcept { return elsewhere_.load(); }

 private:
  std::atomic<std::uint64_t> finished_{0};
  std::atomic<std::uint64_t> target_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> elsewhere_{0};
};

/// Runs at once on the caller's thread up to its first suspension; its frame goes when
/// its body ends, wherever that is.
struct eager {
  struct promise_type {
    eager get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

}  // namespace peers::coro

#endif  // SETTLE_BENCHMARKS_PEERS_CORO_HPP
