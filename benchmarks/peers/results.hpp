// What one run of settle_peers found: the machine, every measurement and
// probe, and the targets evaluated on them.
#ifndef SETTLE_BENCHMARKS_PEERS_RESULTS_HPP
#define SETTLE_BENCHMARKS_PEERS_RESULTS_HPP

#include "harness.hpp"
#include "report.hpp"

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/utsname.h>

namespace peers {

struct machine_info {
  std::size_t cores = hardware_cores();
  std::string cpu = peers::cpu_model();
  std::string system;
  std::string compiler;
  std::string build;
  std::string load_start;
  std::string load_end;
  // Share of the machine's CPU time that other processes used during the run.
  double others_share = 0;
  peers::cpu_times cpu_start = peers::machine_cpu_times();
  double own_start = peers::own_cpu_seconds();
};

inline machine_info describe_machine() {
  machine_info m;
  utsname u{};
  if (::uname(&u) == 0) {
    m.system = std::string(u.sysname) + " " + u.release + " " + u.machine;
  }
#if defined(__clang__)
  m.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  m.compiler = std::string("g++ ") + __VERSION__;
#else
  m.compiler = "unknown";
#endif
#if defined(SETTLE_PEERS_BUILD_TYPE)
  m.build = SETTLE_PEERS_BUILD_TYPE;
#endif
#if defined(__OPTIMIZE__)
  m.build += m.build.empty() ? "optimized" : ", optimized";
#else
  m.build += m.build.empty() ? "NOT optimized" : ", NOT optimized";
#endif
#if defined(NDEBUG)
  m.build += ", NDEBUG";
#endif
  m.load_start = peers::first_line("/proc/loadavg");
  return m;
}

/// Whether other processes took more than a quarter of the machine during the run.
inline bool busy(const machine_info& m) { return m.others_share > 0.25; }

struct target_row {
  std::string target;
  std::string measured;
  std::string verdict;  // met, NOT met, n/a, info
};

struct report {
  machine_info machine;
  options opts;
  config cfg;
  std::vector<std::string> peer_ids;
  std::map<std::string, std::string> peer_names;
  std::map<std::string, std::string> nesting_setups;
  std::vector<measurement> results;
  std::vector<probe_record> probes;
  std::vector<target_row> targets;
  std::vector<std::pair<std::string, long>> process_threads;  // after each timed cell

