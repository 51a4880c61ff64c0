/// @file detail/cpu_census.hpp
/// Which threads computed between two looks, from their CPU clocks. An elastic
/// `thread_pool` holds idle threads back while its runners compute (see
/// detail/pool_supervisor.hpp), and must look at those runners now and then: a clock is one
/// system call, where a /proc read costs tens of microseconds of the very cores it watches.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "settle/detail/os_thread.hpp"

namespace settle::detail {

/// The clocks of up to `capacity` threads at the last look. No allocation: the idle
/// sentinel keeps one, and must not take malloc's locks (detail/idle_sentinel.hpp).
class cpu_census {
 public:
  static constexpr std::size_t capacity = 64;

  enum class verdict : std::uint8_t {
    unknown,   // not seen at the previous look (or no clock): ask /proc
    computed,  // ran for at least a quarter of the time since (a shared core included)
    idle,      // barely ran: blocked, or waiting for a core (only /proc tells which)
  };

  /// Reads the clocks of `ids` (kernel ids, at most `capacity`) now, and writes what each
  /// did since the previous look to `out[i]`.
  void look(const int* ids, std::size_t n, verdict* out) noexcept {
    const auto now = std::chrono::steady_clock::now();
    const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(now - at_).count();
    std::array<entry, capacity> seen{};
    for (std::size_t i = 0; i < n && i < capacity; ++i) {
      const std::int64_t cpu = os_thread_cpu_time(ids[i]);
      seen[i] = {ids[i], cpu};
      const std::int64_t before = cpu_at_last_look(ids[i]);
      out[i] = cpu < 0 || before < 0 || since <= 0 ? verdict::unknown
               : (cpu - before) * 4 >= since       ? verdict::computed
                                                   : verdict::idle;
    }
    last_ = seen;
    count_ = n < capacity ? n : capacity;
    at_ = now;
  }

  /// Whether thread `id` computes, by what a look said of it: its clock moved enough, or
  /// else /proc says it is on a CPU or waiting for one (one read, only when the clock
  /// could not tell).
  [[nodiscard]] static bool computing(verdict did, int id) noexcept {
    return did == verdict::computed || os_thread_on_cpu(id);
  }

  /// The time since the last look (since the epoch when none, or forgotten).
  [[nodiscard]] std::chrono::steady_clock::duration age() const noexcept {
    return std::chrono::steady_clock::now() - at_;
  }

  /// Forgets the last look: the next one only reads the clocks.
  void forget() noexcept {
    count_ = 0;
    at_ = {};
  }

 private:
  struct entry {
    int id = 0;
    std::int64_t cpu = -1;
  };

  [[nodiscard]] std::int64_t cpu_at_last_look(int id) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if (last_[i].id == id) return last_[i].cpu;
    return -1;
  }

  std::array<entry, capacity> last_{};
  std::size_t count_ = 0;
  std::chrono::steady_clock::time_point at_{};
};

}  // namespace settle::detail
