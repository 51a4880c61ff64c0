// The command line of settle_peers: its options, and the configuration they select.
#ifndef SETTLE_BENCHMARKS_PEERS_CLI_HPP
#define SETTLE_BENCHMARKS_PEERS_CLI_HPP

#include "harness.hpp"
#include "peers.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace peers {

/// The workloads --only accepts.
inline const std::vector<std::string>& workload_ids() {
  static const std::vector<std::string> ids{"W1", "W2", "W3", "W4", "W5",
                                            "W6", "W7", "W8", "W9", "NR"};
  return ids;
}

inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  return parts;
}

inline void usage(std::ostream& out) {
  out << "usage: settle_peers [options]\n"
         "  --repeat N      timed runs per cell (default 7, after one warm-up run)\n"
         "  --quick         a few-seconds smoke run: small sizes, 2 ms blocking, 1 run\n"
         "  --only W1,W6    run only these workloads (W1..W9, NR = no regression)\n"
         "  --peers a,b     run only these peers:";
  for (const auto& id : peers::available_peers()) {
    out << ' ' << id;
  }
  out << "\n"
         "  --threads N     threads of the fixed pools (default: hardware_concurrency)\n"
         "  --json          print JSON instead of the tables\n"
         "  --json=FILE     also write JSON to FILE\n";
}

inline std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--repeat") {
      o.repeat = std::stoi(value());
      o.repeat_given = true;
      if (o.repeat < 1) {
        throw std::invalid_argument("--repeat must be at least 1");
      }
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--json") {
      o.json_stdout = true;
    } else if (arg.rfind("--json=", 0) == 0) {
      o.json_path = arg.substr(7);
    } else if (arg == "--only") {
      for (auto w : split(value(), ',')) {
        std::transform(w.begin(), w.end(), w.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        const auto& known = workload_ids();
        if (std::find(known.begin(), known.end(), w) == known.end()) {
          throw std::invalid_argument("unknown workload " + w + " (expected W1..W9 or NR)");
        }
        o.only.insert(w);
      }
    } else if (arg == "--peers") {
      o.peer_ids = split(value(), ',');
    } else if (arg == "--threads") {
      o.threads = static_cast<std::size_t>(std::stoul(value()));
      if (o.threads == 0) {
        throw std::invalid_argument("--threads must be at least 1");
      }
    } else if (arg == "--probe") {
      o.probe = value();
    } else if (arg == "--peer") {
      o.probe_peer = value();
    } else if (arg == "--shape") {
      o.shape = value();
    } else if (arg == "--n") {
      o.n = std::stoi(value());
    } else if (arg == "--block-us") {
      o.block_us = std::stol(value());
    } else if (arg == "--deadline-ms") {
      o.deadline_ms = std::stol(value());
    } else if (arg == "--limit") {
      o.limit = std::stoi(value());
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return std::nullopt;
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  if (o.peer_ids.empty()) {
    o.peer_ids = peers::available_peers();
  }
  for (const auto& id : o.peer_ids) {
    const auto known = peers::available_peers();
    if (std::find(known.begin(), known.end(), id) == known.end()) {
      throw std::invalid_argument("unknown or not built peer " + id);
    }
  }
  return o;
}

inline config make_config(const options& o) {
  using namespace std::chrono_literals;
  config c;
  if (o.quick) {
    c.w1_sizes = {10, 1000};
    c.w1_main = 1000;
    c.w3_wide_counts = {200};  // std::async: a thread per task, slow under the sanitizers
    c.block = 2ms;
    c.w4_task = 1ms;
    c.w5_deadline = 2000ms;
    c.w6_tasks = 100;  // 2 rounds of 50: the full run's 1 000 threads of std::async are
                       // heavy under the sanitizers, which run --quick too
    c.repeat = o.repeat_given ? o.repeat : 1;
    c.min_runs = 1;
    c.latency_repeat = o.repeat_given ? o.repeat : 3;
    c.nr_repeat = o.repeat_given ? o.repeat : 3;
    c.budget = 200ms;
    c.sample_target = 1ms;
  } else {
    c.w1_sizes = {10, 1000, 10'000, 100'000, 1'000'000};
    c.w1_main = 10'000;
    c.w3_wide_counts = {300, 1000};
    c.block = 20ms;
    c.w4_task = 10ms;
    c.w5_deadline = 2000ms;
    c.repeat = o.repeat;
    c.min_runs = std::min(3, o.repeat);
    c.latency_repeat = std::max(21, o.repeat);
    c.nr_repeat = std::max(21, o.repeat);
    c.budget = 2s;
    c.sample_target = 5ms;
  }
  return c;
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_CLI_HPP
