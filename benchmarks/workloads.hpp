// The operations settle_bench runs, and what it records about them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define SETTLE_BENCH_HAS_ISATTY 1
#endif

namespace settle_bench {

using clock = std::chrono::steady_clock;

inline double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  if (n == 0) return 0.0;
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/// When each operation of one run started and ended, relative to the run's start.
/// Operation i writes only slot i, and the combinator's return orders those writes
/// before the reads, so no lock is needed.
struct trace {
  struct span {
    double start_ms = 0;
    double end_ms = 0;
  };
  clock::time_point t0 = clock::now();
  std::vector<span> spans;
  std::atomic<std::size_t> done{0};  // read by the progress meter while the run goes on

  explicit trace(std::size_t n) : spans(n) {}
  void begin(std::size_t i) { spans[i].start_ms = ms_between(t0, clock::now()); }
  void end(std::size_t i) {
    spans[i].end_ms = ms_between(t0, clock::now());
    done.fetch_add(1, std::memory_order_relaxed);  // a counter for display only
  }
  double total_ms() const {
    double t = 0;
    for (const span& s : spans) t = std::max(t, s.end_ms);
    return t;
  }
};

/// Simulated I/O: waits `latency` like a network round trip would, but returns early
/// when the stop token is signalled (all/any/race no longer want the result).
/// Returns false when it was stopped.
inline bool simulated_io(std::stop_token stop, std::chrono::microseconds latency) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  // Nothing notifies cv: the wait ends at the timeout or at the stop request, and
  // the predicate reports neither, so ask the token which one it was.
  cv.wait_for(lock, stop, latency, [] { return false; });
  return !stop.stop_requested();
}

/// CPU-bound work: `iterations` rounds of a xorshift mix. The result is returned so
/// the optimiser cannot drop the loop.
inline std::uint64_t cpu_work(std::uint64_t iterations, std::uint64_t seed) {
  std::uint64_t x = seed | 1;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

/// How many cpu_work iterations take about one millisecond on one core of this machine.
/// Takes the fastest of a few trials: a shared machine only ever makes a trial slower.
inline double calibrate_iterations_per_ms() {
  std::uint64_t n = 1u << 16;
  volatile std::uint64_t sink = 0;
  for (;;) {  // grow the trial until it takes at least 10 ms
    auto t = clock::now();
    sink = sink + cpu_work(n, n);
    if (ms_between(t, clock::now()) >= 10.0) break;
    n *= 2;
  }
  double best = 1e300;
  for (int trial = 0; trial < 5; ++trial) {
    auto t = clock::now();
    sink = sink + cpu_work(n, static_cast<std::uint64_t>(trial) + 7);
    best = std::min(best, ms_between(t, clock::now()));
  }
  return static_cast<double>(n) / best;
}

/// How many cores `threads` plain std::threads spinning for `duration` actually get:
/// process CPU time over wall-clock time. The baseline for the CPU-bound rows, since a
/// shared or virtual machine may not give its hardware threads in full.
inline double measured_core_capacity(unsigned threads, std::chrono::milliseconds duration) {
  const std::clock_t cpu0 = std::clock();
  const auto t0 = clock::now();
  const auto deadline = t0 + duration;
  std::vector<std::jthread> spinners;
  for (unsigned i = 0; i < threads; ++i) {
    spinners.emplace_back([deadline, i] {
      volatile std::uint64_t sink = 0;
      while (clock::now() < deadline) sink = sink + cpu_work(10'000, i + 1);
    });
  }
  spinners.clear();  // joins
  const double wall_ms = ms_between(t0, clock::now());
  return 1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / wall_ms;
}

/// The error a failing operation throws.
struct upstream_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A line on stderr that tells how far a long row has got: redrawn in place on a
/// terminal, a single "running..." line otherwise (so logs stay readable).
class progress_meter {
 public:
  progress_meter(std::string label, const trace& t, double expected_ms)
      : label_(std::move(label)), trace_(t), start_(clock::now()) {
    if (expected_ms < 1500.0) return;  // short rows need no progress
    if (!stderr_is_terminal()) {
      std::fprintf(stderr, "  running %s (about %.0f s)...\n", label_.c_str(), expected_ms / 1000);
      return;
    }
    thread_ = std::jthread([this](std::stop_token stop) { draw_until(stop); });
  }
  ~progress_meter() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    thread_.join();
    std::fprintf(stderr, "\r%*s\r", 72, "");  // erase the line
    std::fflush(stderr);
  }
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;

 private:
  static bool stderr_is_terminal() {
#ifdef SETTLE_BENCH_HAS_ISATTY
    return ::isatty(2) != 0;
#else
    return false;
#endif
  }
  void draw_until(std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    const std::size_t n = trace_.spans.size();
    do {
      const std::size_t done = trace_.done.load(std::memory_order_relaxed);
      const int filled = static_cast<int>(20 * done / (n ? n : 1));
      std::fprintf(stderr, "\r  %s [%-20.*s] %zu/%zu  %.1f s", label_.c_str(), filled,
                   "####################", done, n, ms_between(start_, clock::now()) / 1000);
      std::fflush(stderr);
    } while (!cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; }));
  }

  std::string label_;
  const trace& trace_;
  clock::time_point start_;  // the meter never reads trace::t0, which the run may reset
  std::jthread thread_;
};

}  // namespace settle_bench
