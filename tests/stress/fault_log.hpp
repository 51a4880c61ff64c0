// The task log of the fault injection tests: which tasks of a call started, how many are
// inside their body, how many returned.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace settle_stress {

/// What a group of tasks tells the test: which started, how many are inside their body.
struct task_log {
  explicit task_log(int n)
      : size(n), started(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))) {}
  int size;
  std::unique_ptr<std::atomic<int>[]> started;
  std::atomic<int> running{0};
  std::atomic<int> finished{0};

  [[nodiscard]] int started_at(int i) const { return started[static_cast<std::size_t>(i)].load(); }
  [[nodiscard]] int started_total() const {
    int sum = 0;
    for (int i = 0; i < size; ++i) sum += started_at(i);
    return sum;
  }
};

/// RAII bracket of a task body in a task_log.
struct in_body {
  in_body(task_log& l, int i) : log(l) {
    log.started[static_cast<std::size_t>(i)].fetch_add(1);
    log.running.fetch_add(1);
  }
  ~in_body() {
    log.finished.fetch_add(1);
    log.running.fetch_sub(1);
  }
  task_log& log;
};

}  // namespace settle_stress
