// A watchdog that turns a hung test into a failure that names the test, instead of a
// silent CI timeout. The test runner's listener (support/main.cpp) arms it when a test
// case or section starts and disarms it when the test case ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace settle_test {

/// How long one test case (or one of its sections) may run before the watchdog ends the
/// process: $SETTLE_TEST_WATCHDOG_SECONDS, or 60 seconds. Sanitizer builds may raise it.
[[nodiscard]] std::chrono::seconds watchdog_limit();

class watchdog {
 public:
  explicit watchdog(std::chrono::seconds limit);
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog();

  /// (Re)starts the countdown for `what`. When it expires before `disarm()`, the
  /// watchdog prints `what` on stderr and ends the process with exit code 1.
  void arm(std::string what);
  void disarm();

 private:
  void run();

  std::chrono::seconds limit_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string what_;
  std::chrono::steady_clock::time_point deadline_{};
  bool armed_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace settle_test