  [[nodiscard]] const measurement* find(const std::string& workload, const std::string& label,
                                        const std::string& peer) const {
    for (const auto& m : results) {
      if (m.where.workload == workload && m.where.label == label && m.peer_id == peer) {
        return &m;
      }
    }
    return nullptr;
  }
  [[nodiscard]] std::optional<double> median(const std::string& workload, const std::string& label,
                                             const std::string& peer) const {
    const auto* m = find(workload, label, peer);
    if (m == nullptr || !m->ok()) {
      return std::nullopt;
    }
    return m->stats().median;
  }
  /// The fastest run of `peer` over the fastest of settle's plain call in one cell, as
  /// text, or "-" when either is missing.
  [[nodiscard]] std::string fastest_ratio_text(const std::string& workload,
                                               const std::string& label,
                                               const std::string& peer) const {
    const auto* plain = find(workload, label, "settle-default");
    const auto* other = find(workload, label, peer);
    if (plain == nullptr || other == nullptr || !plain->ok() || !other->ok()) {
      return "-";
    }
    return format_number(other->stats().min / plain->stats().min);
  }
  [[nodiscard]] const probe_record* probe(const std::string& kind, const std::string& peer,
                                          const std::string& shape = "") const {
    for (const auto& p : probes) {
      if (p.kind == kind && p.peer_id == peer && p.shape == shape) {
        return &p;
      }
    }
    return nullptr;
  }
};

inline std::string w1_label(int n) { return "n=" + std::to_string(n); }
inline std::string w3_label(int n) { return "N=" + std::to_string(n); }
inline std::string w4_label(const config& c) {
  return std::to_string(c.w4_tasks) + " x " +
         peers::format_number(static_cast<double>(c.w4_task.count()) / 1000) + " ms";
}
inline void evaluate_targets(report& r) {
  const auto& c = r.cfg;
  const std::string main_label = w1_label(c.w1_main);
  auto ratio_row = [&](const std::string& target, const std::string& workload,
                       const std::string& label, const std::string& other,
                       const std::string& other_name, double limit, const std::string& unit,
                       bool strictly_below = false) {
    target_row row{target, "", ""};
    const auto mine = r.median(workload, label, "settle-default");
    const auto theirs = r.median(workload, label, other);
    if (!mine || !theirs) {
      row.verdict = "n/a";
      row.measured = std::string(mine ? "" : "settle not measured; ") +
                     (theirs ? "" : other_name + " not measured");
      return row;
    }
    const double ratio = *mine / *theirs;
    row.measured = "settle " + peers::format_number(*mine) + " " + unit + ", " + other_name + " " +
                   peers::format_number(*theirs) + " " + unit + ": ratio " +
                   peers::format_number(ratio);
    row.verdict = (strictly_below ? ratio < limit : ratio <= limit) ? "met" : "NOT met";
    return row;
  };
  if (wanted(r.opts, "W1")) {
    r.targets.push_back(ratio_row("W1 " + main_label + ": ns/task <= 1.0 x oneTBB task_group", "W1",
                                  main_label, "tbb", "oneTBB", 1.0, "ns/task"));
    r.targets.push_back(ratio_row("W1 " + main_label + ": ns/task <= 0.05 x naive pool", "W1",
                                  main_label, "naive-pool", "naive pool", 0.05, "ns/task"));
  }
  if (wanted(r.opts, "W2")) {
    r.targets.push_back(ratio_row("W2: round trip <= 1.0 x oneTBB task_group", "W2", "3 tasks",
                                  "tbb", "oneTBB", 1.0, "µs"));
  }
  if (wanted(r.opts, "W3")) {
    const double block_ms = static_cast<double>(c.block.count()) / 1000;
    target_row row{"W3: wall <= 1.10 x " + peers::format_number(block_ms) + " ms for every N", "",
                   "met"};
    for (int n : c.w3_counts) {
      const auto m = r.median("W3", w3_label(n), "settle-default");
      row.measured += (row.measured.empty() ? "" : ", ") + w3_label(n) + ": " +
                      (m ? peers::format_number(*m) + " ms" : std::string("not measured"));
      if (!m) {
        row.verdict = "n/a";
      } else if (*m > 1.10 * block_ms && row.verdict != "n/a") {
        row.verdict = "NOT met";
      }
    }
    r.targets.push_back(row);
    r.targets.push_back(ratio_row("W3 N=100: wall below std::async", "W3", "N=100", "std-async",
                                  "std::async", 1.0, "ms", true));
  }
  if (wanted(r.opts, "W4")) {
    target_row row{"W4: speedup >= 1.85 on " + std::to_string(r.machine.cores) + " cores", "",
                   "n/a"};
    if (const auto s = r.median("W4", "speedup", "settle-default")) {
      row.measured = "speedup " + peers::format_number(*s);
      row.verdict = *s >= 1.85 ? "met" : "NOT met";
    }
    r.targets.push_back(row);
    // A wall time no longer than oneTBB's is a speedup at least oneTBB's.
    r.targets.push_back(ratio_row("W4: speedup >= oneTBB task_group's (wall <= 1.0 x)", "W4",
                                  w4_label(c), "tbb", "oneTBB", 1.0, "ms"));
  }
  if (wanted(r.opts, "W5")) {
    target_row row{"W5: nested all_settled completes on pools of 1, 2 and elastic size", "", "met"};
    auto add = [&](const std::string& peer, const std::string& shape, const std::string& what) {
      const auto* p = r.probe("w5", peer, shape);
      const std::string result = p == nullptr     ? "not run"
                                 : p->result.ok() ? p->result.get("result", "?")
                                                  : p->result.status;
      row.measured += (row.measured.empty() ? "" : ", ") + what + ": " + result;
      if (p == nullptr) {
        row.verdict = "n/a";
      } else if (result != "completes" && row.verdict != "n/a") {
        row.verdict = "NOT met";
      }
    };
    add("settle-pool", "1", "thread_pool(1)");
    add("settle-pool", "2", "thread_pool(2)");
    add("settle-pool", "elastic", "elastic thread_pool");
    add("settle-default", "elastic", "default_executor()");
    r.targets.push_back(row);
  }
  if (wanted(r.opts, "W1")) {
    target_row row{
        "threads alive right after W1 <= cores + 2 = " + std::to_string(r.machine.cores + 2), "",
        "n/a"};
    const long limit = static_cast<long>(r.machine.cores + 2);
    if (const auto* p = r.probe("threads", "settle-default"); p != nullptr && p->result.ok()) {
      const long threads = std::stol(p->result.get("threads", "-1"));
      row.measured = "fresh process after one W1 " + main_label + ": " + std::to_string(threads) +
                     " threads (main included), thread_count() " +
                     p->result.get("pool_threads", "?");
      row.verdict = threads >= 0 && threads <= limit ? "met" : "NOT met";
    }
    // The same pool after every timed W1 run in this process: repeated bursts must
    // not make it grow either.
    long most = -1;
    for (int n : c.w1_sizes) {
      if (const auto* m = r.find("W1", w1_label(n), "settle-default")) {
        most = std::max(most, m->pool_threads_after);
      }
    }
    if (most >= 0) {
      row.measured += (row.measured.empty() ? "" : "; ") +
                      std::string("this process after all timed W1 runs: ") + "thread_count() " +
                      std::to_string(most);
      if (most > limit) {
        row.verdict = "NOT met";
      }
    }
    r.targets.push_back(row);

    target_row flat{"W1 cost as work grows (ns/task should stay flat)", "", "info"};
    for (int n : c.w1_sizes) {
      const auto m = r.median("W1", w1_label(n), "settle-default");
      flat.measured += (flat.measured.empty() ? "" : ", ") + w1_label(n) + ": " +
                       (m ? peers::format_number(*m) : std::string("-"));
    }
    r.targets.push_back(flat);
  }
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_RESULTS_HPP
