// What every peer of the benchmark implements: the five workloads, each
// returning a checksum of its task results, which the harness verifies.
#ifndef SETTLE_BENCHMARKS_PEERS_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_PEER_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace peers {

using std::chrono::microseconds;

/// The busy loop of W4: xorshift64 steps, a serial dependency chain that the
/// compiler can neither fold nor vectorise.
inline std::uint64_t spin(std::uint64_t iterations, std::uint64_t seed) noexcept {
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

/// W5 pool shapes: a pool of one thread, of two threads, and the peer's
/// elastic (or default) configuration.
enum class nesting { one_thread, two_threads, elastic };

/// How many outer tasks W5 starts: as many as the pool has threads, so a pool
/// that blocks a worker per waiting task has none left for the subtasks.
/// The elastic shape gets cores + 2, more than such a pool starts with.
inline int outer_tasks(nesting shape, std::size_t cores) {
  switch (shape) {
    case nesting::one_thread:
      return 1;
    case nesting::two_threads:
      return 2;
    case nesting::elastic:
      break;
  }
  return static_cast<int>(cores) + 2;
}

/// One way of running tasks. Each workload returns a checksum of the task
/// results, which the harness compares with the expected value.
class peer {
 public:
  virtual ~peer() = default;
  [[nodiscard]] virtual std::string_view id() const = 0;    // command-line name
  [[nodiscard]] virtual std::string_view name() const = 0;  // table name

  /// W1: n tasks, task i returns i * 2; the sum of the results.
  virtual std::uint64_t tiny(int n) = 0;
  /// W2: three tasks returning 1, 2 and 3; the sum of the results.
  virtual std::uint64_t fan_out() = 0;
  /// W3: n tasks that each sleep for `block` and return 1; the sum.
  virtual std::uint64_t blocking(int n, microseconds block) = 0;
  /// W4: n tasks, task i returns spin(iterations, i); the wrapping sum.
  virtual std::uint64_t cpu(int n, std::uint64_t iterations) = 0;
  /// W5: outer_tasks(shape) tasks on a pool of that shape, each waiting on
  /// two subtasks (returning 1 and 2) run on the same pool; the sum.
  /// Only called when supports(shape); may never return (deadlock), which is
  /// why the harness runs it in a child process.
  virtual std::uint64_t nested(nesting shape) = 0;
  [[nodiscard]] virtual bool supports(nesting shape) const = 0;
  /// How the W5 shapes are built, for the legend.
  [[nodiscard]] virtual std::string nesting_setup() const = 0;

  /// Largest W1 size worth timing (a thread per task gets too slow beyond).
  [[nodiscard]] virtual int max_tiny() const { return std::numeric_limits<int>::max(); }
  /// Threads of the peer's pool as the pool reports them, or -1.
  [[nodiscard]] virtual long pool_threads() const { return -1; }
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_PEER_HPP
