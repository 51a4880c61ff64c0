// settle_bench: the seed's "Performance Impact" table, measured. Every row runs the
// same operations twice in the same process: one after another
// (all_settled(settle::inline_executor{}, ...), the baseline) and all at once
// (all_settled(...) on settle::default_executor()). Run with --help for the options.

#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "bench_options.hpp"
#include "failures.hpp"
#include "real_io.hpp"
#include "report.hpp"
#include "timeline_svg.hpp"
#include "workloads.hpp"

namespace settle_bench {
namespace {

enum class mode { sequential, parallel };

struct timed_run {
  double ms = 0;     // wall-clock time of the call
  double cores = 0;  // process CPU time over wall-clock time: cores kept busy on average
  std::unique_ptr<trace> spans;
};

/// Runs `op(i)` for i in [0, n) through all_settled, sequentially or in parallel, and
/// checks that every result came back fulfilled and in order: a benchmark that loses
/// results measures nothing.
template <class Op>
timed_run run(mode m, std::size_t n, Op op, const std::string& label, double expected_ms) {
  std::vector<std::size_t> ids(n);
  std::iota(ids.begin(), ids.end(), std::size_t{0});
  timed_run r{0, 0, std::make_unique<trace>(n)};
  trace* t = r.spans.get();
  auto traced = [t, op](std::stop_token stop, std::size_t i) {
    t->begin(i);
    auto v = op(stop, i);
    t->end(i);
    return std::pair{i, v};  // the index proves the order; v keeps the work observable
  };
  progress_meter meter(label, *t, expected_ms);
  const std::clock_t cpu0 = std::clock();  // CPU time of the whole process, all threads
  t->t0 = clock::now();
  auto results = m == mode::sequential ? settle::all_settled(settle::inline_executor{}, ids, traced)
                                       : settle::all_settled(ids, traced);
  r.ms = ms_between(t->t0, clock::now());
  r.cores = 1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / r.ms;
  for (std::size_t i = 0; i < n; ++i) {
    if (!results[i].is_fulfilled()) {
      throw std::runtime_error("operation " + std::to_string(i) +
                               " rejected: " + settle::describe(results[i].reason()));
    }
    if (results[i].value().first != i) {
      throw std::runtime_error("result " + std::to_string(i) + " is out of order");
    }
  }
  return r;
}

struct row_result {
  double sequential_ms = 0, parallel_ms = 0;
  double parallel_cores = 0;                 // how many cores the parallel runs kept busy (median)
  timed_run last_sequential, last_parallel;  // for the timeline
};

/// One table row: `repeat` sequential and parallel runs, alternating, medians kept.
/// `seq_ms` and `par_ms` are the expected durations, for the progress meter.
template <class Op>
row_result measure_row(const options& opt, std::size_t n, const char* what, double seq_ms,
                       double par_ms, Op op) {
  std::vector<double> seq, par, cores;
  row_result r;
  for (int rep = 0; rep < opt.repeat; ++rep) {
    const std::string label = std::string(what) + ", " + std::to_string(n) + " ops";
    r.last_sequential = run(mode::sequential, n, op, "sequential " + label, seq_ms);
    r.last_parallel = run(mode::parallel, n, op, "parallel " + label, par_ms);
    seq.push_back(r.last_sequential.ms);
    par.push_back(r.last_parallel.ms);
    cores.push_back(r.last_parallel.cores);
  }
  r.parallel_cores = median(cores);
  r.sequential_ms = median(seq);
  r.parallel_ms = median(par);
  return r;
}

/// The row the timeline pictures: the largest count up to 12 (bars stay readable),
/// or the smallest count when all are larger.
std::size_t timeline_ops(const std::vector<std::size_t>& ops) {
  std::size_t best = 0;
  for (std::size_t n : ops) {
    if (n <= 12) best = std::max(best, n);
  }
  return best ? best : *std::min_element(ops.begin(), ops.end());
}

/// The I/O-bound rows. `heading` says what one operation is; `kind` names it in the
/// timeline's title.
template <class Op>
void io_section(const options& opt, const machine_info& m, Op op, const std::string& heading,
                const std::string& kind) {
  if (!opt.json) {
    std::printf("\n%s\n", heading.c_str());
    std::printf("  %5s %8s %14s %12s %8s %6s %13s\n", "ops", "latency", "sequential ms",
                "parallel ms", "speedup", "ideal", "pool threads");
  }
  const std::size_t pictured = timeline_ops(opt.ops);
  row_result shown;
  for (std::size_t n : opt.ops) {
    const double op_ms = opt.latency_ms;
    row_result r = measure_row(opt, n, "I/O", static_cast<double>(n) * op_ms, op_ms, op);
    const double speedup = r.sequential_ms / r.parallel_ms;
    const std::size_t threads = settle::default_executor().thread_count();
    if (opt.json) {
      std::cout << json_record("io")
                       .add("io", opt.io)
                       .add("ops", n)
                       .add("latency_ms", opt.latency_ms)
                       .add("sequential_ms", r.sequential_ms)
                       .add("parallel_ms", r.parallel_ms)
                       .add("speedup", speedup)
                       .add("ideal_speedup", n)
                       .add("pool_threads", threads)
                       .add("repeat", opt.repeat)
                       .str()
                << std::endl;
    } else {
      std::printf("  %5zu %5d ms %14.1f %12.1f %7.2fx %5zux %13zu\n", n, opt.latency_ms,
                  r.sequential_ms, r.parallel_ms, speedup, n, threads);
      std::fflush(stdout);
    }
    if (n == pictured && !shown.last_sequential.spans) shown = std::move(r);
  }
  const trace& seq = *shown.last_sequential.spans;
  const trace& par = *shown.last_parallel.spans;
  if (!opt.json) {
    std::printf("\nTimeline of the %zu-operation row (sequential above parallel, one time axis):\n",
                pictured);
    if (pictured <= 24) {
      render_timeline_text(std::cout, seq, par);
    } else {
      std::printf("  (%zu bars do not fit a terminal: see --timeline FILE.svg)\n", pictured);
    }
  }
  if (!opt.timeline.empty()) {
    timeline_info info;
    info.title = std::to_string(pictured) + " operations \u00d7 " + std::to_string(opt.latency_ms) +
                 " ms of " + kind + ": sequential " + format("%.0f", seq.total_ms()) +
                 " ms, parallel " + format("%.0f", par.total_ms()) + " ms (" +
                 format("%.1f", seq.total_ms() / par.total_ms()) + "\u00d7 faster)";
    info.subtitle = "settle_bench on " + m.describe();
    info.sequential_label = "sequential: all_settled(settle::inline_executor{}, ids, op)";
    info.parallel_label = "parallel: all_settled(ids, op) on settle::default_executor()";
    if (!write_timeline_svg(opt.timeline, info, seq, par)) {
      throw std::runtime_error("cannot write the timeline to '" + opt.timeline + "'");
    }
    if (!opt.json) std::printf("  timeline written to %s\n", opt.timeline.c_str());
  }
}

/// The I/O-bound rows with the I/O that --io chose.
void io_rows(const options& opt, const machine_info& m) {
  const auto latency = std::chrono::milliseconds(opt.latency_ms);
  if (opt.io == "sleep") {
    auto op = [latency](std::stop_token stop, std::size_t i) {
      simulated_io(stop, latency);
      return i;
    };
    return io_section(opt, m, op,
                      "I/O-bound: each operation is simulated I/O, a " +
                          std::to_string(opt.latency_ms) + " ms sleep (no network, no disk)",
                      "simulated I/O");
  }
  if (opt.io == "http") {
#if SETTLE_BENCH_HAS_HTTP
    const http_io http(latency);
    auto op = [port = http.port()](std::stop_token stop, std::size_t i) {
      http_io::call(stop, port);
      return i;
    };
    return io_section(opt, m, op,
                      "I/O-bound over real TCP: each operation is " + http.describe() +
                          " that answers after " + std::to_string(opt.latency_ms) + " ms",
                      "HTTP over loopback TCP");
#else
    throw std::runtime_error("--io http: this settle_bench was built without POSIX sockets");
#endif
  }
#if SETTLE_BENCH_HAS_LIBPQ
  std::string conninfo = opt.pg;
  if (const char* env = std::getenv("SETTLE_PG_CONNINFO"); conninfo.empty() && env != nullptr) {
    conninfo = env;
  }
  if (conninfo.empty()) {
    throw std::invalid_argument(
        "--io postgres needs a connection string: --pg CONNINFO or SETTLE_PG_CONNINFO "
        "(a throwaway server: export SETTLE_PG_CONNINFO=$(scripts/postgres.sh start))");
  }
  const postgres_io pg(conninfo, latency);
  auto op = [&pg](std::stop_token, std::size_t i) {
    pg.call();
    return i;
  };
  io_section(opt, m, op, "I/O-bound against a real server: each operation is " + pg.describe(),
             "PostgreSQL queries");
#else
  throw std::runtime_error(
      "--io postgres: this settle_bench was built without PostgreSQL support (CMake did not "
      "find libpq; on Debian/Ubuntu: apt-get install libpq-dev, then configure again)");
#endif
}

void cpu_section(const options& opt, const machine_info& m) {
  const double per_ms = calibrate_iterations_per_ms();
  const auto iterations = static_cast<std::uint64_t>(per_ms * opt.latency_ms);
  auto op = [iterations](std::stop_token, std::size_t i) { return cpu_work(iterations, i + 1); };
  std::vector<std::size_t> counts;
  for (std::size_t n : opt.ops) {
    if (n <= 16) counts.push_back(n);
  }
  if (counts.empty()) counts.push_back(*std::min_element(opt.ops.begin(), opt.ops.end()));
  const unsigned hw = std::max(1u, m.hardware_threads);
  // The baseline of each row: how many cores plain threads get just before it runs.
  const auto baseline_time = std::chrono::milliseconds(std::clamp(2 * opt.latency_ms, 50, 300));
  if (!opt.json) {
    std::printf(
        "\nCPU-bound: each operation computes for about %d ms on one core; "
        "ideal speedup = min(ops, %u hardware threads found)\n",
        opt.latency_ms, m.hardware_threads);
    std::printf("  %5s %8s %14s %12s %8s %6s %11s %10s\n", "ops", "work", "sequential ms",
                "parallel ms", "speedup", "ideal", "cores used", "baseline");
  }
  double lowest_baseline = hw;
  for (std::size_t n : counts) {
    const std::size_t ideal = std::min<std::size_t>(n, hw);
    const double baseline = measured_core_capacity(hw, baseline_time);
    lowest_baseline = std::min(lowest_baseline, baseline);
    const double seq_ms = static_cast<double>(n) * opt.latency_ms;
    row_result r = measure_row(opt, n, "CPU", seq_ms, seq_ms / static_cast<double>(ideal), op);
    const double speedup = r.sequential_ms / r.parallel_ms;
    if (opt.json) {
      std::cout << json_record("cpu")
                       .add("ops", n)
                       .add("work_ms", opt.latency_ms)
                       .add("sequential_ms", r.sequential_ms)
                       .add("parallel_ms", r.parallel_ms)
                       .add("speedup", speedup)
                       .add("ideal_speedup", ideal)
                       .add("parallel_cores_used", r.parallel_cores)
                       .add("baseline_cores", baseline)
                       .add("hardware_concurrency", static_cast<std::size_t>(m.hardware_threads))
                       .add("repeat", opt.repeat)
                       .str()
                << std::endl;
    } else {
      std::printf("  %5zu %5d ms %14.1f %12.1f %7.2fx %5zux %11.2f %10.2f\n", n, opt.latency_ms,
                  r.sequential_ms, r.parallel_ms, speedup, ideal, r.parallel_cores, baseline);
      std::fflush(stdout);
    }
  }
  if (opt.json) return;
  std::printf(
      "  cores used: process CPU time / wall time of the parallel run; baseline: the same for\n"
      "  %u plain std::threads spinning for %d ms just before the row\n",
      hw, static_cast<int>(baseline_time.count()));
  // On a shared or virtual machine other work takes cores too; say so rather than let a
  // low speedup pass for the library's.
  if (lowest_baseline < 0.9 * hw) {
    std::printf(
        "  note: plain threads got as little as %.2f of the %u cores (other work shares this\n"
        "  machine): no CPU-bound row can reach a speedup of %u while that lasts\n",
        lowest_baseline, hw, hw);
  }
}

void failures_section(const options& opt) {
  std::size_t n = 0;
  for (std::size_t c : opt.ops) {
    if (c <= 10) n = std::max(n, c);
  }
  if (n == 0) n = *std::min_element(opt.ops.begin(), opt.ops.end());
  const auto latency = std::chrono::milliseconds(opt.latency_ms);
  if (!opt.json) {
    std::printf("\nFailures: k of %zu operations throw after %d-%d ms; the others take %d ms\n", n,
                opt.latency_ms / 4, opt.latency_ms * 4 / 8, opt.latency_ms);
    std::printf("  %5s %7s %-11s %8s %7s  %s\n", "ops", "failing", "combinator", "time ms",
                "values", "what the caller gets");
  }
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
    if (k > n) continue;
    for (bool use_all : {false, true}) {
      std::vector<double> times;
      failure_outcome o;
      for (int rep = 0; rep < opt.repeat; ++rep) {
        o = run_failures(use_all, n, k, latency);
        times.push_back(o.ms);
      }
      o.ms = median(times);
      const char* name = use_all ? "all" : "all_settled";
      if (opt.json) {
        json_record rec("failures");
        rec.add("ops", n)
            .add("failing", k)
            .add("combinator", name)
            .add("ms", o.ms)
            .add("values", o.values)
            .add("errors", o.errors);
        if (o.first_error.empty()) {
          rec.add_null("error");
        } else {
          rec.add("error", o.first_error);
        }
        std::cout << rec.add("stopped_early", o.stopped_early).add("repeat", opt.repeat).str()
                  << std::endl;
        continue;
      }
      std::string what;
      if (!use_all) {
        what = std::to_string(o.values) + " values and " + std::to_string(o.errors) +
               (o.errors == 1 ? " reason" : " reasons");
        if (o.errors) what += " (first: \"" + o.first_error + "\")";
      } else if (o.errors) {
        what = "throws \"" + o.first_error + "\"; " + std::to_string(o.stopped_early) +
               " others stopped early";
      } else {
        what = "all " + std::to_string(o.values) + " values";
      }
      std::printf("  %5zu %7zu %-11s %8.1f %7zu  %s\n", n, k, name, o.ms, o.values, what.c_str());
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace settle_bench

int main(int argc, char** argv) {
  using namespace settle_bench;
  std::optional<options> parsed;
  try {
    parsed = parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "settle_bench: %s\n", e.what());
    return 2;
  }
  if (!parsed) return 0;  // --help
  const options& opt = *parsed;
  try {
    const machine_info m;
    // Create the default executor before the first measured row, as a running
    // program would have; growth beyond its first threads is still measured.
    (void)settle::all_settled([] { return 0; });
    if (opt.json) {
      json_record rec("machine");
      rec.add("settle_version", settle::version_string)
          .add("hardware_concurrency", static_cast<std::size_t>(m.hardware_threads))
          .add("cpu", m.cpu)
          .add("compiler", m.compiler)
          .add("optimised", m.optimised);
      if (!m.load.empty()) rec.add("load_average", std::stod(m.load));
      std::cout << rec.add("io", opt.io)
                       .add("latency_ms", opt.latency_ms)
                       .add("repeat", opt.repeat)
                       .add("quick", opt.quick)
                       .str()
                << std::endl;
    } else {
      std::printf("settle_bench (settle %s): sequential vs parallel, both measured in this run\n",
                  settle::version_string);
      std::printf("machine: %s\n", m.describe().c_str());
      std::printf(
          "sequential = all_settled(settle::inline_executor{}, ids, op); "
          "parallel = all_settled(ids, op) on settle::default_executor()\n");
      std::printf("each time is the median of %d run(s)\n", opt.repeat);
    }
    io_rows(opt, m);
    if (opt.io == "sleep") {  // where I/O goes changes none of the other rows
      cpu_section(opt, m);
      failures_section(opt);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "settle_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
