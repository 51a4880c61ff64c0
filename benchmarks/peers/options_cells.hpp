// The timed cells of the call options' workloads (W6, W7, W8, NR; see
// options_workloads.hpp), measured like the peers' cells: a warm-up run, then timed runs,
// the variants of a cell interleaved.
#ifndef SETTLE_BENCHMARKS_PEERS_OPTIONS_CELLS_HPP
#define SETTLE_BENCHMARKS_PEERS_OPTIONS_CELLS_HPP

#include <settle/settle.hpp>

#include "harness.hpp"
#include "options_workloads.hpp"
#include "report.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace peers {

using append_fn = std::function<void(std::vector<measurement>)>;

inline std::string w6_label(const config& c) {
  return std::to_string(c.w6_tasks) + " x " +
         format_number(static_cast<double>(c.w6_block.count()) / 1000) + " ms, limit " +
         std::to_string(c.w6_limit);
}
/// The ideal wall time of W6: the tasks in rounds of `limit`.
inline double w6_ideal_ms(const config& c) {
  const int rounds = (c.w6_tasks + c.w6_limit - 1) / c.w6_limit;
  return rounds * static_cast<double>(c.w6_block.count()) / 1000;
}
inline std::string w7_label(const config& c) {
  return std::to_string(c.w7_tasks) + " tasks, timeout " + std::to_string(c.w7_timeout.count()) +
         " ms";
}
inline std::string w8_label(const config& c) { return std::to_string(c.w8_tasks) + " tasks"; }
inline std::string nr_w1_label(const config& c) { return "W1 n=" + std::to_string(c.w1_main); }
inline const std::string nr_w2_label = "W2 3 tasks";
inline const std::string w6_peak_label = "peak running";
inline const std::string w6_warm_peak_label = "peak running, warm-up";

inline std::string w6_gang_id(const config& c) { return "threads-" + std::to_string(c.w6_limit); }

inline long default_pool_threads() {
  return static_cast<long>(settle::default_executor().thread_count());
}

/// W6: settle's limited map beside std::async + counting_semaphore (when `with_async`) and
/// the machine's floor. Besides the wall times, per variant a "peak running" measurement
/// (the gauge's peak in every timed run) and a "peak running, warm-up" one (the first
/// call, which for settle may have to grow the pool).
inline void run_w6(const config& c, bool with_async, const append_fn& append) {
  std::vector<int> ids(static_cast<std::size_t>(c.w6_tasks));
  std::iota(ids.begin(), ids.end(), 0);
  opts::gauge g;
  std::vector<double> settle_peaks;
  std::vector<double> async_peaks;
  auto settle_op = [&] {
    g.reset();
    const auto sum = opts::limited_map(ids, c.w6_limit, c.w6_block, g);
    settle_peaks.push_back(g.peak());
    return sum;
  };
  auto async_op = [&] {
    g.reset();
    const auto sum = opts::semaphore_async(c.w6_tasks, c.w6_limit, c.w6_block, g);
    async_peaks.push_back(g.peak());
    return sum;
  };
  auto chain_op = [&c] { return opts::sleep_chain(c.w6_tasks, c.w6_limit, c.w6_block); };
  opts::thread_gang gang(c.w6_limit);
  std::vector<double> gang_peaks;
  auto gang_op = [&] {
    g.reset();
    const auto sum = gang.run(c.w6_tasks, c.w6_block, g);
    gang_peaks.push_back(g.peak());
    return sum;
  };
  const std::function<long()> no_pool;
  const std::string limit = std::to_string(c.w6_limit);
  std::vector<runner> rs{
      {"settle-default", "settle default_executor(), settle::limit(" + limit + ")", settle_op,
       settle_op, "", default_pool_threads},
      {"std-async", "std::async per task + counting_semaphore(" + limit + ")", async_op, async_op,
       with_async ? "" : "not selected (--peers)", no_pool},
      {"threads-" + limit,
       limit + " std::threads started beforehand, tasks from an atomic cursor (by hand)", gang_op,
       gang_op, "", no_pool},
      {"sleep-chain",
       "floor: one runner's chain, " + std::to_string((c.w6_tasks + c.w6_limit - 1) / c.w6_limit) +
           " sleeps in a row on one thread",
       chain_op, chain_op, "", no_pool},
  };
  cell w{"W6", w6_label(c), "ms", 1e6, false, static_cast<std::uint64_t>(c.w6_tasks)};
  auto ms = run_cell(w, rs, c);
  std::vector<measurement> peaks;
  for (const auto& m : ms) {
    if (m.peer_id == "sleep-chain") {
      continue;
    }
    // The first call is the warm-up; the rest are the timed runs, in order.
    const auto& all = m.peer_id == "std-async"        ? async_peaks
                      : m.peer_id == "settle-default" ? settle_peaks
                                                      : gang_peaks;
    measurement warm = m;
    warm.where.label = w6_warm_peak_label;
    warm.where.unit = "tasks";
    warm.samples.assign(all.begin(), all.begin() + (all.empty() ? 0 : 1));
    measurement timed = warm;
    timed.where.label = w6_peak_label;
    timed.samples.assign(all.begin() + (all.empty() ? 0 : 1), all.end());
    if (!m.ok()) {
      warm.samples.clear();
      timed.samples.clear();
    }
    peaks.push_back(std::move(timed));
    peaks.push_back(std::move(warm));
  }
  ms.insert(ms.end(), peaks.begin(), peaks.end());
  append(std::move(ms));
}

