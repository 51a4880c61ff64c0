// Start now, collect later's part of the report (W9a, W9b): its targets, evaluated on one
// run, and its tables. Its measurements and its probe are in the report's results and
// probes, so the JSON output needs nothing more.
#ifndef SETTLE_BENCHMARKS_PEERS_PENDING_REPORT_HPP
#define SETTLE_BENCHMARKS_PEERS_PENDING_REPORT_HPP

#include "harness.hpp"
#include "pending_cells.hpp"
#include "report.hpp"
#include "results.hpp"

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace peers {

inline constexpr double w9a_target = 1.5;  // start + get <= this x the plain call

/// The largest of a crowd's per-run readings, if it has any.
inline std::optional<double> w9_most(const report& r, const std::string& label) {
  const auto* m = r.find("W9b", label, "settle-default");
  if (m == nullptr || !m->ok()) {
    return std::nullopt;
  }
  return m->stats().max;
}

/// The W9b probe: "N threads with all started, M once all ended (main included),
/// thread_count() K".
inline std::string w9_probe_text(const report& r) {
  const auto* p = r.probe("w9", "settle-default");
  if (p == nullptr) {
    return "";
  }
  if (!p->result.ok()) {
    return "probe " + p->result.status;
  }
  return p->result.get("threads_started", "?") + " threads with all started (" +
         p->result.get("threads_before", "?") + " before), " + p->result.get("threads", "?") +
         " once all ended (main included), thread_count() " + p->result.get("pool_threads", "?") +
         ", " + p->result.get("awaiting", "?") + " awaiting when the last was started";
}

inline void evaluate_pending_targets(report& r) {
  if (!wanted(r.opts, "W9")) {
    return;
  }
  const auto& c = r.cfg;
  {
    target_row row{"W9a " + w9a_label + ": round trip <= " + format_number(w9a_target) +
                       " x the plain all_settled(a, b, c), runs interleaved",
                   "", "n/a"};
    const auto plain = r.median("W9a", w9a_label, "settle-default");
    const auto started = r.median("W9a", w9a_label, w9_start_peer);
    if (plain && started) {
      const double ratio = *started / *plain;
      row.measured =
          "plain " + format_number(*plain) + " µs, start + get " + format_number(*started) +
          " µs: ratio " + format_number(ratio) +
          " (of the fastest runs: " + r.fastest_ratio_text("W9a", w9a_label, w9_start_peer) + ")";
      row.verdict = ratio <= w9a_target ? "met" : "NOT met";
    }
    r.targets.push_back(row);
  }
  {
    target_row row{"W9b " + w9b_label +
                       ": start to the coroutine's end, resumed on the thread that finished "
                       "the call, beside the plain call",
                   "", "info"};
    const auto plain = r.median("W9b", w9b_label, "settle-default");
    const auto awaited = r.median("W9b", w9b_label, w9_co_await_peer);
    if (plain && awaited) {
      row.measured = "plain " + format_number(*plain) + " µs, co_await " + format_number(*awaited) +
                     " µs: ratio " + format_number(*awaited / *plain) + " (of the fastest runs: " +
                     r.fastest_ratio_text("W9b", w9b_label, w9_co_await_peer) + ")";
      if (const auto share = r.median("W9b", w9b_elsewhere_label, w9_co_await_peer)) {
        row.measured += "; resumed on another thread in " + format_number(*share) + " % of runs";
      }
    }
    r.targets.push_back(row);
  }
  const std::string crowd = w9b_crowd_label(c);
  {
    target_row row{"W9b " + crowd + " awaiting at once (all started, then waited for): wall", "",
                   "info"};
    if (const auto* m = r.find("W9b", crowd, "settle-default"); m != nullptr && m->ok()) {
      const auto s = m->stats();
      row.measured = format_number(s.median) + " ms (" + format_number(s.min) + "-" +
                     format_number(s.max) + "), " +
                     format_number(1000 * s.median / c.w9_coroutines) + " µs per coroutine";
      if (const auto a = r.median("W9b", w9b_crowd_label(c, w9b_awaiting), "settle-default")) {
        row.measured += "; " + format_number(*a) + " still awaiting when the last was started";
      }
    }
    r.targets.push_back(row);
  }
  {
    const long limit = static_cast<long>(r.machine.cores + 2);
    // In this process the default executor may still hold the threads W3 grew it to: what
    // counts here is what awaiting adds. The fresh process shows the absolute figures.
    target_row row{
        "W9b: awaiting costs no thread: with " + crowd +
            " awaiting and after, threads gained <= cores + 2 = " + std::to_string(limit) +
            " and thread_count() no higher than before or that; in a fresh "
            "process, threads and thread_count() <= " +
            std::to_string(limit),
        "", "n/a"};
    const auto gained = w9_most(r, w9b_crowd_label(c, w9b_gained_started));
    const auto gained_after = w9_most(r, w9b_crowd_label(c, w9b_gained_after));
    const auto pool = w9_most(r, w9b_crowd_label(c, w9b_pool_started));
    const auto* wall = r.find("W9b", crowd, "settle-default");
    if (gained && gained_after && pool && wall != nullptr) {
      const long after = wall->pool_threads_after;
      const long before = wall->pool_threads_before;
      const auto runs = std::to_string(wall->samples.size());
      row.measured = "this process, most over " + runs + " runs: +" + format_number(*gained) +
                     " threads with all started, +" + format_number(*gained_after) +
                     " once all ended; thread_count() " + std::to_string(before) +
                     " before the cell, at most " + format_number(*pool) + " with all started, " +
                     std::to_string(after) + " after";
      const long ceiling = std::max(before, limit);
      bool met = *gained <= static_cast<double>(limit) &&
                 *gained_after <= static_cast<double>(limit) &&
                 *pool <= static_cast<double>(ceiling) && after <= ceiling;
      if (const auto* p = r.probe("w9", "settle-default"); p != nullptr) {
        row.measured += "; fresh process: " + w9_probe_text(r);
        if (p->result.ok()) {
          for (const char* key : {"threads_started", "threads", "pool_threads"}) {
            met = met && std::stol(p->result.get(key, "-1")) <= limit &&
                  std::stol(p->result.get(key, "-1")) >= 0;
          }
        } else {
          met = false;
        }
      }
      row.verdict = met ? "met" : "NOT met";
    }
    r.targets.push_back(row);
  }
}

inline void print_pending_tables(const report& r, std::ostream& out) {
  const auto& c = r.cfg;
  if (!wanted(r.opts, "W9") || r.find("W9a", w9a_label, "settle-default") == nullptr) {
    return;
  }
  auto text = [&](const std::string& w, const std::string& l, const std::string& peer) {
    const auto* m = r.find(w, l, peer);
    if (m == nullptr) {
      return std::string("-");
    }
    if (!m->ok()) {
      return m->note.empty() ? std::string("-") : m->note;
    }
    return format_summary(m->stats(), m->samples.size());
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& [workload, label, peer] :
       {std::tuple<std::string, std::string, std::string>{"W9a", w9a_label, w9_start_peer},
        {"W9b", w9b_label, w9_co_await_peer}}) {
    const auto plain = r.median(workload, label, "settle-default");
    const auto other = r.median(workload, label, peer);
    rows.push_back({workload + " " + label, text(workload, label, "settle-default"),
                    text(workload, label, peer),
                    plain && other ? format_number(*other / *plain) : "-",
                    r.fastest_ratio_text(workload, label, peer)});
  }
  out << "## W9: start now, collect later: W2's 3 tiny tasks, round trip in µs, beside the plain "
         "all_settled(a, b, c) (default executor; runs of the two interleaved, "
      << c.nr_repeat << " each)\n\n";
  print_table(out,
              {"case", "plain", "started",
               "ratio of the medians (W9a target <= " + format_number(w9a_target) + ")",
               "ratio of the fastest runs"},
              rows);
  out << "W9a: settle::start(settle::all_settled, a, b, c), then get(). W9b: an eager coroutine "
         "co_awaits it; from before the start until the coroutine, resumed on the thread that "
         "finished the call, has ended and woken the benchmark thread (resumed on another "
         "thread in "
      << text("W9b", w9b_elsewhere_label, w9_co_await_peer)
      << " % of runs; the others found the call finished at the co_await).\n\n";

  const std::string crowd = w9b_crowd_label(c);
  if (r.find("W9b", crowd, "settle-default") == nullptr) {
    return;
  }
  auto reading = [&](const std::string& what) {
    return text("W9b", w9b_crowd_label(c, what), "settle-default");
  };
  const auto* wall = r.find("W9b", crowd, "settle-default");
  out << "## W9b: " << crowd
      << " started in a row on one thread, each co_awaiting settle::start(settle::all_settled, "
         "a, b, c) on the default executor, then waited for; per run (median (min-max))\n\n";
  print_table(out,
              {"wall, ms", "awaiting when the last was started", "threads gained, all started",
               "threads gained, all ended", "thread_count(), all started",
               "thread_count() before -> after the cell", "fresh process"},
              {{text("W9b", crowd, "settle-default"), reading(w9b_awaiting),
                reading(w9b_gained_started), reading(w9b_gained_after), reading(w9b_pool_started),
                std::to_string(wall->pool_threads_before) + " -> " +
                    std::to_string(wall->pool_threads_after),
                w9_probe_text(r)}});
  out << "Threads gained: /proc/self/status Threads: minus its value just before the run (the "
         "other peers' pools included in both). The wall time leaves out the reading taken "
         "when the last coroutine has been started.\n\n";
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_PENDING_REPORT_HPP
