// The call options' part of the report (W6, W7, W8, NR, and W3 at its wide sizes): their
// targets, evaluated on one run, and their tables. Their measurements and probes are in
// the report's results and probes, so the JSON output needs nothing more.
#ifndef SETTLE_BENCHMARKS_PEERS_OPTIONS_REPORT_HPP
#define SETTLE_BENCHMARKS_PEERS_OPTIONS_REPORT_HPP

#include "harness.hpp"
#include "options_cells.hpp"
#include "report.hpp"
#include "results.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace peers {

inline constexpr double w6_target = 1.15;    // wall <= this x the ideal
inline constexpr double w7_slack_ms = 2;     // wall <= the timeout + this
inline constexpr double w8_target_ms = 0.5;  // request_stop() to return
inline constexpr double nr_target = 1.10;    // options{} <= this x plain

/// "50 in all 8 runs", or "median (min-max) over k runs".
inline std::string peak_text(const measurement* m) {
  if (m == nullptr || !m->ok()) {
    return m == nullptr ? "" : (m->note.empty() ? "-" : m->note);
  }
  const auto s = m->stats();
  const auto runs = std::to_string(m->samples.size());
  auto count = [](double v) { return std::to_string(static_cast<long>(v)); };
  if (m->samples.size() == 1) {
    return count(s.min);
  }
  if (s.min == s.max) {
    return count(s.min) + " in all " + runs + " runs";
  }
  return format_number(s.median) + " (" + count(s.min) + "-" + count(s.max) + ") over " + runs +
         " runs";
}

/// W6's peaks of a variant: the timed runs', then the warm-up's in parentheses.
inline std::string peak_with_warm_up(const report& r, const std::string& peer) {
  const auto* timed = r.find("W6", w6_peak_label, peer);
  const auto* warm = r.find("W6", w6_warm_peak_label, peer);
  if (timed == nullptr || !timed->ok()) {
    return "";
  }
  return peak_text(timed) + (warm != nullptr && warm->ok() ? " (" + peak_text(warm) + ")" : "");
}

/// The W6 probe: "N threads (main included), thread_count() M".
inline std::string w6_probe_text(const report& r) {
  const auto* p = r.probe("w6", "settle-default");
  if (p == nullptr) {
    return "";
  }
  if (!p->result.ok()) {
    return "probe " + p->result.status;
  }
  return p->result.get("threads", "?") + " threads (main included), thread_count() " +
         p->result.get("pool_threads", "?") + ", peak " + p->result.get("peak", "?");
}

/// The no-regression cells: label and unit.
inline std::vector<std::pair<std::string, std::string>> nr_cases(const config& c) {
  return {{nr_w1_label(c), "ns/task"}, {nr_w2_label, "µs"}};
}

/// The ratio options{} / plain of the fastest runs of a no-regression cell, or "-".
inline std::string min_ratio_text(const report& r, const std::string& label) {
  return r.fastest_ratio_text("NR", label, "settle-default-options");
}

