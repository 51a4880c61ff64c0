// The measuring part of settle_peers: options, the configuration they
// select, and the engine that times one cell (a workload at one size) on
// every peer, interleaving the peers' runs.
#ifndef SETTLE_BENCHMARKS_PEERS_HARNESS_HPP
#define SETTLE_BENCHMARKS_PEERS_HARNESS_HPP

#include "child_process.hpp"
#include "peer.hpp"
#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace peers {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline std::size_t hardware_cores() {
  const auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

inline double to_ns(clock_type::duration d) {
  return static_cast<double>(std::chrono::nanoseconds(d).count());
}

// Options and the configuration they select.

struct options {
  int repeat = 7;
  bool repeat_given = false;
  bool quick = false;
  bool json_stdout = false;
  std::string json_path;
  std::set<std::string> only;  // workloads; empty = all
  std::vector<std::string> peer_ids;
  std::size_t threads = hardware_cores();
  // Child-process probe mode (internal).
  std::string probe;
  std::string probe_peer;
  std::string shape;
  int n = 0;
  long block_us = 0;
  long deadline_ms = 0;
  int limit = 0;
};

struct config {
  std::vector<int> w1_sizes;
  int w1_main = 0;                            // the W1 size the targets and the summary use
  std::vector<int> w3_counts{3, 5, 10, 100};  // every peer; the W3 targets use these
  std::vector<int> w3_wide_counts;            // only the peers that start every task at once
  microseconds block{};
  int w4_tasks = 8;
  microseconds w4_task{};
  milliseconds w5_deadline{};
  // The call options (options_workloads.hpp).
  int w6_tasks = 1000;
  int w6_limit = 50;
  microseconds w6_block{2000};
  int w7_tasks = 10;
  milliseconds w7_timeout{50};
  int w8_tasks = 10;
  int w9_coroutines = 10'000;  // W9b: coroutines awaiting at once
  int latency_repeat = 21;     // timed runs of W7 and W8 (no budget cuts them short)
  int nr_repeat = 21;          // timed runs of each variant of the no-regression cells
  int repeat = 5;
  int min_runs = 3;                      // a slow cell still gets this many runs...
  clock_type::duration budget{};         // ...but no more once a peer has spent this long on it
  clock_type::duration sample_target{};  // fast operations are batched up to this length per sample
  int max_batch = 100'000;
  bool alternate_order = false;  // reverse the peers' order every other round
  // The first runner opens every round and the others take turns to follow it: after a
  // single-threaded baseline the other cores have been idle, and the run that comes next
  // pays for waking them (a halted virtual CPU takes tens of microseconds).
  bool rotate_followers = false;
};

inline bool wanted(const options& o, const std::string& workload) {
  return o.only.empty() || o.only.count(workload) != 0;
}

inline std::string w5_shape_name(peers::nesting shape) {
  switch (shape) {
    case peers::nesting::one_thread:
      return "1";
    case peers::nesting::two_threads:
      return "2";
    case peers::nesting::elastic:
      break;
  }
  return "elastic";
}

inline constexpr peers::nesting all_shapes[] = {
    peers::nesting::one_thread, peers::nesting::two_threads, peers::nesting::elastic};

// ---------------------------------------------------------------------------
// Timed cells: one workload at one size, every peer.

struct runner {
  std::string peer_id;
  std::string peer_name;
  std::function<std::uint64_t()> warm;  // untimed, once
  std::function<std::uint64_t()> op;    // one timed operation; returns the checksum
  std::string skip;                     // non-empty: not run, and why
  std::function<long()> pool_threads;   // the peer's pool thread count, -1 when it has none
};

struct cell {
  std::string workload;
  std::string label;
  std::string unit;
  double ns_per_unit = 1;  // per-operation nanoseconds / this = the reported value
  bool batchable = true;   // fast operations may be repeated within one sample
  std::uint64_t expected = 0;
};

struct measurement {
  cell where;
  std::string peer_id;
  std::string peer_name;
  std::vector<double> samples;  // in where.unit
  int batch = 1;
  long pool_threads_before = -1;  // the peer's pool thread count before the cell
  long pool_threads_after = -1;   // the peer's pool thread count once the cell is done
  std::string note;               // why there are no samples, or what went wrong
  [[nodiscard]] bool ok() const { return note.empty() && !samples.empty(); }
  [[nodiscard]] peers::summary stats() const { return peers::summarize(samples); }
};

