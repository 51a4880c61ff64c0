// settle_peers: settle's executor against its peers on five workloads.
//
//   W1  N tiny tasks (each returns i * 2): ns per task, N from 10 to 1 000 000
//   W2  3 tiny tasks, repeated: round trip
//   W3  N tasks that each block 20 ms (sleep_for), N in {3, 5, 10, 100}: wall
//   W4  8 CPU tasks of 10 ms: speedup over running them one after another
//   W5  tasks that wait on subtasks of their own pool: completes or deadlocks
//
// Peers: settle's default executor and a fixed settle::thread_pool, one
// std::async per task, a hand-written mutex/condvar pool (naive_pool.hpp),
// and, when they were found at build time, oneTBB task_group and Asio's
// thread_pool. Every peer runs the same tasks; runs of the peers are
// interleaved so that a change of load on the machine hits all of them alike.
// Threads alive, peak RSS and the deadlock probe run in fresh child
// processes (see child_process.hpp).
//
// Usage: settle_peers [--repeat N] [--quick] [--only W1,W3] [--peers a,b]
//                     [--threads N] [--json | --json=FILE]
#include "child_process.hpp"
#include "harness.hpp"
#include "output.hpp"
#include "peers.hpp"
#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace peers;
using namespace std::chrono_literals;

