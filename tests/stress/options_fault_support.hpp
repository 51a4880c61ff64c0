// The tasks of the fault-injection tests with call options (fault_injection_options_test.cpp,
// fault_injection_expiry_test.cpp): a tiny task that records its start, a concurrency gauge
// and whether it ran after the call returned, and the on_settled reports of one call.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <stop_token>

#include <settle/options.hpp>
#include <settle/settled.hpp>

namespace settle_stress {

/// What the tasks of one call and its on_settled tell the test.
struct call_log {
  explicit call_log(int n)
      : size(n),
        started(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))),
        reports(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))),
        reported(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))) {}
  int size;
  std::unique_ptr<std::atomic<int>[]> started;
  std::unique_ptr<std::atomic<int>[]> reports;
  std::unique_ptr<std::atomic<int>[]> reported;  // 1 fulfilled, 2 rejected
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<bool> returned{false};
  std::atomic<int> late{0};  // task starts and reports after the call returned

  [[nodiscard]] settle::options progress() {
    return settle::on_settled([this](std::size_t i, settle::status s) {
      if (returned.load()) late.fetch_add(1);
      if (i >= static_cast<std::size_t>(size)) return;
      reported[i].store(s == settle::status::fulfilled ? 1 : 2);
      reports[i].fetch_add(1);
    });
  }
  [[nodiscard]] int at(int i) const { return started[static_cast<std::size_t>(i)].load(); }
  [[nodiscard]] int reports_of(int i) const { return reports[static_cast<std::size_t>(i)].load(); }
  [[nodiscard]] int status_of(int i) const { return reported[static_cast<std::size_t>(i)].load(); }
};

/// Thrown by the tasks that are drawn to fail.
struct task_failure {
  int index;
};

/// A tiny task: returns its index (or throws task_failure), spinning `work` iterations first.
struct tiny_task {
  call_log* log;
  int index;
  bool fails;
  int work;
  int operator()(std::stop_token token) const {
    if (log->returned.load()) log->late.fetch_add(1);
    log->started[static_cast<std::size_t>(index)].fetch_add(1);
    const int now = log->running.fetch_add(1) + 1;
    int peak = log->peak.load();
    while (now > peak && !log->peak.compare_exchange_weak(peak, now)) {
    }
    std::atomic<int> spin{0};
    for (int i = 0; i < work && !token.stop_requested(); ++i) spin.fetch_add(1);
    log->running.fetch_sub(1);
    if (fails) throw task_failure{index};
    return index;
  }
};

}  // namespace settle_stress
