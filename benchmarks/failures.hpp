// The failures section of settle_bench: k of n operations throw, and the caller
// sees what all_settled keeps and what all reports.
#pragma once

#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <numeric>
#include <stop_token>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace settle_bench {

struct failure_outcome {
  double ms = 0;
  std::size_t values = 0;         // results the caller gets back as values
  std::size_t errors = 0;         // errors the caller gets to see
  std::string first_error;        // the error all() threw, or the first rejected reason
  std::size_t stopped_early = 0;  // operations that saw their stop token and gave up
};

/// k of n operations fail (staggered, so "first" is well defined); the rest take `latency`.
inline failure_outcome run_failures(bool use_all, std::size_t n, std::size_t k,
                                    std::chrono::milliseconds latency) {
  std::vector<bool> fails(n, false);
  std::vector<std::chrono::microseconds> fail_after(n);
  for (std::size_t j = 0; j < k; ++j) {  // spread the failing ones over the row
    const std::size_t i = j * n / k + n / (2 * k);
    fails[i] = true;
    fail_after[i] = std::chrono::microseconds(latency) * static_cast<long>(j + 2) / 8;
  }
  std::atomic<std::size_t> stopped{0};
  auto op = [&](std::stop_token stop, std::size_t i) -> std::size_t {
    if (fails[i]) {
      simulated_io(stop, fail_after[i]);
      throw upstream_error("op " + std::to_string(i + 1) + ": upstream answered 503");
    }
    if (!simulated_io(stop, latency)) stopped.fetch_add(1, std::memory_order_relaxed);
    return i;
  };
  std::vector<std::size_t> ids(n);
  std::iota(ids.begin(), ids.end(), std::size_t{0});
  failure_outcome o;
  const auto t0 = clock::now();
  if (use_all) {
    try {
      o.values = settle::all(ids, op).size();
    } catch (const std::exception& e) {
      o.errors = 1;
      o.first_error = e.what();
    }
  } else {
    for (const auto& r : settle::all_settled(ids, op)) {
      if (r.is_fulfilled()) {
        ++o.values;
      } else if (o.errors++ == 0) {
        o.first_error = settle::describe(r.reason());
      }
    }
  }
  o.ms = ms_between(t0, clock::now());
  o.stopped_early = stopped.load();
  return o;
}

}  // namespace settle_bench