std::vector<std::string> split(const std::string& text, char separator) {
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

// ---------------------------------------------------------------------------
// Options and the configuration they select.

void usage(std::ostream& out) {
  out << "usage: settle_peers [options]\n"
         "  --repeat N      timed runs per cell (default 7, after one warm-up run)\n"
         "  --quick         a few-seconds smoke run: small sizes, 2 ms blocking, 1 run\n"
         "  --only W1,W3    run only these workloads (W1..W5)\n"
         "  --peers a,b     run only these peers:";
  for (const auto& id : peers::available_peers()) {
    out << ' ' << id;
  }
  out << "\n"
         "  --threads N     threads of the fixed pools (default: hardware_concurrency)\n"
         "  --json          print JSON instead of the tables\n"
         "  --json=FILE     also write JSON to FILE\n";
}

std::optional<options> parse(int argc, char** argv) {
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
      for (auto& w : split(value(), ',')) {
        if (w.size() == 2 && (w[0] == 'w' || w[0] == 'W') && w[1] >= '1' && w[1] <= '5') {
          o.only.insert(std::string("W") + w[1]);
        } else {
          throw std::invalid_argument("unknown workload " + w + " (expected W1..W5)");
        }
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

config make_config(const options& o) {
  config c;
  if (o.quick) {
    c.w1_sizes = {10, 1000};
    c.w1_main = 1000;
    c.block = 2ms;
    c.w4_task = 1ms;
    c.w5_deadline = 2000ms;
    c.repeat = o.repeat_given ? o.repeat : 1;
    c.min_runs = 1;
    c.budget = 200ms;
    c.sample_target = 1ms;
  } else {
    c.w1_sizes = {10, 1000, 10'000, 100'000, 1'000'000};
    c.w1_main = 10'000;
    c.block = 20ms;
    c.w4_task = 10ms;
    c.w5_deadline = 2000ms;
    c.repeat = o.repeat;
    c.min_runs = std::min(3, o.repeat);
    c.budget = 2s;
    c.sample_target = 5ms;
  }
  return c;
}

std::optional<peers::nesting> parse_shape(const std::string& s) {
  if (s == "1") return peers::nesting::one_thread;
  if (s == "2") return peers::nesting::two_threads;
  if (s == "elastic") return peers::nesting::elastic;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Child-process probes. The child side prints "key value" lines.

int probe_main(const options& o) {
  auto p = peers::make_peer(o.probe_peer, o.threads);
  if (!p) {
    std::cerr << "settle_peers: unknown peer " << o.probe_peer << '\n';
    return 2;
  }
  auto& out = std::cout;
  if (o.probe == "threads") {
    // Threads alive right after W1 in a process that ran nothing else.
    out << "threads_before " << peers::proc_status("Threads") << '\n';
    const auto sum = p->tiny(o.n);
    const long threads = peers::proc_status("Threads");
    out << "threads " << threads << '\n';
    out << "pool_threads " << p->pool_threads() << '\n';
    out << "checksum_ok "
        << (sum == static_cast<std::uint64_t>(o.n) * static_cast<std::uint64_t>(o.n - 1)) << '\n';
  } else if (o.probe == "rss") {
    // Peak RSS of a process that ran only W3 with 100 tasks.
    out << "rss_before_kb " << peers::proc_status("VmRSS") << '\n';
    const auto start = clock_type::now();
    const auto sum = p->blocking(100, microseconds(o.block_us));
    out << "wall_ms " << to_ns(clock_type::now() - start) / 1e6 << '\n';
    out << "hwm_kb " << peers::proc_status("VmHWM") << '\n';
    out << "threads_after " << peers::proc_status("Threads") << '\n';
    out << "pool_threads " << p->pool_threads() << '\n';
    out << "checksum_ok " << (sum == 100) << '\n';
  } else if (o.probe == "w5") {
    const auto shape = parse_shape(o.shape);
    if (!shape) {
      std::cerr << "settle_peers: unknown shape " << o.shape << '\n';
      return 2;
    }
    if (!p->supports(*shape)) {
      out << "result n/a\n";
      return 0;
    }
    const int outer = peers::outer_tasks(*shape, hardware_cores());
    std::packaged_task<std::uint64_t()> job([&p, shape] { return p->nested(*shape); });
    auto finished = job.get_future();
    const auto start = clock_type::now();
    std::thread worker(std::move(job));
    if (finished.wait_for(milliseconds(o.deadline_ms)) != std::future_status::ready) {
      // The pool's threads are all blocked: report, and leave without running
      // any destructor (the pool's would wait forever).
      out << "result deadlocks\n";
      out << "waited_ms " << o.deadline_ms << '\n';
      out.flush();
      std::_Exit(0);
    }
    worker.join();
    out << "ms " << to_ns(clock_type::now() - start) / 1e6 << '\n';
    try {
      const auto sum = finished.get();
      out << "result "
          << (sum == static_cast<std::uint64_t>(3 * outer) ? "completes" : "wrong result") << '\n';
    } catch (const std::exception& e) {
      out << "result throws " << e.what() << '\n';
    }
  } else {
    std::cerr << "settle_peers: unknown probe " << o.probe << '\n';
    return 2;
  }
  return 0;
}

std::vector<std::string> child_args(const options& o, const std::string& kind,
                                    const std::string& peer_id) {
  return {"--probe", kind, "--peer", peer_id, "--threads", std::to_string(o.threads)};
}

// ---------------------------------------------------------------------------

int run(const options& o) {
  report r;
  r.machine = describe_machine();
  r.opts = o;
  r.cfg = make_config(o);
  const auto& c = r.cfg;
  r.peer_ids = o.peer_ids;

  std::vector<std::unique_ptr<peers::peer>> owned;
  for (const auto& id : r.peer_ids) {
    owned.push_back(peers::make_peer(id, o.threads));
    r.peer_names[id] = std::string(owned.back()->name());
    r.nesting_setups[id] = owned.back()->nesting_setup();
  }

  auto runners = [&](const std::function<std::uint64_t(peers::peer&)>& op,
                     const std::function<std::uint64_t(peers::peer&)>& warm,
                     const std::function<std::string(const peers::peer&)>& skip) {
    std::vector<runner> out;
    for (auto& p : owned) {
      peers::peer& ref = *p;
      out.push_back({std::string(ref.id()), std::string(ref.name()),
                     [&ref, warm] { return warm(ref); }, [&ref, op] { return op(ref); },
                     skip ? skip(ref) : std::string(), [&ref] { return ref.pool_threads(); }});
    }
    return out;
  };
  auto append = [&r](std::vector<measurement> ms) {
    if (!ms.empty() && ms.front().where.label != "speedup") {
      r.process_threads.emplace_back(ms.front().where.workload + " " + ms.front().where.label,
                                     peers::proc_status("Threads"));
    }
    r.results.insert(r.results.end(), std::make_move_iterator(ms.begin()),
                     std::make_move_iterator(ms.end()));
  };

  // W1 and its growth series, the headline size first.
  if (wanted(o, "W1")) {
    std::vector<int> sizes{c.w1_main};
    for (int n : c.w1_sizes) {
      if (n != c.w1_main) {
        sizes.push_back(n);
      }
    }
    for (int n : sizes) {
      cell w{"W1",      w1_label(n),
             "ns/task", static_cast<double>(n),
             true,      static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n - 1)};
      auto rs = runners([n](peers::peer& p) { return p.tiny(n); },
                        [n](peers::peer& p) { return p.tiny(std::min(n, 1000)); },
                        [n](const peers::peer& p) {
                          return n > p.max_tiny()
                                     ? "skipped (over " + std::to_string(p.max_tiny()) + " tasks)"
                                     : std::string();
                        });
      append(run_cell(w, rs, c));
    }
  }

  if (wanted(o, "W2")) {
    cell w{"W2", "3 tasks", "µs", 1000.0, true, 6};
    auto rs = runners([](peers::peer& p) { return p.fan_out(); },
                      [](peers::peer& p) { return p.fan_out(); }, {});
    append(run_cell(w, rs, c));
  }

  if (wanted(o, "W4")) {
    const auto iterations = calibrate_spin(c.w4_task);
    const int tasks = c.w4_tasks;
    std::uint64_t expected = 0;
    for (int i = 0; i < tasks; ++i) {
      expected += peers::spin(iterations, static_cast<std::uint64_t>(i));
    }
    cell w{"W4", w4_label(c), "ms", 1e6, false, expected};
    auto rs = runners([tasks, iterations](peers::peer& p) { return p.cpu(tasks, iterations); },
                      [iterations](peers::peer& p) { return p.cpu(1, iterations); }, {});
    // The baseline: the same tasks one after another on this thread.
    auto sequential = [tasks, iterations] {
      std::uint64_t sum = 0;
      for (int i = 0; i < tasks; ++i) {
        sum += peers::spin(iterations, static_cast<std::uint64_t>(i));
      }
      return sum;
    };
    rs.insert(rs.begin(),
              runner{"sequential", "sequential (one thread)", sequential, sequential, "", {}});
    auto ms = run_cell(w, rs, c);
    // Speedup = sequential median / peer's run; a monotone map of the samples,
    // so the median speedup is the ratio of the medians.
    std::optional<double> base;
    for (const auto& x : ms) {
      if (x.peer_id == "sequential" && x.ok()) {
        base = x.stats().median;
      }
    }
    std::vector<measurement> speedups;
    for (const auto& x : ms) {
      if (x.peer_id == "sequential") {
        continue;
      }
      measurement s = x;
      s.where.label = "speedup";
      s.where.unit = "x";
      if (!base) {
        s.samples.clear();
        s.note = "no sequential baseline";
      }
      for (auto& v : s.samples) {
        v = *base / v;
      }
      speedups.push_back(std::move(s));
    }
    append(std::move(ms));
    append(std::move(speedups));
  }

  // W3 last: it may leave an elastic pool with many idle threads behind.
  if (wanted(o, "W3")) {
    for (int n : c.w3_counts) {
      cell w{"W3", w3_label(n), "ms", 1e6, false, static_cast<std::uint64_t>(n)};
      const auto block = c.block;
      auto rs = runners([n, block](peers::peer& p) { return p.blocking(n, block); },
                        [n](peers::peer& p) { return p.blocking(n, microseconds(1000)); }, {});
      append(run_cell(w, rs, c));
    }
  }

  // The timed pools are no longer needed; the probes run in fresh processes.
  owned.clear();

  if (wanted(o, "W1")) {
    std::cerr << "  threads right after W1 (child processes)\n";
    for (const auto& id : r.peer_ids) {
      auto args = child_args(o, "threads", id);
      args.insert(args.end(), {"--n", std::to_string(c.w1_main)});
      auto child = peers::spawn_self(args);
      r.probes.push_back(
          {"threads", id, r.peer_names[id], "", peers::finish(child, clock_type::now() + 120s)});
    }
  }
  if (wanted(o, "W5")) {
    // All at once: a deadlocked child just sleeps until its own deadline.
    std::cerr << "  W5 nested (child processes, deadline " << c.w5_deadline.count() << " ms)\n";
    struct pending {
      std::string id;
      std::string shape;
      peers::child_process child;
    };
    std::vector<pending> running;
    for (const auto& id : r.peer_ids) {
      for (auto shape : all_shapes) {
        auto args = child_args(o, "w5", id);
        args.insert(args.end(), {"--shape", w5_shape_name(shape), "--deadline-ms",
                                 std::to_string(c.w5_deadline.count())});
        running.push_back({id, w5_shape_name(shape), peers::spawn_self(args)});
      }
    }
    const auto deadline = clock_type::now() + c.w5_deadline + 30s;
    for (auto& p : running) {
      r.probes.push_back(
          {"w5", p.id, r.peer_names[p.id], p.shape, peers::finish(p.child, deadline)});
    }
  }
  if (wanted(o, "W3")) {
    std::cerr << "  peak RSS for W3 N=100 (child processes)\n";
    for (const auto& id : r.peer_ids) {
      auto args = child_args(o, "rss", id);
      args.insert(args.end(), {"--block-us", std::to_string(c.block.count())});
      auto child = peers::spawn_self(args);
      r.probes.push_back(
          {"rss", id, r.peer_names[id], "", peers::finish(child, clock_type::now() + 120s)});
    }
  }

  r.machine.load_end = peers::first_line("/proc/loadavg");
  {
    const auto now = peers::machine_cpu_times();
    const double total = now.total - r.machine.cpu_start.total;
    const double others =
        (now.busy - r.machine.cpu_start.busy) - (peers::own_cpu_seconds() - r.machine.own_start);
    r.machine.others_share = total > 0 ? std::clamp(others / total, 0.0, 1.0) : 0.0;
  }
  evaluate_targets(r);

  if (!o.json_stdout) {
    print_text(r, std::cout);
  } else {
    print_json(r, std::cout);
  }
  if (!o.json_path.empty()) {
    std::ofstream file(o.json_path);
    print_json(r, file);
    if (!file) {
      std::cerr << "settle_peers: cannot write " << o.json_path << '\n';
      return 1;
    }
  }

  // A wrong result or a failed probe is a failure of the program; timings never are.
  bool failed = false;
  for (const auto& x : r.results) {
    if (x.note == "wrong result" || x.note.rfind("error", 0) == 0) {
      std::cerr << "settle_peers: " << x.where.workload << ' ' << x.where.label << ' ' << x.peer_id
                << ": " << x.note << '\n';
      failed = true;
    }
  }
  for (const auto& p : r.probes) {
    const bool settle_peer = p.peer_id.rfind("settle", 0) == 0;
    if (!p.result.ok() || (settle_peer && p.kind == "w5" && p.result.get("result") != "completes" &&
                           p.result.get("result") != "n/a")) {
      std::cerr << "settle_peers: probe " << p.kind << ' ' << p.peer_id << ' ' << p.shape << ": "
                << p.result.status << ' ' << p.result.get("result") << '\n';
      failed = failed || settle_peer || !p.result.ok();
    }
  }
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto o = parse(argc, argv);
    if (!o) {
      return 0;
    }
    if (!o->probe.empty()) {
      return probe_main(*o);
    }
    return run(*o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "settle_peers: " << e.what() << '\n';
    usage(std::cerr);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "settle_peers: " << e.what() << '\n';
    return 1;
  }
}
