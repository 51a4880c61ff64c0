// The output of settle_peers: markdown tables on stdout, or JSON.
#ifndef SETTLE_BENCHMARKS_PEERS_OUTPUT_HPP
#define SETTLE_BENCHMARKS_PEERS_OUTPUT_HPP

#include "harness.hpp"
#include "options_report.hpp"
#include "peers.hpp"
#include "pending_report.hpp"
#include "report.hpp"
#include "results.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace peers {

inline std::string cell_text(const measurement* m) {
  if (m == nullptr) {
    return "";
  }
  if (!m->ok()) {
    return m->note.empty() ? "-" : m->note;
  }
  return peers::format_summary(m->stats(), m->samples.size());
}

inline std::string w5_text(const probe_record* p) {
  if (p == nullptr) {
    return "";
  }
  if (!p->result.ok()) {
    return "probe " + p->result.status;
  }
  const auto result = p->result.get("result", "?");
  if (result == "completes") {
    return "completes (" + peers::format_number(std::stod(p->result.get("ms", "0"))) + " ms)";
  }
  return result;
}

inline double kb_to_mib(const std::string& kb) { return std::stod(kb) / 1024.0; }
inline void print_text(const report& r, std::ostream& out) {
  const auto& c = r.cfg;
  const auto& m = r.machine;
  out << "# settle_peers"
      << (r.opts.quick ? " (--quick smoke run: small sizes, not for comparison)" : "") << "\n\n";
  out << "- machine: " << m.cores << " cores (hardware_concurrency), " << m.cpu << ", " << m.system
      << "\n";
  out << "- build: " << m.compiler << ", " << m.build << "\n";
  out << "- peers: fixed pools have " << r.opts.threads << " threads";
  if (!peers::tbb_version().empty()) out << "; oneTBB " << peers::tbb_version();
  if (!peers::asio_version().empty()) out << "; Asio " << peers::asio_version();
  out << "\n";
  out << "- load average (1, 5, 15 min) at start: " << m.load_start << "; at end: " << m.load_end
      << "\n";
  out << "- other processes used " << peers::format_number(100 * m.others_share)
      << "% of the machine's CPU time during the run\n";
  if (busy(m)) {
    out << "- WARNING: the machine was busy: wake-up latencies (W1 at small sizes, W2) and the W4 "
           "speedup\n"
           "  are not representative of an idle machine\n";
  }
  out << "- cells: median of " << c.repeat << " timed runs (fewer, but at least " << c.min_runs
      << ", when a peer needs over " << std::chrono::duration_cast<milliseconds>(c.budget).count()
      << " ms for a cell), after one warm-up run; (min-max) in parentheses; runs of the peers "
         "interleaved;\n"
         "  operations shorter than "
      << std::chrono::duration_cast<microseconds>(c.sample_target).count()
      << " µs are repeated within a run and averaged\n\n";

  auto table = [&](const std::string& title, const std::string& workload,
                   const std::vector<std::string>& labels, const std::vector<std::string>& heads,
                   bool with_sequential = false) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> ids = r.peer_ids;
    if (with_sequential) {
      ids.insert(ids.begin(), "sequential");
    }
    for (const auto& id : ids) {
      std::vector<std::string> row{id == "sequential" ? "sequential (one thread)"
                                                      : r.peer_names.at(id)};
      bool any = false;
      for (const auto& label : labels) {
        const auto* cellm = r.find(workload, label, id);
        any = any || cellm != nullptr;
        row.push_back(cell_text(cellm));
      }
      if (any) {
        rows.push_back(row);
      }
    }
    if (rows.empty()) {
      return;
    }
    out << "## " << title << "\n\n";
    std::vector<std::string> header{"peer"};
    header.insert(header.end(), heads.begin(), heads.end());
    peers::print_table(out, header, rows);
  };

  if (wanted(r.opts, "W1")) {
    std::vector<std::string> labels;
    std::vector<std::string> heads;
    for (int n : c.w1_sizes) {
      labels.push_back(w1_label(n));
      heads.push_back(std::to_string(n) + " tasks");
    }
    table("W1: n tiny tasks (each returns i * 2), ns per task; settle: all_settled over a range",
          "W1", labels, heads);
  }
  if (wanted(r.opts, "W2")) {
    table("W2: 3 tiny tasks, round trip in µs; settle: variadic all_settled", "W2", {"3 tasks"},
          {"round trip, µs"});
  }
  if (wanted(r.opts, "W3")) {
    std::vector<std::string> labels;
    std::vector<std::string> heads;
    for (const auto* counts : {&c.w3_counts, &c.w3_wide_counts}) {
      for (int n : *counts) {
        labels.push_back(w3_label(n));
        heads.push_back(std::to_string(n) + " tasks");
      }
    }
    table("W3: N tasks that each block " +
              peers::format_number(static_cast<double>(c.block.count()) / 1000) +
              " ms (sleep_for), wall ms (ideal " +
              peers::format_number(static_cast<double>(c.block.count()) / 1000) +
              "); settle: variadic all_settled for 3, 5, 10 tasks, all_settled over a range for "
              "100 and more; over 100 tasks only the peers that start every task at once",
          "W3", labels, heads);
  }
  if (wanted(r.opts, "W4")) {
    table("W4: " + w4_label(c) + " CPU tasks, wall ms and speedup over the sequential run (ideal " +
              std::to_string(std::min<std::size_t>(m.cores, static_cast<std::size_t>(c.w4_tasks))) +
              "); settle: all over a range; the sequential run opens each round and the "
              "peers take turns to run right after it",
          "W4", {w4_label(c), "speedup"}, {"wall, ms", "speedup"}, true);
  }
  if (wanted(r.opts, "W5")) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& id : r.peer_ids) {
      std::vector<std::string> row{r.peer_names.at(id)};
      for (auto shape : all_shapes) {
        row.push_back(w5_text(r.probe("w5", id, w5_shape_name(shape))));
      }
      row.push_back(r.nesting_setups.at(id));
      rows.push_back(row);
    }
    out << "## W5: nested. Each outer task runs 2 subtasks on its own pool and waits for them "
           "(settle: all_settled "
           "on the same pool); as many outer tasks as the pool has threads, "
        << m.cores + 2 << " on the elastic/default shape; child process, deadline "
        << c.w5_deadline.count() << " ms\n\n";
    peers::print_table(out, {"peer", "pool of 1", "pool of 2", "elastic / default", "pools used"},
                       rows);
  }
  print_option_tables(r, out);
  print_pending_tables(r, out);
  if (wanted(r.opts, "W1") || wanted(r.opts, "W3")) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& id : r.peer_ids) {
      std::vector<std::string> row{r.peer_names.at(id)};
      const auto* t = r.probe("threads", id);
      if (t == nullptr) {
        row.insert(row.end(), {"", ""});
      } else if (!t->result.ok()) {
        row.insert(row.end(), {"probe " + t->result.status, ""});
      } else {
        const auto pool = t->result.get("pool_threads", "-1");
        row.push_back(t->result.get("threads", "?"));
        row.push_back(pool == "-1" ? "" : pool);
      }
      const auto* s = r.probe("rss", id);
      if (s == nullptr) {
        row.insert(row.end(), {"", "", ""});
      } else if (!s->result.ok()) {
        row.insert(row.end(), {"probe " + s->result.status, "", ""});
      } else {
        const double peak = kb_to_mib(s->result.get("hwm_kb", "0"));
        const double before = kb_to_mib(s->result.get("rss_before_kb", "0"));
        row.push_back(peers::format_number(peak) + " (+" + peers::format_number(peak - before) +
                      ")");
        const auto pool = s->result.get("pool_threads", "-1");
        row.push_back(s->result.get("threads_after", "?") +
                      (pool == "-1" ? "" : " (pool " + pool + ")"));
      }
      rows.push_back(row);
    }
    out << "## Threads and memory, each measured in a fresh child process that runs only that "
           "workload once\n\n";
    peers::print_table(
        out,
        {"peer", "threads right after W1 " + w1_label(c.w1_main) + " (process, main included)",
         "settle thread_count() after W1", "peak RSS for W3 N=100, MiB (+ growth over RSS before)",
         "threads right after W3 N=100"},
        rows);
    out << "Each probe is this program started again (posix_spawn of /proc/self/exe), so no "
           "peer inherits\nanother's threads or memory. Peak RSS is the child's VmHWM after the "
           "run; the growth is VmHWM\nminus VmRSS just before the run (the peer already set "
           "up).\n\n";
  }

  if (!r.process_threads.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [where, threads] : r.process_threads) {
      const auto space = where.find(' ');
      std::vector<std::string> row{where};
      for (const std::string id : {"settle-default", "settle-pool"}) {
        const auto* x = r.find(where.substr(0, space), where.substr(space + 1), id);
        row.push_back(
            x == nullptr || x->pool_threads_after < 0 ? "" : std::to_string(x->pool_threads_after));
      }
      row.push_back(std::to_string(threads));
      rows.push_back(row);
    }
    out << "## Threads alive in this process after each timed cell, in run order\n\n";
    peers::print_table(
        out,
        {"after", "settle default_executor() thread_count()", "settle thread_pool thread_count()",
         "process threads (every peer's pool, main included)"},
        rows);
  }

  // The summary, in the shape of the table.
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& id : r.peer_ids) {
      std::vector<std::string> row{r.peer_names.at(id)};
      auto med = [&](const std::string& w, const std::string& l) {
        const auto v = r.median(w, l, id);
        return v ? peers::format_number(*v) : std::string("-");
      };
      row.push_back(med("W1", w1_label(c.w1_main)));
      row.push_back(med("W2", "3 tasks"));
      row.push_back(med("W3", "N=100"));
      row.push_back(med("W4", "speedup"));
      std::string nested;
      bool all_complete = true;
      bool any = false;
      for (auto shape : all_shapes) {
        const auto* p = r.probe("w5", id, w5_shape_name(shape));
        if (p == nullptr) {
          continue;
        }
        const auto result = p->result.ok() ? p->result.get("result", "?") : p->result.status;
        if (result == "n/a") {
          continue;
        }
        any = true;
        all_complete = all_complete && result == "completes";
        nested += (nested.empty() ? "" : ", ") + w5_shape_name(shape) + ": " + result;
      }
      row.push_back(!any ? "-" : all_complete ? "completes" : nested);
      rows.push_back(row);
    }
    out << "## Summary\n\n";
    peers::print_table(
        out,
        {"peer", std::to_string(c.w1_main) + " tiny tasks, ns/task",
         "3-task fan-out round trip, µs",
         "100 tasks that block " +
             peers::format_number(static_cast<double>(c.block.count()) / 1000) + " ms, wall ms",
         w4_label(c) + " CPU tasks, speedup", "task waiting on subtasks of its own pool"},
        rows);
  }

  if (!r.targets.empty()) {
    out << "## Targets (settle default executor; ratios from this run)\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : r.targets) {
      rows.push_back({t.target, t.measured, t.verdict});
    }
    peers::print_table(out, {"target", "measured", "verdict"}, rows);
  }
}

