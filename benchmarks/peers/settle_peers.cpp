// settle_peers: settle's executor against its peers on five workloads, and settle's
// call options (SPEC §5) on three more.
//
//   W1  N tiny tasks (each returns i * 2): ns per task, N from 10 to 1 000 000
//   W2  3 tiny tasks, repeated: round trip
//   W3  N tasks that each block 20 ms (sleep_for), N in {3, 5, 10, 100}: wall; and
//       N in {300, 1 000} on the peers that start every task at once
//   W4  8 CPU tasks of 10 ms: speedup over running them one after another
//   W5  tasks that wait on subtasks of their own pool: completes or deadlocks
//   W6  1 000 tasks that block 2 ms under settle::limit(50): wall, peak running,
//       threads; beside std::async + std::counting_semaphore, 50 threads by hand and
//       one runner's chain of sleeps (the machine's floor)
//   W7  10 tasks waiting on their stop token under settle::timeout(50 ms): wall
//   W8  request_stop() on the caller's source (settle::stop_on) to the call's return
//   W9  start now, collect later (SPEC §6), W2's 3 tasks: settle::start + get() beside
//       the plain call; a coroutine's co_await round trip; 10 000 coroutines awaiting at
//       once: wall, and the threads alive
//   NR  W1 and W2 with settle::options{} passed explicitly vs the plain forms
//
// Peers: settle's default executor and a fixed settle::thread_pool, one
// std::async per task, a hand-written mutex/condvar pool (naive_pool.hpp),
// and, when they were found at build time, oneTBB task_group and Asio's
// thread_pool. Every peer runs the same tasks; runs of the peers are
// interleaved so that a change of load on the machine hits all of them alike.
// Threads alive, peak RSS and the deadlock probe run in fresh child
// processes (see child_process.hpp).
//
// Usage: settle_peers [--repeat N] [--quick] [--only W1,W6] [--peers a,b]
//                     [--threads N] [--json | --json=FILE]
#include "child_process.hpp"
#include "cli.hpp"
#include "harness.hpp"
#include "options_cells.hpp"
#include "options_report.hpp"
#include "output.hpp"
#include "peers.hpp"
#include "pending_cells.hpp"
#include "probes.hpp"
#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace peers;
using namespace std::chrono_literals;

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
    // The baseline opens every round, and the peers take turns to run right after it.
    config fair = c;
    fair.rotate_followers = true;
    auto ms = run_cell(w, rs, fair);
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

  // The call options, after the CPU work of W4 and before W3, which grows the default
  // executor to hundreds of threads. W6 grows it to the limit; W7 and W8 then find
  // their threads there.
  // They run settle's default executor: only when it is among the peers.
  const auto selected = [&r](const std::string& id) {
    return std::find(r.peer_ids.begin(), r.peer_ids.end(), id) != r.peer_ids.end();
  };
  const bool settle_selected = selected("settle-default");
  if (wanted(o, "W6") && settle_selected) {
    run_w6(c, selected("std-async"), append);
  }
  if (wanted(o, "W7") && settle_selected) {
    run_w7(c, append);
  }
  if (wanted(o, "W8") && settle_selected) {
    run_w8(c, append);
  }

  // W3 last: it may leave an elastic pool with many idle threads behind. The wide sizes
  // run only on the peers that start every task at once: a fixed pool of 2 would take
  // N / 2 latencies (the 100 tasks already show it) and seconds per run.
  if (wanted(o, "W3")) {
    std::vector<int> counts = c.w3_counts;
    counts.insert(counts.end(), c.w3_wide_counts.begin(), c.w3_wide_counts.end());
    for (int n : counts) {
      const bool wide = n > c.w3_counts.back();
      cell w{"W3", w3_label(n), "ms", 1e6, false, static_cast<std::uint64_t>(n)};
      const auto block = c.block;
      auto rs = runners([n, block](peers::peer& p) { return p.blocking(n, block); },
                        [n](peers::peer& p) { return p.blocking(n, microseconds(1000)); },
                        [wide](const peers::peer& p) {
                          return wide && p.id() != "settle-default" && p.id() != "std-async"
                                     ? std::string("skipped (fixed pool)")
                                     : std::string();
                        });
      append(run_cell(w, rs, c));
    }
  }

  // The plain forms of W1 and W2 beside the same calls with settle::options{}, last:
  // on a loaded machine, back-to-back calls of tiny tasks can make the default executor
  // grow (see the process threads table), which must not reach the cells above.
  if (wanted(o, "NR") && settle_selected) {
    run_nr(c, append);
  }
  // Start now, collect later (W2's call started), last for the same reason: W9b's burst
  // of 30 000 tiny tasks may make the default executor grow. Its threads are counted
  // as gained in this process, and in a fresh process by the W9 probe below.
  if (wanted(o, "W9") && settle_selected) {
    run_w9a(c, append);
    run_w9b_round_trip(c, append);
    run_w9b_crowd(c, append);
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
  if (wanted(o, "W6") && settle_selected) {
    std::cerr << "  threads right after W6 (child process)\n";
    auto args = child_args(o, "w6", "settle-default");
    args.insert(args.end(),
                {"--n", std::to_string(c.w6_tasks), "--limit", std::to_string(c.w6_limit),
                 "--block-us", std::to_string(c.w6_block.count())});
    auto child = peers::spawn_self(args);
    r.probes.push_back({"w6", "settle-default", "settle default_executor()", "",
                        peers::finish(child, clock_type::now() + 120s)});
  }
  if (wanted(o, "W9") && settle_selected) {
    std::cerr << "  threads with " << c.w9_coroutines << " coroutines awaiting (child process)\n";
    auto args = child_args(o, "w9", "settle-default");
    args.insert(args.end(), {"--n", std::to_string(c.w9_coroutines)});
    auto child = peers::spawn_self(args);
    r.probes.push_back({"w9", "settle-default", "settle default_executor()", "",
                        peers::finish(child, clock_type::now() + 120s)});
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
  evaluate_option_targets(r);
  evaluate_pending_targets(r);

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
    if (!p.result.ok() ||
        (settle_peer && p.kind == "w5" && p.result.get("result") != "completes" &&
         p.result.get("result") != "n/a") ||
        ((p.kind == "w6" || p.kind == "w9") && p.result.get("checksum_ok") != "1")) {
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
