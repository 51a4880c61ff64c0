// The child-process probes of settle_peers: this program started again with --probe,
// which runs one workload in a fresh process and prints "key value" lines (see
// child_process.hpp for the parent's side).
#ifndef SETTLE_BENCHMARKS_PEERS_PROBES_HPP
#define SETTLE_BENCHMARKS_PEERS_PROBES_HPP

#include <settle/settle.hpp>

#include "harness.hpp"
#include "options_workloads.hpp"
#include "peers.hpp"
#include "pending_cells.hpp"
#include "report.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <future>
#include <iostream>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace peers {

inline std::optional<peers::nesting> parse_shape(const std::string& s) {
  if (s == "1") return peers::nesting::one_thread;
  if (s == "2") return peers::nesting::two_threads;
  if (s == "elastic") return peers::nesting::elastic;
  return std::nullopt;
}

/// W6 in a process that ran nothing else: settle's limited map once, and the threads
/// alive after it.
inline int probe_w6(const options& o) {
  auto& out = std::cout;
  std::vector<int> ids(static_cast<std::size_t>(o.n));
  std::iota(ids.begin(), ids.end(), 0);
  opts::gauge g;
  out << "threads_before " << peers::proc_status("Threads") << '\n';
  const auto start = clock_type::now();
  const auto sum = opts::limited_map(ids, o.limit, microseconds(o.block_us), g);
  out << "wall_ms " << to_ns(clock_type::now() - start) / 1e6 << '\n';
  out << "threads " << peers::proc_status("Threads") << '\n';
  out << "pool_threads " << settle::default_executor().thread_count() << '\n';
  out << "peak " << g.peak() << '\n';
  out << "checksum_ok " << (sum == static_cast<std::uint64_t>(o.n)) << '\n';
  return 0;
}

/// The child side of a probe: prints "key value" lines.
inline int probe_main(const options& o) {
  if (o.probe == "w6") {
    return probe_w6(o);
  }
  if (o.probe == "w9") {
    return probe_w9(o);
  }
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

inline std::vector<std::string> child_args(const options& o, const std::string& kind,
                                           const std::string& peer_id) {
  return {"--probe", kind, "--peer", peer_id, "--threads", std::to_string(o.threads)};
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_PROBES_HPP
