// The timed cells of start now, collect later (W9a, W9b; see pending_workloads.hpp),
// measured like the call options' cells, and the W9b probe of a fresh process.
#ifndef SETTLE_BENCHMARKS_PEERS_PENDING_CELLS_HPP
#define SETTLE_BENCHMARKS_PEERS_PENDING_CELLS_HPP

#include <settle/settle.hpp>

#include "harness.hpp"
#include "options_cells.hpp"
#include "options_workloads.hpp"
#include "pending_workloads.hpp"
#include "report.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace peers {

inline const std::string w9a_label = "3 tasks, start + get";
inline const std::string w9b_label = "3 tasks, co_await";
inline const std::string w9b_elsewhere_label = "3 tasks, co_await: resumed on another thread";
inline std::string w9b_crowd_label(const config& c) {
  return std::to_string(c.w9_coroutines) + " coroutines";
}
inline std::string w9b_crowd_label(const config& c, const std::string& what) {
  return w9b_crowd_label(c) + ": " + what;
}
// The per-run readings of the crowd besides its wall time (unit, label suffix).
inline const std::string w9b_gained_started = "threads gained, all started";
inline const std::string w9b_gained_after = "threads gained, all ended";
inline const std::string w9b_pool_started = "thread_count(), all started";
inline const std::string w9b_awaiting = "awaiting, all started";
inline const std::string w9b_resumed = "resumed on another thread";

inline const std::string w9_start_peer = "settle-default-start";
inline const std::string w9_co_await_peer = "settle-default-co-await";
inline const std::string w9_plain_name = "plain: all_settled(a, b, c)";

/// W9a: start + get beside the plain call, the runs of the two interleaved.
inline void run_w9a(const config& c, const append_fn& append) {
  config runs = with_runs(c, c.nr_repeat);
  runs.alternate_order = true;  // plain, start + get, start + get, plain, ...
  std::vector<runner> rs{
      {"settle-default", w9_plain_name, [] { return opts::fan_out(false); },
       [] { return opts::fan_out(false); }, "", default_pool_threads},
      {w9_start_peer, "settle::start(settle::all_settled, a, b, c), then get()", pend::start_get,
       pend::start_get, "", default_pool_threads},
  };
  append(run_cell({"W9a", w9a_label, "µs", 1000.0, true, 6}, rs, runs));
}

/// W9b (1): a coroutine that co_awaits the started call, beside the plain call, the runs
/// interleaved; and the share of its runs resumed on another thread than the caller's
/// (the rest found the call finished at the co_await and went on without suspending).
inline void run_w9b_round_trip(const config& c, const append_fn& append) {
  config runs = with_runs(c, c.nr_repeat);
  runs.alternate_order = true;
  auto trip = std::make_shared<pend::round_trip>();
  auto op = [trip] { return (*trip)(); };
  std::vector<runner> rs{
      {"settle-default", w9_plain_name, [] { return opts::fan_out(false); },
       [] { return opts::fan_out(false); }, "", default_pool_threads},
      {w9_co_await_peer,
       "eager coroutine: co_await settle::start(settle::all_settled, a, b, c), until it has "
       "ended",
       op, op, "", default_pool_threads},
  };
  auto ms = run_cell({"W9b", w9b_label, "µs", 1000.0, true, 6}, rs, runs);
  measurement share;
  share.where = {"W9b", w9b_elsewhere_label, "%", 1, false, 0};
  share.peer_id = w9_co_await_peer;
  share.peer_name = rs.back().peer_name;
  const auto& line = trip->line();
  if (line.finished() > 0) {
    share.samples.push_back(100.0 * static_cast<double>(line.resumed_elsewhere()) /
                            static_cast<double>(line.finished()));
  }
  std::cerr << "  W9b " << w9b_elsewhere_label << ": " << line.resumed_elsewhere() << " of "
            << line.finished() << '\n';
  ms.push_back(std::move(share));
  append(std::move(ms));
}

/// W9b (2): `c.w9_coroutines` coroutines started in a row, then waited for. Not one
/// operation repeated, so sampled here rather than by run_cell: the wall time, and per run
/// the threads the process gained (/proc/self/status) and the default pool's size.
inline void run_w9b_crowd(const config& c, const append_fn& append) {
  const int n = c.w9_coroutines;
  measurement wall;
  wall.where = {"W9b", w9b_crowd_label(c), "ms", 1e6, false, 6 * static_cast<std::uint64_t>(n)};
  wall.peer_id = "settle-default";
  wall.peer_name = "settle default_executor(): " + std::to_string(n) +
                   " eager coroutines, each co_await settle::start(settle::all_settled, a, b, c)";
  wall.pool_threads_before = default_pool_threads();
  std::vector<measurement> readings;
  for (const std::string& what :
       {w9b_gained_started, w9b_gained_after, w9b_pool_started, w9b_awaiting, w9b_resumed}) {
    measurement m = wall;
    const bool threads =
        what == w9b_gained_started || what == w9b_gained_after || what == w9b_pool_started;
    m.where = {"W9b", w9b_crowd_label(c, what), threads ? "threads" : "coroutines", 1, false, 0};
    readings.push_back(std::move(m));
  }
  try {
    for (int k = 0; k <= c.repeat; ++k) {  // the first is the warm-up
      const auto s = pend::crowd(n);
      if (s.sum != wall.where.expected) {
        wall.note = "wrong result";
        break;
      }
      if (k == 0) {
        continue;
      }
      wall.samples.push_back(to_ns(s.wall) / wall.where.ns_per_unit);
      const double values[] = {static_cast<double>(s.threads_started - s.threads_before),
                               static_cast<double>(s.threads_after - s.threads_before),
                               static_cast<double>(s.pool_started), static_cast<double>(s.awaiting),
                               static_cast<double>(s.resumed_elsewhere)};
      for (std::size_t i = 0; i < readings.size(); ++i) {
        readings[i].samples.push_back(values[i]);
      }
    }
  } catch (const std::exception& e) {
    wall.note = std::string("error: ") + e.what();
  }
  wall.pool_threads_after = default_pool_threads();
  if (!wall.note.empty()) {
    wall.samples.clear();
  }
  for (auto& m : readings) {
    m.pool_threads_after = wall.pool_threads_after;
    if (!wall.ok()) {
      m.samples.clear();
      m.note = wall.note;
    }
  }
  std::cerr << "  W9b " << wall.where.label << " (ms):  " << wall.peer_id << ' '
            << (wall.ok() ? format_number(wall.stats().median) : wall.note) << '\n';
  readings.insert(readings.begin(), std::move(wall));
  append(std::move(readings));
}

/// W9b (2) in a process that ran nothing else: one crowd, and the threads alive.
inline int probe_w9(const options& o) {
  auto& out = std::cout;
  const auto s = pend::crowd(o.n);
  out << "threads_before " << s.threads_before << '\n';
  out << "threads_started " << s.threads_started << '\n';
  out << "threads " << s.threads_after << '\n';
  out << "pool_threads_started " << s.pool_started << '\n';
  out << "pool_threads " << s.pool_after << '\n';
  out << "awaiting " << s.awaiting << '\n';
  out << "wall_ms " << to_ns(s.wall) / 1e6 << '\n';
  out << "checksum_ok " << (s.sum == 6 * static_cast<std::uint64_t>(o.n)) << '\n';
  return 0;
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_PENDING_CELLS_HPP