inline std::vector<measurement> run_cell(const cell& c, std::vector<runner>& runners,
                                         const config& cfg) {
  struct state {
    measurement m;
    runner* r = nullptr;
    clock_type::duration spent{};
    bool active = true;
  };
  std::vector<state> states;
  for (auto& r : runners) {
    state s;
    s.m.where = c;
    s.m.peer_id = r.peer_id;
    s.m.peer_name = r.peer_name;
    s.r = &r;
    s.m.note = r.skip;
    s.active = r.skip.empty();
    s.m.pool_threads_before = r.pool_threads ? r.pool_threads() : -1;
    states.push_back(std::move(s));
  }

  // Runs `batch` operations back to back; returns false on a wrong checksum.
  auto timed = [&c](state& s, int batch, clock_type::duration& elapsed) {
    bool right = true;
    const auto start = clock_type::now();
    for (int b = 0; b < batch; ++b) {
      right = s.r->op() == c.expected && right;
    }
    elapsed = clock_type::now() - start;
    s.spent += elapsed;
    return right;
  };
  auto record = [&c](state& s, clock_type::duration elapsed) {
    s.m.samples.push_back(to_ns(elapsed) / s.m.batch / c.ns_per_unit);
  };

  // Warm-up, then one run that sizes the batch (and counts when unbatched).
  for (auto& s : states) {
    if (!s.active) {
      continue;
    }
    try {
      (void)s.r->warm();
      clock_type::duration elapsed{};
      if (!timed(s, 1, elapsed)) {
        s.m.note = "wrong result";
        s.active = false;
        continue;
      }
      if (c.batchable && elapsed < cfg.sample_target) {
        const auto per = std::max(1.0, to_ns(elapsed));
        s.m.batch =
            static_cast<int>(std::min<double>(cfg.max_batch, to_ns(cfg.sample_target) / per + 1));
        s.spent = {};
      } else {
        record(s, elapsed);
      }
    } catch (const std::exception& e) {
      s.m.note = std::string("error: ") + e.what();
      s.active = false;
    }
  }

  // Round robin: one sample of each peer in turn (in reverse order every other round
  // when the configuration says so: no peer always runs first, or right after another).
  auto done = [&cfg](const state& s) {
    const auto n = static_cast<int>(s.m.samples.size());
    return n >= cfg.repeat || (n >= cfg.min_runs && s.spent >= cfg.budget);
  };
  std::size_t round = 0;
  for (bool any = true, reverse = false; any; reverse = cfg.alternate_order && !reverse, ++round) {
    any = false;
    for (std::size_t k = 0; k < states.size(); ++k) {
      std::size_t at = reverse ? states.size() - 1 - k : k;
      if (cfg.rotate_followers && at != 0) at = 1 + (at - 1 + round) % (states.size() - 1);
      auto& s = states[at];
      if (!s.active || done(s)) {
        continue;
      }
      any = true;
      try {
        clock_type::duration elapsed{};
        if (!timed(s, s.m.batch, elapsed)) {
          s.m.note = "wrong result";
          s.m.samples.clear();
          s.active = false;
          continue;
        }
        record(s, elapsed);
      } catch (const std::exception& e) {
        s.m.note = std::string("error: ") + e.what();
        s.m.samples.clear();
        s.active = false;
      }
    }
  }

  std::vector<measurement> out;
  for (auto& s : states) {
    s.m.pool_threads_after = s.r->pool_threads ? s.r->pool_threads() : -1;
  }
  std::cerr << "  " << c.workload << ' ' << c.label << " (" << c.unit << "):";
  for (auto& s : states) {
    std::cerr << "  " << s.m.peer_id << ' '
              << (s.m.ok() ? peers::format_number(s.m.stats().median)
                           : (s.m.note.empty() ? "-" : s.m.note));
    out.push_back(std::move(s.m));
  }
  std::cerr << '\n';
  return out;
}

/// Iterations of peers::spin that take about `target` on this thread (the
/// fastest of a few tries, so a busy moment does not inflate it).
inline std::uint64_t calibrate_spin(microseconds target) {
  constexpr std::uint64_t trial = 1u << 20;
  double best = 1e300;
  std::uint64_t sink = 0;
  for (int k = 0; k < 5; ++k) {
    const auto start = clock_type::now();
    sink += peers::spin(trial, static_cast<std::uint64_t>(k));
    best = std::min(best, to_ns(clock_type::now() - start));
  }
  if (sink == 42) {  // keeps the calls alive; practically never true
    std::cerr << "";
  }
  const double per_iteration = best / static_cast<double>(trial);
  return static_cast<std::uint64_t>(static_cast<double>(std::chrono::nanoseconds(target).count()) /
                                    per_iteration);
}

struct probe_record {
  std::string kind;  // threads, rss, w5
  std::string peer_id;
  std::string peer_name;
  std::string shape;  // w5 only
  peers::child_result result;
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_HARNESS_HPP
