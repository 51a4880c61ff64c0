// The workloads of start now, collect later (SPEC §6), on settle's default executor, with
// W2's three tiny tasks:
//
//   W9a  settle::start(settle::all_settled, a, b, c), then get(): round trip, beside the
//        plain call all_settled(a, b, c)
//   W9b  a coroutine that co_awaits the started call: round trip, from before the start to
//        the end of the coroutine, resumed on the thread that finished the call; and
//        10 000 such coroutines started in a row before any is waited for: wall, and the
//        threads alive while they await and after
//
// Each returns a checksum the harness verifies, as the peers' workloads do.
#ifndef SETTLE_BENCHMARKS_PEERS_PENDING_WORKLOADS_HPP
#define SETTLE_BENCHMARKS_PEERS_PENDING_WORKLOADS_HPP

#include <settle/settle.hpp>

#include "coro.hpp"
#include "report.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

namespace peers::pend {

using clock_type = std::chrono::steady_clock;

/// W9a: W2's call started, then collected at once.
inline std::uint64_t start_get() {
  auto p = settle::start(settle::all_settled, [] { return 1; }, [] { return 2; }, [] { return 3; });
  auto [a, b, c] = p.get();
  return static_cast<std::uint64_t>(a.value() + b.value() + c.value());
}

/// W9b's coroutine: co_awaits W2's call started, then arrives at `line` with the sum and
/// whether it was resumed on another thread than `caller`. `line` is held by the frame,
/// so it outlives arrive().
inline coro::eager await_fan_out(std::shared_ptr<coro::finish_line> line, std::thread::id caller) {
  auto [a, b, c] = co_await settle::start(
      settle::all_settled, [] { return 1; }, [] { return 2; }, [] { return 3; });
  line->arrive(static_cast<std::uint64_t>(a.value() + b.value() + c.value()),
               std::this_thread::get_id() != caller);
}

/// W9b (1): one coroutine, started on this thread, waited for until it has ended.
class round_trip {
 public:
  std::uint64_t operator()() {
    const auto before = line_->sum();
    await_fan_out(line_, std::this_thread::get_id());
    line_->wait_for(++runs_);
    return line_->sum() - before;
  }
  [[nodiscard]] const coro::finish_line& line() const noexcept { return *line_; }

 private:
  std::shared_ptr<coro::finish_line> line_ = std::make_shared<coro::finish_line>();
  std::uint64_t runs_ = 0;
};

struct crowd_sample {
  clock_type::duration wall{};  // the first start to the last coroutine's end
  std::uint64_t sum = 0;
  std::uint64_t resumed_elsewhere = 0;
  std::uint64_t awaiting = 0;  // not yet ended when the last had been started
  long threads_before = -1;    // /proc/self/status Threads:, this process
  long threads_started = -1;   // when the last had been started
  long threads_after = -1;     // once all have ended
  long pool_before = -1;       // settle::default_executor().thread_count()
  long pool_started = -1;
  long pool_after = -1;
};

inline long default_pool_thread_count() {
  return static_cast<long>(settle::default_executor().thread_count());
}

/// W9b (2): `n` coroutines started in a row on this thread, each awaiting its own call;
/// then the wait for all of them. The threads are counted when the last has been started
/// (that reading is not part of the wall time) and after all have ended.
inline crowd_sample crowd(int n) {
  crowd_sample s;
  auto line = std::make_shared<coro::finish_line>();
  s.threads_before = proc_status("Threads");
  s.pool_before = default_pool_thread_count();
  const auto caller = std::this_thread::get_id();
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i) {
    await_fan_out(line, caller);
  }
  const auto read_start = clock_type::now();
  s.awaiting = static_cast<std::uint64_t>(n) - line->finished();
  s.threads_started = proc_status("Threads");
  s.pool_started = default_pool_thread_count();
  const auto read_end = clock_type::now();
  line->wait_for(static_cast<std::uint64_t>(n));
  s.wall = (clock_type::now() - start) - (read_end - read_start);
  s.threads_after = proc_status("Threads");
  s.pool_after = default_pool_thread_count();
  s.sum = line->sum();
  s.resumed_elsewhere = line->resumed_elsewhere();
  return s;
}

}  // namespace peers::pend

#endif  // SETTLE_BENCHMARKS_PEERS_PENDING_WORKLOADS_HPP