inline void print_json(const report& r, std::ostream& out) {
  using peers::json_number;
  using peers::json_string;
  const auto& m = r.machine;
  const auto& c = r.cfg;
  std::string wide;
  for (int n : c.w3_wide_counts) {
    wide += (wide.empty() ? "" : ", ") + std::to_string(n);
  }
  out << "{\n  \"program\": \"settle_peers\",\n";
  out << "  \"machine\": {\"cores\": " << m.cores << ", \"cpu\": " << json_string(m.cpu)
      << ", \"system\": " << json_string(m.system) << ", \"compiler\": " << json_string(m.compiler)
      << ", \"build\": " << json_string(m.build)
      << ", \"load_start\": " << json_string(m.load_start)
      << ", \"load_end\": " << json_string(m.load_end)
      << ", \"others_cpu_share\": " << json_number(m.others_share) << "},\n";
  out << "  \"config\": {\"quick\": " << (r.opts.quick ? "true" : "false")
      << ", \"repeat\": " << c.repeat << ", \"min_runs\": " << c.min_runs
      << ", \"pool_threads\": " << r.opts.threads
      << ", \"block_ms\": " << json_number(static_cast<double>(c.block.count()) / 1000)
      << ", \"cpu_task_ms\": " << json_number(static_cast<double>(c.w4_task.count()) / 1000)
      << ", \"w5_deadline_ms\": " << c.w5_deadline.count() << ", \"w3_wide_counts\": [" << wide
      << "], \"w6_tasks\": " << c.w6_tasks << ", \"w6_limit\": " << c.w6_limit
      << ", \"w6_block_ms\": " << json_number(static_cast<double>(c.w6_block.count()) / 1000)
      << ", \"w6_ideal_ms\": " << json_number(w6_ideal_ms(c)) << ", \"w7_tasks\": " << c.w7_tasks
      << ", \"w7_timeout_ms\": " << c.w7_timeout.count() << ", \"w8_tasks\": " << c.w8_tasks
      << ", \"w9_coroutines\": " << c.w9_coroutines << ", \"latency_repeat\": " << c.latency_repeat
      << ", \"nr_repeat\": " << c.nr_repeat << ", \"tbb\": " << json_string(peers::tbb_version())
      << ", \"asio\": " << json_string(peers::asio_version()) << "},\n";
  out << "  \"results\": [";
  bool first = true;
  for (const auto& x : r.results) {
    const auto s = x.stats();
    out << (first ? "\n" : ",\n") << "    {\"workload\": " << json_string(x.where.workload)
        << ", \"case\": " << json_string(x.where.label)
        << ", \"unit\": " << json_string(x.where.unit) << ", \"peer\": " << json_string(x.peer_id)
        << ", \"peer_name\": " << json_string(x.peer_name);
    if (x.ok()) {
      out << ", \"median\": " << json_number(s.median) << ", \"min\": " << json_number(s.min)
          << ", \"max\": " << json_number(s.max) << ", \"runs\": " << x.samples.size()
          << ", \"batch\": " << x.batch << ", \"samples\": [";
      for (std::size_t i = 0; i < x.samples.size(); ++i) {
        out << (i ? ", " : "") << json_number(x.samples[i]);
      }
      out << "]";
    }
    out << ", \"pool_threads_before\": " << x.pool_threads_before
        << ", \"pool_threads_after\": " << x.pool_threads_after
        << ", \"note\": " << json_string(x.note) << "}";
    first = false;
  }
  out << "\n  ],\n  \"probes\": [";
  first = true;
  for (const auto& p : r.probes) {
    out << (first ? "\n" : ",\n") << "    {\"kind\": " << json_string(p.kind)
        << ", \"peer\": " << json_string(p.peer_id) << ", \"shape\": " << json_string(p.shape)
        << ", \"status\": " << json_string(p.result.status) << ", \"values\": {";
    bool first_value = true;
    for (const auto& [key, value] : p.result.values) {
      out << (first_value ? "" : ", ") << json_string(key) << ": " << json_string(value);
      first_value = false;
    }
    out << "}}";
    first = false;
  }
  out << "\n  ],\n  \"process_threads_after_cell\": [";
  first = true;
  for (const auto& [where, threads] : r.process_threads) {
    out << (first ? "\n" : ",\n") << "    {\"cell\": " << json_string(where)
        << ", \"threads\": " << threads << "}";
    first = false;
  }
  out << "\n  ],\n  \"targets\": [";
  first = true;
  for (const auto& t : r.targets) {
    out << (first ? "\n" : ",\n") << "    {\"target\": " << json_string(t.target)
        << ", \"measured\": " << json_string(t.measured)
        << ", \"verdict\": " << json_string(t.verdict) << "}";
    first = false;
  }
  out << "\n  ]\n}\n";
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_OUTPUT_HPP
