// Output of settle_bench: aligned tables for people, JSON Lines for programs.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace settle_bench {

/// Appends one JSON record field by field: record r; r.add("ops", 3); r.str().
class json_record {
 public:
  explicit json_record(const std::string& section) { add("section", section); }
  json_record& add(const char* key, const std::string& v) {
    key_(key);
    text_ += quote(v);
    return *this;
  }
  json_record& add(const char* key, const char* v) { return add(key, std::string(v)); }
  json_record& add(const char* key, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    key_(key);
    text_ += buf;
    return *this;
  }
  json_record& add(const char* key, std::size_t v) {
    key_(key);
    text_ += std::to_string(v);
    return *this;
  }
  json_record& add(const char* key, int v) { return add(key, static_cast<std::size_t>(v)); }
  json_record& add(const char* key, bool v) {
    key_(key);
    text_ += v ? "true" : "false";
    return *this;
  }
  json_record& add_null(const char* key) {
    key_(key);
    text_ += "null";
    return *this;
  }
  std::string str() const { return text_ + "}"; }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  }

 private:
  void key_(const char* key) {
    text_ += text_.empty() ? "{" : ",";
    text_ += quote(key) + ":";
  }
  std::string text_;
};

/// What the output says about the machine the numbers come from.
struct machine_info {
  unsigned hardware_threads = std::thread::hardware_concurrency();
  std::string cpu = cpu_model();
  std::string compiler = compiler_name();
  std::string load = load_average();
#ifdef NDEBUG
  bool optimised = true;
#else
  bool optimised = false;
#endif

  static std::string compiler_name() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown compiler";
#endif
  }
  /// The "model name" line of /proc/cpuinfo where there is one (Linux); "" elsewhere.
  static std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        auto colon = line.find(':');
        if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
      }
    }
    return "";
  }
  /// The 1-minute load average from /proc/loadavg (Linux); "" elsewhere. On a shared
  /// machine it tells how much of the CPU the benchmark could have had.
  static std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string first;
    in >> first;
    return first;
  }
  std::string describe() const {
    std::string s = std::to_string(hardware_threads) + " hardware threads";
    if (!cpu.empty()) s += " (" + cpu + ")";
    s += ", " + compiler + (optimised ? ", optimised build" : ", DEBUG build (use Release)");
    if (!load.empty()) s += ", load average " + load + " at start";
    return s;
  }
};

inline std::string format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

}  // namespace settle_bench