inline void evaluate_option_targets(report& r) {
  const auto& c = r.cfg;
  auto measured = [&](const std::string& w, const std::string& l, const std::string& peer) {
    return r.median(w, l, peer);
  };
  if (wanted(r.opts, "W6")) {
    const double ideal = w6_ideal_ms(c);
    target_row row{"W6 " + w6_label(c) + ": wall <= " + format_number(w6_target) + " x ideal " +
                       format_number(ideal) + " ms",
                   "", "n/a"};
    if (const auto m = measured("W6", w6_label(c), "settle-default")) {
      row.measured = "settle " + format_number(*m) + " ms: ratio " + format_number(*m / ideal);
      row.verdict = *m <= w6_target * ideal ? "met" : "NOT met";
      if (const auto a = measured("W6", w6_label(c), "std-async")) {
        row.measured += "; std::async + semaphore " + format_number(*a) + " ms: ratio " +
                        format_number(*a / ideal);
      }
      if (const auto h = measured("W6", w6_label(c), w6_gang_id(c))) {
        row.measured += "; " + std::to_string(c.w6_limit) + " threads by hand " +
                        format_number(*h) + " ms: settle / by hand " + format_number(*m / *h);
      }
      if (const auto f = measured("W6", w6_label(c), "sleep-chain")) {
        row.measured += "; one runner's sleeps in a row " + format_number(*f) + " ms";
      }
    }
    r.targets.push_back(row);

    target_row peak{"W6: peak running is exactly " + std::to_string(c.w6_limit) +
                        " in every timed run (never more: the limit)",
                    "", "n/a"};
    if (const auto* m = r.find("W6", w6_peak_label, "settle-default"); m != nullptr && m->ok()) {
      const auto s = m->stats();
      peak.measured = "settle " + peak_text(m) + " (warm-up: " +
                      peak_text(r.find("W6", w6_warm_peak_label, "settle-default")) + ")";
      peak.verdict = s.min == c.w6_limit && s.max == c.w6_limit ? "met" : "NOT met";
      if (const auto* a = r.find("W6", w6_peak_label, "std-async")) {
        peak.measured += "; std::async + semaphore " + peak_text(a);
      }
    }
    r.targets.push_back(peak);

    target_row threads{"W6: threads alive after (SPEC §5: the pool grows no further than " +
                           std::to_string(c.w6_limit) + " running tasks need)",
                       "", "info"};
    if (const auto* m = r.find("W6", w6_label(c), "settle-default")) {
      threads.measured = "this process: thread_count() " + std::to_string(m->pool_threads_before) +
                         " before the cell, " + std::to_string(m->pool_threads_after) + " after";
    }
    if (const auto text = w6_probe_text(r); !text.empty()) {
      threads.measured += (threads.measured.empty() ? "" : "; ") +
                          std::string("fresh process after one run: ") + text;
    }
    r.targets.push_back(threads);
  }
  if (wanted(r.opts, "W7")) {
    const double limit = static_cast<double>(c.w7_timeout.count()) + w7_slack_ms;
    target_row row{"W7 " + w7_label(c) + ", tasks on a condition variable: median wall <= " +
                       format_number(limit) + " ms",
                   "", "n/a"};
    if (const auto m = measured("W7", w7_label(c), "settle-default")) {
      row.measured = format_number(*m) + " ms";
      row.verdict = *m <= limit ? "met" : "NOT met";
      if (const auto p = measured("W7", w7_label(c), "settle-default-poll")) {
        row.measured += " (tasks polling every 100 µs: " + format_number(*p) + " ms)";
      }
    }
    r.targets.push_back(row);
  }
  if (wanted(r.opts, "W8")) {
    target_row row{"W8 stop latency, " + w8_label(c) + ": request_stop() to return, median <= " +
                       format_number(w8_target_ms) + " ms",
                   "", "n/a"};
    if (const auto* m = r.find("W8", w8_label(c), "settle-default"); m != nullptr && m->ok()) {
      const auto s = m->stats();
      row.measured = format_number(s.median) + " ms (" + format_number(s.min) + "-" +
                     format_number(s.max) + ")";
      row.verdict = s.median <= w8_target_ms ? "met" : "NOT met";
    }
    r.targets.push_back(row);
  }
  if (wanted(r.opts, "NR")) {
    for (const auto& [label, unit] : nr_cases(c)) {
      target_row row{"no regression, " + label + ": options{} within " +
                         format_number(100 * (nr_target - 1)) + " % of the plain form",
                     "", "n/a"};
      const auto plain = measured("NR", label, "settle-default");
      const auto with = measured("NR", label, "settle-default-options");
      if (plain && with) {
        const double ratio = *with / *plain;
        row.measured = "plain " + format_number(*plain) + " " + unit + ", options{} " +
                       format_number(*with) + " " + unit + ": ratio " + format_number(ratio) +
                       " (of the fastest runs: " + min_ratio_text(r, label) + ")";
        row.verdict = ratio <= nr_target ? "met" : "NOT met";
      }
      r.targets.push_back(row);
    }
  }
  if (wanted(r.opts, "W3")) {
    for (int n : c.w3_wide_counts) {
      target_row row{"W3 " + w3_label(n) + ": settle beside std::async", "", "info"};
      const auto s = measured("W3", w3_label(n), "settle-default");
      const auto a = measured("W3", w3_label(n), "std-async");
      const double block_ms = static_cast<double>(c.block.count()) / 1000;
      if (s) {
        row.measured = "settle " + format_number(*s) + " ms (" + format_number(*s / block_ms) +
                       " x the block)";
      }
      if (a) {
        row.measured += (s ? ", " : "") + std::string("std::async ") + format_number(*a) + " ms (" +
                        format_number(*a / block_ms) + " x)";
      }
      if (s && a) {
        row.measured += ": ratio " + format_number(*s / *a);
      }
      r.targets.push_back(row);
    }
  }
}

