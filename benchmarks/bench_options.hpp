// Command-line options of settle_bench.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace settle_bench {

struct options {
  std::vector<std::size_t> ops{3, 5, 10, 100};  // operations per row (I/O section)
  int latency_ms = 100;                         // simulated latency of one operation
  int repeat = 1;                               // each row runs this often; the median is kept
  bool json = false;                            // one JSON record per row instead of tables
  bool quick = false;                           // a few-second run for CI
  std::string timeline;                         // write an SVG timeline here when non-empty
  std::string io = "sleep";                     // what an I/O operation is: sleep, http, postgres
  std::string pg;                               // libpq connection string for --io postgres
};

inline constexpr std::string_view usage_text =
    R"(usage: settle_bench [options]

Runs independent operations sequentially (all_settled(settle::inline_executor{}, ...))
and in parallel (all_settled(...) on settle::default_executor()) and prints how long
each took. By default I/O is simulated, a sleep: nothing touches a network or a disk;
--io http and --io postgres put a real request behind each operation.

Sections:
  I/O-bound   every N of --ops; each operation waits --latency-ms. Ideal speedup: N.
  CPU-bound   every N of --ops up to 16; each operation computes for about
              --latency-ms on one core. Ideal speedup: min(N, hardware threads).
              Baseline: how many cores plain spinning std::threads get right now;
              "cores used" is the parallel run's process CPU time / wall time.
  failures    k = 0, 1, 3 of N operations throw (N = largest of --ops up to 10):
              all_settled keeps the other N-k results, all throws the first error.
With --io http or --io postgres only the I/O-bound section runs.

Options:
  --ops LIST         comma-separated operation counts (default 3,5,10,100)
  --latency-ms N     latency of one operation in milliseconds (default 100)
  --repeat N         run each row N times and report the median (default 1)
  --json             print one JSON record per row (JSON Lines) instead of tables
  --timeline FILE    write an SVG timeline (sequential above parallel) of the I/O
                     row with the largest N up to 12 (the terminal gets the same bars)
  --io KIND          what one I/O operation is (default sleep):
                       sleep     a --latency-ms wait, no network
                       http      a GET on its own TCP connection to a loopback HTTP
                                 server in this process that answers after --latency-ms
                       postgres  its own connection to PostgreSQL and
                                 SELECT pg_sleep(--latency-ms / 1000)
  --pg CONNINFO      libpq connection string for --io postgres (default: the
                     SETTLE_PG_CONNINFO environment variable; scripts/postgres.sh
                     start prints one)
  --quick            CI smoke run: --ops 3,5 --latency-ms 10 --repeat 1
                     (options given after --quick override it)
  --help             print this text and exit

Progress is reported on stderr while long rows run; results go to stdout.
)";

/// Parses a positive integer; throws std::invalid_argument naming the option.
inline long parse_positive(std::string_view option, std::string_view text, long max) {
  std::string s(text);
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || v <= 0 || v > max) {
    throw std::invalid_argument(std::string(option) + ": expected an integer in 1.." +
                                std::to_string(max) + ", got '" + s + "'");
  }
  return v;
}

inline std::vector<std::size_t> parse_list(std::string_view text) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    out.push_back(
        static_cast<std::size_t>(parse_positive("--ops", text.substr(pos, comma - pos), 10'000)));
    pos = comma + 1;
  }
  return out;
}

/// Returns the options, or std::nullopt when --help was asked for (usage already printed).
/// Throws std::invalid_argument on a bad command line.
inline std::optional<options> parse_options(int argc, char** argv) {
  options o;
  auto value = [&](int& i, std::string_view name) -> std::string_view {
    if (i + 1 >= argc) throw std::invalid_argument(std::string(name) + ": missing value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      return std::nullopt;
    } else if (a == "--ops") {
      o.ops = parse_list(value(i, a));
    } else if (a == "--latency-ms") {
      o.latency_ms = static_cast<int>(parse_positive(a, value(i, a), 60'000));
    } else if (a == "--repeat") {
      o.repeat = static_cast<int>(parse_positive(a, value(i, a), 1'000));
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--timeline") {
      o.timeline = std::string(value(i, a));
    } else if (a == "--io") {
      o.io = std::string(value(i, a));
      if (o.io != "sleep" && o.io != "http" && o.io != "postgres") {
        throw std::invalid_argument("--io: expected sleep, http or postgres, got '" + o.io + "'");
      }
    } else if (a == "--pg") {
      o.pg = std::string(value(i, a));
    } else if (a == "--quick") {
      o.quick = true;
      o.ops = {3, 5};
      o.latency_ms = 10;
      o.repeat = 1;
    } else {
      throw std::invalid_argument("unknown option '" + std::string(a) + "' (try --help)");
    }
  }
  return o;
}

}  // namespace settle_bench
