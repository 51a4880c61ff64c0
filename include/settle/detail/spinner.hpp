/// @file detail/spinner.hpp
/// The spin of a pool thread that just ran out of work: it stays awake a moment, so that
/// the next submission needs no wake-up.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace settle::detail {

/// What the spinning thread reads without the pool's lock; written under it. A cache
/// line of its own, so that the spinner's reads disturb nothing else.
struct alignas(64) spin_line {
  std::atomic<std::size_t> queued{0};  // entries in the queue
  std::atomic<std::uint64_t> pushes{0};
};

/// Returns when work has been queued for `spin_grace` (the submitter of a small group
/// has usually run it all by then, and taken its entry back), or when nothing was pushed
/// for `spin_budget`. It reads `line` no more often than every `spin_poll`: each read
/// takes the line from the submitter's core, which then pays a cache miss on its next push.
inline void spin_until_work_or_quiet(const spin_line& line) noexcept {
  using clock = std::chrono::steady_clock;
  constexpr std::chrono::microseconds spin_grace{2};
  constexpr std::chrono::nanoseconds spin_poll{500};
  constexpr std::chrono::microseconds spin_budget{50};

  std::uint64_t last_push = line.pushes.load(std::memory_order_relaxed);
  auto quiet_since = clock::now();
  auto queued_since = clock::time_point::max();
  auto polled = quiet_since;
  for (;;) {
    std::this_thread::yield();  // a crowded core runs someone else meanwhile
    const auto now = clock::now();
    if (now - polled < spin_poll) continue;
    polled = now;
    if (line.queued.load(std::memory_order_relaxed) == 0) {
      queued_since = clock::time_point::max();
    } else if (queued_since == clock::time_point::max()) {
      queued_since = now;
    } else if (now - queued_since >= spin_grace) {
      return;
    }
    const std::uint64_t pushes = line.pushes.load(std::memory_order_relaxed);
    if (pushes != last_push) {
      last_push = pushes;
      quiet_since = now;
    } else if (now - quiet_since >= spin_budget) {
      return;
    }
  }
}

}  // namespace settle::detail