inline void print_option_tables(const report& r, std::ostream& out) {
  const auto& c = r.cfg;
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
  auto name = [&](const std::string& w, const std::string& l, const std::string& peer) {
    const auto* m = r.find(w, l, peer);
    return m == nullptr ? peer : m->peer_name;
  };
  // A section only for the cells that ran (they need settle-default among the peers).
  auto ran = [&r](const std::string& w, const std::string& l) {
    return wanted(r.opts, w) && r.find(w, l, "settle-default") != nullptr;
  };
  if (ran("W6", w6_label(c))) {
    const double ideal = w6_ideal_ms(c);
    std::vector<std::vector<std::string>> rows;
    for (const std::string& peer :
         std::vector<std::string>{"settle-default", "std-async", w6_gang_id(c), "sleep-chain"}) {
      const auto median = r.median("W6", w6_label(c), peer);
      const auto* m = r.find("W6", w6_label(c), peer);
      const bool pool = m != nullptr && m->pool_threads_after >= 0;
      rows.push_back({name("W6", w6_label(c), peer), text("W6", w6_label(c), peer),
                      median ? format_number(*median / ideal) : "-", peak_with_warm_up(r, peer),
                      pool ? std::to_string(m->pool_threads_before) + " -> " +
                                 std::to_string(m->pool_threads_after)
                           : "",
                      peer == "settle-default" ? w6_probe_text(r) : ""});
    }
    out << "## W6: limited map: " << c.w6_tasks << " tasks that each block "
        << format_number(static_cast<double>(c.w6_block.count()) / 1000)
        << " ms (sleep_for), at most " << c.w6_limit << " at a time; wall ms (ideal "
        << format_number(ideal) << "); settle: all_settled(settle::limit(" << c.w6_limit
        << "), ids, fn)\n\n";
    print_table(
        out,
        {"peer", "wall, ms", "wall / ideal", "peak running: timed runs (warm-up)",
         "thread_count() before -> after the cell, this process", "fresh process after one run"},
        rows);
  }
  if (ran("W7", w7_label(c))) {
    std::vector<std::vector<std::string>> rows;
    for (const std::string peer : {"settle-default", "settle-default-poll"}) {
      const auto median = r.median("W7", w7_label(c), peer);
      rows.push_back(
          {name("W7", w7_label(c), peer), text("W7", w7_label(c), peer),
           median ? format_number(*median - static_cast<double>(c.w7_timeout.count())) : "-"});
    }
    out << "## W7: deadline: " << c.w7_tasks
        << " tasks that wait on their stop token, all_settled(settle::timeout("
        << c.w7_timeout.count() << " ms), tasks); wall ms (target <= "
        << format_number(static_cast<double>(c.w7_timeout.count()) + w7_slack_ms) << ")\n\n";
    print_table(out, {"tasks", "wall, ms", "median past the deadline, ms"}, rows);
  }
  if (ran("W8", w8_label(c))) {
    out << "## W8: stop latency: " << c.w8_tasks
        << " running tasks wait on a condition_variable_any with their token; another thread "
           "calls request_stop() on the source given with settle::stop_on; ms from just before "
           "request_stop() to the call's return (target <= "
        << format_number(w8_target_ms) << ")\n\n";
    print_table(
        out, {"tasks", "request_stop() to return, ms"},
        {{name("W8", w8_label(c), "settle-default"), text("W8", w8_label(c), "settle-default")}});
  }
  if (ran("NR", nr_w1_label(c))) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [label, unit] : nr_cases(c)) {
      const auto plain = r.median("NR", label, "settle-default");
      const auto with = r.median("NR", label, "settle-default-options");
      rows.push_back({label + ", " + unit, text("NR", label, "settle-default"),
                      text("NR", label, "settle-default-options"),
                      plain && with ? format_number(*with / *plain) : "-",
                      min_ratio_text(r, label)});
    }
    out << "## No regression: the plain forms beside the same calls with settle::options{} "
           "passed explicitly (default executor; runs of the two interleaved, "
        << c.nr_repeat << " each)\n\n";
    print_table(out,
                {"case", "plain", "options{}",
                 "ratio of the medians (target <= " + format_number(nr_target) + ")",
                 "ratio of the fastest runs"},
                rows);
  }
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_OPTIONS_REPORT_HPP
