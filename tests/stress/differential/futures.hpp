// The promises behind the future inputs of one call, and the thread that sets the late
// ones. A future input is work the caller started: here, a promise that the scenario
// settles at the time its input_kind says.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "differential/runner.hpp"

namespace settle_stress {

/// Owns one promise per future input of `c`'s call (indexed like the inputs):
/// - ready futures are set by the constructor, before the call;
/// - late futures by a setter thread, each `latency` after `start()`;
/// - sibling futures by the task named `set_by`, as it runs (see `set_siblings`);
/// - everything still unset when the call has returned (futures set only after the call,
///   late futures the call did not wait for, siblings whose task never started) by
///   `release()`, which also stops and joins the setter.
/// Each promise is set exactly once, whoever gets there first. The destructor releases, so
/// every promise is set and the setter joined before the scenario ends. While it exists,
/// `c.futures` points to it, so that the call's tasks find the promises they set.
class future_inputs {
 public:
  explicit future_inputs(run_context& c);
  ~future_inputs();
  future_inputs(const future_inputs&) = delete;
  future_inputs& operator=(const future_inputs&) = delete;

  /// The future of input `index`; once per future input.
  [[nodiscard]] std::future<int> take(int index);
  /// Starts the setter thread for the late futures: call it just before the call.
  void start();
  /// Sets input `index`'s promise to its specified outcome, unless it is already set.
  void settle(int index) noexcept;
  /// After the call: sets every promise not set yet and joins the setter.
  void release() noexcept;

 private:
  void set_late(std::stop_token stop);

  run_context& c_;
  std::vector<std::promise<int>> promises_;
  std::vector<std::future<int>> futures_;
  std::unique_ptr<std::atomic<bool>[]> set_;
  std::jthread setter_;
};

}  // namespace settle_stress
