// Pictures of one benchmark row: when each operation ran, sequential above parallel
// on one time axis. An SVG file (standard library only) and a terminal rendering.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace settle_bench {

struct timeline_info {
  std::string title;     // e.g. "10 operations x 100 ms of simulated I/O"
  std::string subtitle;  // the machine
  std::string sequential_label;
  std::string parallel_label;
};

namespace detail {

/// A step of 1, 2 or 5 times a power of ten that cuts [0, span] into at most 10 ticks.
inline double nice_step(double span) {
  const double raw = span / 10.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw > 0 ? raw : 1.0)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10.0 * p;
}

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

inline std::string fmt(double v, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace detail

/// Writes the SVG; returns false when the file cannot be written.
inline bool write_timeline_svg(const std::string& path, const timeline_info& info, const trace& seq,
                               const trace& par) {
  using detail::fmt;
  using detail::xml_escape;
  const std::size_t n = std::max(seq.spans.size(), par.spans.size());
  const double seq_ms = seq.total_ms(), par_ms = par.total_ms();
  // The axis ends where the slower run ended, so its last bar touches the right edge.
  const double axis_ms = std::max({seq_ms, par_ms, 1.0});
  const double step = detail::nice_step(axis_ms);

  const double left = 118, plot_w = 600, right = 90;
  const double row_h = std::clamp(360.0 / static_cast<double>(n ? n : 1), 3.0, 16.0);
  const double bar_h = row_h > 6 ? row_h - 3 : row_h - 1;
  const double top = 64, panel_gap = 34;
  const double panel_h = row_h * static_cast<double>(n);
  const double seq_y = top + 18, par_y = seq_y + panel_h + panel_gap;
  const double axis_y = par_y + panel_h + 8;
  const double width = left + plot_w + right, height = axis_y + 44;
  auto x_of = [&](double ms) { return left + plot_w * ms / axis_ms; };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"sans-serif\" "
    << "font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    << "<text x=\"12\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" << xml_escape(info.title)
    << "</text>\n"
    << "<text x=\"12\" y=\"40\" fill=\"#555555\">" << xml_escape(info.subtitle) << "</text>\n";

  // Grid lines and tick labels, shared by both panels: one time axis.
  for (double t = 0; t <= axis_ms + step / 100; t += step) {
    s << "<line x1=\"" << fmt(x_of(t)) << "\" y1=\"" << seq_y - 4 << "\" x2=\"" << fmt(x_of(t))
      << "\" y2=\"" << axis_y << "\" stroke=\"#e3e3e3\"/>\n"
      << "<text x=\"" << fmt(x_of(t)) << "\" y=\"" << axis_y + 16
      << "\" text-anchor=\"middle\" fill=\"#555555\">" << fmt(t, 0) << "</text>\n";
  }
  s << "<line x1=\"" << left << "\" y1=\"" << axis_y << "\" x2=\"" << left + plot_w << "\" y2=\""
    << axis_y << "\" stroke=\"#888888\"/>\n"
    << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << axis_y + 34
    << "\" text-anchor=\"middle\" fill=\"#555555\">time since the call (ms)</text>\n";

  auto panel = [&](const trace& t, double y0, const std::string& label, const char* colour) {
    s << "<text x=\"12\" y=\"" << y0 - 6 << "\" font-weight=\"bold\">" << xml_escape(label)
      << "</text>\n";
    for (std::size_t i = 0; i < t.spans.size(); ++i) {
      const auto& sp = t.spans[i];
      const double y = y0 + row_h * static_cast<double>(i);
      const double w = std::max(1.0, x_of(sp.end_ms) - x_of(sp.start_ms));
      if (row_h >= 10) {
        s << "<text x=\"" << left - 8 << "\" y=\"" << fmt(y + bar_h - 2)
          << "\" text-anchor=\"end\" fill=\"#555555\" font-size=\"11\">op " << i + 1 << "</text>\n";
      }
      s << "<rect x=\"" << fmt(x_of(sp.start_ms)) << "\" y=\"" << fmt(y) << "\" width=\"" << fmt(w)
        << "\" height=\"" << fmt(bar_h) << "\" rx=\"2\" fill=\"" << colour << "\"><title>op "
        << i + 1 << ": " << fmt(sp.start_ms) << " - " << fmt(sp.end_ms) << " ms</title></rect>\n";
    }
    // The total goes right of the bar that ended last.
    std::size_t last = 0;
    for (std::size_t i = 0; i < t.spans.size(); ++i) {
      if (t.spans[i].end_ms > t.spans[last].end_ms) last = i;
    }
    const double total = t.total_ms();
    s << "<text x=\"" << fmt(x_of(total) + 6) << "\" y=\""
      << fmt(y0 + row_h * static_cast<double>(last) + bar_h / 2 + 4) << "\" font-weight=\"bold\">"
      << fmt(total, 0) << " ms</text>\n";
  };
  panel(seq, seq_y, info.sequential_label, "#d9534f");
  panel(par, par_y, info.parallel_label, "#2e8b57");

  // Where the parallel run ended, carried up through the sequential waterfall.
  s << "<line x1=\"" << fmt(x_of(par_ms)) << "\" y1=\"" << seq_y - 4 << "\" x2=\""
    << fmt(x_of(par_ms)) << "\" y2=\"" << axis_y << "\" stroke=\"#2e8b57\" "
    << "stroke-dasharray=\"4 3\"/>\n</svg>\n";

  std::ofstream out(path, std::ios::binary);
  out << s.str();
  return static_cast<bool>(out.flush());
}

/// The same bars as text: one line per operation, `width` columns for the time axis.
inline void render_timeline_text(std::ostream& os, const trace& seq, const trace& par,
                                 int width = 60) {
  const double axis_ms = std::max({seq.total_ms(), par.total_ms(), 1.0});
  const double per_col = axis_ms / width;
  auto bar = [&](const trace::span& sp) {
    int a = static_cast<int>(sp.start_ms / per_col);
    int b = static_cast<int>(std::ceil(sp.end_ms / per_col));
    a = std::clamp(a, 0, width - 1);
    b = std::clamp(b, a + 1, width);
    return std::string(static_cast<std::size_t>(a), ' ') +
           std::string(static_cast<std::size_t>(b - a), '#') +
           std::string(static_cast<std::size_t>(width - b), ' ');
  };
  char head[128];
  // The label column is 20 characters, then '|': "0 ms" sits under the first bar column
  // and the total ends above the last one.
  std::snprintf(head, sizeof head, "%21s0 ms%*.0f ms\n", "", width - 7, axis_ms);
  os << head;
  auto panel = [&](const trace& t, const char* name) {
    for (std::size_t i = 0; i < t.spans.size(); ++i) {
      char label[48];
      std::snprintf(label, sizeof label, "  %-11s op %-3zu", i == 0 ? name : "", i + 1);
      os << label << '|' << bar(t.spans[i]) << '|';
      if (i + 1 == t.spans.size()) os << ' ' << detail::fmt(t.total_ms(), 0) << " ms";
      os << '\n';
    }
  };
  panel(seq, "sequential");
  panel(par, "parallel");
  char foot[96];
  std::snprintf(foot, sizeof foot, "  (one column = %.1f ms)\n", per_col);
  os << foot;
}

}  // namespace settle_bench
