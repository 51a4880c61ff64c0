// settle_stress_differential: runs randomized scenarios through settle's combinators and
// checks every outcome against an oracle computed from the scenario alone.
//
//   settle_stress_differential [--seed S] [--count N] [--threads T] [--exec NAME]
//                              [--max-tasks M] [--max-depth D]
//                              [--focus futures|options|start]
//                              [--time-limit SECONDS] [--liveness-timeout SECONDS]
//                              [--liveness-every N] [--no-strict-settled-first] [--verbose]
//
// Scenario k uses seed S + k. A failure prints the seed and the command that reruns just
// that scenario. With --threads T, T threads run scenarios at once (on the pools shared by
// all of them); --exec pins every level of every scenario to one executor
// (inline, pool1, pool2, elastic, default, derived). --focus futures generates only calls
// with future inputs (late, never set during the call, set by a sibling task, mixed with
// callables), mostly on the small pools and with longer delays. --focus options gives most
// calls options (a limit, a deadline before, during or after the tasks, a stop token signalled
// before the call or by another thread at a random moment, on_settled); otherwise a share of
// the calls takes them. --focus start issues most calls through settle::start (then get(),
// perhaps after wait(), wait_for() or ready() and a little other work; or co_await in a
// coroutine whose result the caller collects); otherwise a share of them is. Several --focus
// may be given. all, any and race must not throw timed_out/cancelled
// once on_settled has reported, before the deadline or the stop request, what decides them;
// --no-strict-settled-first leaves that check out.
//
// A scenario that runs longer than --time-limit is a hang: the run prints it and exits with
// status 3. After each scenario, every pool it used must run a new task within
// --liveness-timeout, or the scenario fails ("pool left parked"). The time limit defaults
// to 20 s and the liveness timeout to 5 s; with --threads above 1, to 60 s and 20 s
// (scenarios then queue behind each other's tasks on the shared pools). Scenarios with a
// future not ready before the call are always checked; the others one seed in N
// (--liveness-every, default 16; 1 checks every scenario).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "differential/runner.hpp"

namespace {

using namespace settle_stress;
using clock_type = std::chrono::steady_clock;

struct options {
  std::uint64_t seed = 1;
  long long count = 1000;
  int threads = 1;
  int time_limit_seconds = 0;        // 0: the default for the thread count
  int liveness_timeout_seconds = 0;  // 0: the default for the thread count
  long long liveness_every = 16;
  bool verbose = false;
  bool strict_settled_first = true;
  generator_options gen;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: settle_stress_differential [--seed S] [--count N] [--threads T]\n"
               "         [--exec inline|pool1|pool2|elastic|default|derived] [--max-tasks M]\n"
               "         [--max-depth D] [--focus futures|options|start] [--time-limit SECONDS]\n"
               "         [--liveness-timeout SECONDS] [--liveness-every N]\n"
               "         [--no-strict-settled-first] [--verbose]\n",
               why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
      return argv[++i];
    };
    try {
      if (arg == "--seed")
        o.seed = std::stoull(value());
      else if (arg == "--count")
        o.count = std::stoll(value());
      else if (arg == "--threads")
        o.threads = std::stoi(value());
      else if (arg == "--max-tasks")
        o.gen.max_tasks = std::stoi(value());
      else if (arg == "--max-depth")
        o.gen.max_depth = std::stoi(value());
      else if (arg == "--time-limit")
        o.time_limit_seconds = std::stoi(value());
      else if (arg == "--liveness-timeout")
        o.liveness_timeout_seconds = std::stoi(value());
      else if (arg == "--liveness-every")
        o.liveness_every = std::stoll(value());
      else if (arg == "--focus") {
        const std::string what = value();
        if (what == "futures")
          o.gen.focus_futures = true;
        else if (what == "options")
          o.gen.focus_options = true;
        else if (what == "start")
          o.gen.focus_start = true;
        else
          usage(("unknown focus " + what + " (known: futures, options, start)").c_str());
      } else if (arg == "--strict-settled-first")
        o.strict_settled_first = true;
      else if (arg == "--no-strict-settled-first")
        o.strict_settled_first = false;
      else if (arg == "--verbose")
        o.verbose = true;
      else if (arg == "--exec") {
        const std::string name = value();
        o.gen.exec = parse_exec(name);
        if (!o.gen.exec) usage(("unknown executor " + name).c_str());
      } else
        usage(("unknown option " + arg).c_str());
    } catch (const std::logic_error&) {
      usage(("bad value for " + arg).c_str());
    }
  }
  if (o.count < 0 || o.threads < 1 || o.gen.max_tasks < 0 || o.gen.max_depth < 0 ||
      o.time_limit_seconds < 0 || o.liveness_timeout_seconds < 0 || o.liveness_every < 1)
    usage("values must not be negative (threads and --liveness-every at least 1)");
  if (o.time_limit_seconds == 0) o.time_limit_seconds = o.threads > 1 ? 60 : 20;
  if (o.liveness_timeout_seconds == 0) o.liveness_timeout_seconds = o.threads > 1 ? 20 : 5;
  return o;
}

