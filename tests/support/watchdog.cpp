#include "support/watchdog.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace settle_test {

std::chrono::seconds watchdog_limit() {
  if (const char* env = std::getenv("SETTLE_TEST_WATCHDOG_SECONDS")) {
    const long seconds = std::strtol(env, nullptr, 10);
    if (seconds > 0) return std::chrono::seconds{seconds};
  }
  return std::chrono::seconds{60};
}

watchdog::watchdog(std::chrono::seconds limit) : limit_(limit), thread_([this] { run(); }) {}

watchdog::~watchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void watchdog::arm(std::string what) {
  {
    std::lock_guard lock(mutex_);
    what_ = std::move(what);
    deadline_ = std::chrono::steady_clock::now() + limit_;
    armed_ = true;
  }
  cv_.notify_all();
}

void watchdog::disarm() {
  {
    std::lock_guard lock(mutex_);
    armed_ = false;
  }
  cv_.notify_all();
}

void watchdog::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (!armed_) {
      cv_.wait(lock);
      continue;
    }
    const auto deadline = deadline_;
    cv_.wait_until(lock, deadline);
    // Re-armed, disarmed or stopped meanwhile: start over with the new state.
    if (stopping_ || !armed_ || deadline_ != deadline) continue;
    if (std::chrono::steady_clock::now() < deadline) continue;  // spurious wake-up
    std::fprintf(stderr,
                 "\nsettle test watchdog: %s did not finish within %lld s; it probably "
                 "deadlocked. Ending the test run.\n",
                 what_.c_str(), static_cast<long long>(limit_.count()));
    std::fflush(stderr);
    std::fflush(stdout);
    std::_Exit(1);
  }
}

}  // namespace settle_test