/// A configuration whose cells run exactly `runs` timed runs.
inline config with_runs(config c, int runs) {
  c.repeat = runs;
  c.min_runs = runs;
  return c;
}

/// W7: settle::timeout on tasks that wait for their token, on a condition variable or
/// polling it.
inline void run_w7(const config& c, const append_fn& append) {
  auto op = [&c](bool poll) { return opts::deadline_call(c.w7_tasks, c.w7_timeout, poll); };
  std::vector<runner> rs{
      {"settle-default", "settle default_executor(), tasks wait on a condition_variable_any",
       [op] { return op(false); }, [op] { return op(false); }, "", default_pool_threads},
      {"settle-default-poll", "settle default_executor(), tasks poll their token every 100 µs",
       [op] { return op(true); }, [op] { return op(true); }, "", default_pool_threads},
  };
  cell w{"W7", w7_label(c), "ms", 1e6, false, static_cast<std::uint64_t>(c.w7_tasks)};
  append(run_cell(w, rs, with_runs(c, c.latency_repeat)));
}

/// W8: from request_stop() on the caller's source to the call's return. Not a wall
/// time of the whole call, so sampled here rather than by run_cell.
inline void run_w8(const config& c, const append_fn& append) {
  measurement m;
  m.where = {"W8", w8_label(c), "ms", 1e6, false, static_cast<std::uint64_t>(c.w8_tasks)};
  m.peer_id = "settle-default";
  m.peer_name =
      "settle default_executor(), settle::stop_on, tasks wait on a "
      "condition_variable_any";
  try {
    for (int k = 0; k <= c.latency_repeat; ++k) {  // the first is the warm-up
      const auto s = opts::stop_latency(c.w8_tasks);
      if (!s.started) {
        m.note = "error: the tasks did not all start within 10 s";
        break;
      }
      if (s.cancelled != m.where.expected) {
        m.note = "wrong result";
        break;
      }
      if (k != 0) {
        m.samples.push_back(to_ns(s.latency) / m.where.ns_per_unit);
      }
    }
  } catch (const std::exception& e) {
    m.note = std::string("error: ") + e.what();
  }
  if (!m.note.empty()) {
    m.samples.clear();
  }
  m.pool_threads_after = default_pool_threads();
  std::cerr << "  W8 " << m.where.label << " (ms):  " << m.peer_id << ' '
            << (m.ok() ? format_number(m.stats().median) : m.note) << '\n';
  append({std::move(m)});
}

/// NR: W1 and W2 with settle::options{} passed explicitly beside the plain forms, the
/// runs of the two interleaved.
inline void run_nr(const config& c, const append_fn& append) {
  config runs = with_runs(c, c.nr_repeat);
  runs.alternate_order = true;  // plain, options{}, options{}, plain, ...
  const int n = c.w1_main;
  auto tiny = [n](bool with_options) { return opts::tiny(n, with_options); };
  std::vector<runner> w1{
      {"settle-default", "plain: all_settled(tasks)", [tiny] { return tiny(false); },
       [tiny] { return tiny(false); }, "", default_pool_threads},
      {"settle-default-options", "all_settled(settle::options{}, tasks)",
       [tiny] { return tiny(true); }, [tiny] { return tiny(true); }, "", default_pool_threads},
  };
  const auto un = static_cast<std::uint64_t>(n);
  append(run_cell({"NR", nr_w1_label(c), "ns/task", static_cast<double>(n), true, un * (un - 1)},
                  w1, runs));
  std::vector<runner> w2{
      {"settle-default", "plain: all_settled(a, b, c)", [] { return opts::fan_out(false); },
       [] { return opts::fan_out(false); }, "", default_pool_threads},
      {"settle-default-options", "all_settled(settle::options{}, a, b, c)",
       [] { return opts::fan_out(true); }, [] { return opts::fan_out(true); }, "",
       default_pool_threads},
  };
  append(run_cell({"NR", nr_w2_label, "µs", 1000.0, true, 6}, w2, runs));
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_OPTIONS_CELLS_HPP