std::string reproduce_command(const options& o, std::uint64_t seed) {
  std::ostringstream cmd;
  cmd << "settle_stress_differential --seed " << seed << " --count 1";
  if (o.gen.exec) cmd << " --exec " << name_of(*o.gen.exec);
  if (o.gen.max_tasks != generator_options{}.max_tasks) cmd << " --max-tasks " << o.gen.max_tasks;
  if (o.gen.max_depth != generator_options{}.max_depth) cmd << " --max-depth " << o.gen.max_depth;
  if (o.gen.focus_futures) cmd << " --focus futures";
  if (o.gen.focus_options) cmd << " --focus options";
  if (o.gen.focus_start) cmd << " --focus start";
  if (!o.strict_settled_first) cmd << " --no-strict-settled-first";
  if (o.liveness_every != options{}.liveness_every) cmd << " --liveness-every " << o.liveness_every;
  return cmd.str();
}

/// Ends the process, naming the scenario, when one runs longer than the time limit: a
/// hang becomes a failure with a seed instead of a CI timeout. It also watches the pools'
/// destruction once every scenario has run.
class hang_detector {
 public:
  hang_detector(const options& o, int threads)
      : opts_(o), active_(static_cast<std::size_t>(threads)), thread_([this] { watch(); }) {}
  ~hang_detector() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void begin(int worker, std::uint64_t seed) {
    std::lock_guard lock(mutex_);
    active_[static_cast<std::size_t>(worker)] = {true, seed, clock_type::now()};
  }
  void end(int worker) {
    std::lock_guard lock(mutex_);
    active_[static_cast<std::size_t>(worker)].busy = false;
  }
  void begin_teardown() {
    std::lock_guard lock(mutex_);
    teardown_since_ = clock_type::now();
  }
  void end_teardown() {
    std::lock_guard lock(mutex_);
    teardown_since_.reset();
  }

 private:
  struct entry {
    bool busy = false;
    std::uint64_t seed = 0;
    clock_type::time_point since{};
  };

  void watch() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(500));
      const auto now = clock_type::now();
      if (teardown_since_ &&
          now - *teardown_since_ >= std::chrono::seconds(opts_.time_limit_seconds)) {
        std::fprintf(stderr,
                     "\nHANG: every scenario ran, but destroying the pools (pool1, pool2, "
                     "elastic, derived) did not finish within %d s.\n",
                     opts_.time_limit_seconds);
        std::fflush(stderr);
        std::_Exit(3);
      }
      for (const entry& e : active_) {
        if (!e.busy || now - e.since < std::chrono::seconds(opts_.time_limit_seconds)) continue;
        const scenario s = generate(e.seed, opts_.gen);
        std::fprintf(stderr,
                     "\nHANG: scenario seed %llu did not finish within %d s.\n  scenario: %s\n"
                     "  reproduce: %s\n%s",
                     static_cast<unsigned long long>(e.seed), opts_.time_limit_seconds,
                     describe(s).c_str(), reproduce_command(opts_, e.seed).c_str(),
                     active_.size() > 1 ? "  (other scenarios shared its pools: one of them may "
                                          "have left a pool thread waiting; rerun it alone)\n"
                                        : "");
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }

  const options& opts_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<entry> active_;
  std::optional<clock_type::time_point> teardown_since_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

