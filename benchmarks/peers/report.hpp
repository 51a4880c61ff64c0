// Small reporting utilities for settle_peers: statistics, number formatting,
// markdown tables, JSON strings and a few /proc readers.
#ifndef SETTLE_BENCHMARKS_PEERS_REPORT_HPP
#define SETTLE_BENCHMARKS_PEERS_REPORT_HPP

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

namespace peers {

struct summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

/// Median (mean of the middle two for an even count), min and max.
inline summary summarize(std::vector<double> samples) {
  summary s;
  if (samples.empty()) {
    return s;
  }
  std::sort(samples.begin(), samples.end());
  const auto n = samples.size();
  s.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

/// Three significant digits or so, without exponents.
inline std::string format_number(double v) {
  char buffer[64];
  const double magnitude = v < 0 ? -v : v;
  const char* format = magnitude >= 100  ? "%.0f"
                       : magnitude >= 10 ? "%.1f"
                       : magnitude >= 1  ? "%.2f"
                                         : "%.3f";
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

/// "median (min-max)", or just the median when there is one sample.
inline std::string format_summary(const summary& s, std::size_t count) {
  if (count <= 1) {
    return format_number(s.median);
  }
  return format_number(s.median) + " (" + format_number(s.min) + "-" + format_number(s.max) + ")";
}

/// A markdown table, columns padded to their widest cell.
inline void print_table(std::ostream& out, const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  // Width in code points, so that "µs" does not skew the padding.
  auto width = [](const std::string& s) {
    std::size_t w = 0;
    for (unsigned char c : s) {
      w += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    return w;
  };
  std::vector<std::size_t> widths(header.size(), 3);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) {
    measure(row);
  }
  auto line = [&](const std::vector<std::string>& row) {
    out << '|';
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      out << ' ' << cell << std::string(widths[i] - width(cell), ' ') << " |";
    }
    out << '\n';
  };
  line(header);
  out << '|';
  for (auto w : widths) {
    out << std::string(w + 2, '-') << '|';
  }
  out << '\n';
  for (const auto& row : rows) {
    line(row);
  }
  out << '\n';
}

/// A JSON string literal.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// A JSON number (finite values only; anything else becomes null).
inline std::string json_number(double v) {
  if (!(v == v) || v > 1e300 || v < -1e300) {
    return "null";
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

/// The number after "key:" in /proc/self/status (kB for the Vm* keys), or -1.
inline long proc_status(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      return std::stol(line.substr(key.size() + 1));
    }
  }
  return -1;
}

/// Machine-wide CPU time from /proc/stat, in seconds summed over all cores.
struct cpu_times {
  double busy = 0;   // user, nice, system, irq, softirq, steal
  double total = 0;  // busy plus idle and iowait
};

inline cpu_times machine_cpu_times() {
  std::ifstream in("/proc/stat");
  std::string label;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  cpu_times t;
  if (label == "cpu" && tick > 0) {
    t.busy = static_cast<double>(user + nice + system + irq + softirq + steal) / tick;
    t.total = t.busy + static_cast<double>(idle + iowait) / tick;
  }
  return t;
}

/// CPU time, in seconds, of this process and of its reaped children.
inline double own_cpu_seconds() {
  auto seconds = [](const ::timeval& v) {
    return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6;
  };
  ::rusage self{};
  ::rusage children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) +
         seconds(children.ru_stime);
}

/// First line of a file, or "" when it cannot be read.
inline std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The "model name" of /proc/cpuinfo, or "unknown".
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 10, "model name") == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        return line.substr(std::min(line.size(), colon + 2));
      }
    }
  }
  return "unknown";
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_REPORT_HPP