/// Runs the scenarios on `opts.threads` threads and prints the summary.
void run_all(const options& opts, const pools& p, hang_detector& detector,
             std::atomic<long long>& failed) {
  std::atomic<long long> next{0};
  std::mutex print_mutex;
  const auto start = clock_type::now();
  {
    const auto worker = [&](int id) {
      for (;;) {
        const long long k = next.fetch_add(1);
        if (k >= opts.count) return;
        const std::uint64_t seed = opts.seed + static_cast<std::uint64_t>(k);
        const scenario s = generate(seed, opts.gen);
        if (opts.verbose) {
          std::lock_guard lock(print_mutex);
          std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed),
                      describe(s).c_str());
          std::fflush(stdout);
        }
        mismatch_log log;
        detector.begin(id, seed);
        run_scenario(s, p, log, "seed " + std::to_string(seed));
        detector.end(id);
        const std::vector<std::string> found = log.entries();
        if (found.empty()) continue;
        failed.fetch_add(1);
        std::lock_guard lock(print_mutex);
        std::printf("FAILED seed %llu: %zu mismatch(es)\n  scenario: %s\n",
                    static_cast<unsigned long long>(seed), found.size(), describe(s).c_str());
        for (const std::string& m : found) std::printf("  - %s\n", m.c_str());
        std::printf("  reproduce: %s\n", reproduce_command(opts, seed).c_str());
        std::fflush(stdout);
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < opts.threads; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& t : threads) t.join();
  }

  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const statistics& st = stats();
  std::printf(
      "settle differential: %lld scenarios (seeds %llu..%llu, %d thread(s)%s%s%s%s%s): %lld "
      "combinator calls (%lld nested in tasks; %lld by start and get, %lld by start and "
      "co_await), %lld tasks run, %lld future inputs (%lld set "
      "by a sibling task), %lld exceptions thrown, %lld pool liveness checks; %lld calls with "
      "options (%lld expired by a deadline or a stop, %lld slots timed_out or cancelled in "
      "all_settled, %lld reached their limit, %lld on_settled reports), %.1f s\n",
      opts.count, static_cast<unsigned long long>(opts.seed),
      static_cast<unsigned long long>(opts.seed + static_cast<std::uint64_t>(opts.count)) - 1,
      opts.threads, opts.gen.exec ? ", executor " : "",
      opts.gen.exec ? name_of(*opts.gen.exec) : "", opts.gen.focus_futures ? ", futures" : "",
      opts.gen.focus_options ? ", options" : "", opts.gen.focus_start ? ", start" : "",
      st.calls.load(), st.nested_calls.load(), st.started_calls.load(), st.awaited_calls.load(),
      st.tasks_run.load(), st.futures.load(), st.set_by_tasks.load(), st.thrown.load(),
      st.liveness_checks.load(), st.option_calls.load(), st.expired_calls.load(),
      st.expired_slots.load(), st.at_limit.load(), st.reports.load(), seconds);
  std::printf("%lld passed, %lld failed\n", opts.count - failed.load(), failed.load());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const options opts = parse(argc, argv);
  std::atomic<long long> failed{0};
  // Made before the pools, so that it also watches their destruction.
  hang_detector detector(opts, opts.threads);
  {
    settle::thread_pool pool1(1);
    settle::thread_pool pool2(2);
    settle::pool_options elastic_options;
    elastic_options.min_threads = 0;
    elastic_options.max_threads = 4;
    elastic_options.idle_timeout = std::chrono::milliseconds(5);
    settle::thread_pool elastic(elastic_options);
    derived_pool derived(1);
    const pools p{pool1,
                  pool2,
                  elastic,
                  derived,
                  std::chrono::seconds(opts.liveness_timeout_seconds),
                  static_cast<std::uint64_t>(opts.liveness_every),
                  opts.threads > 1,
                  opts.strict_settled_first};
    run_all(opts, p, detector, failed);
    detector.begin_teardown();
  }
  detector.end_teardown();
  return failed.load() == 0 ? 0 : 1;
}
