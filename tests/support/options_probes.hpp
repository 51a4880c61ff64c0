// Probes for the tests of call options (options_test.cpp, options_limit_test.cpp): a stop
// wait with a fallback, a bounded arrival counter, a recorder for on_settled, and the reason
// kinds. Every wait has a generous fallback, so a library that never signals shows up as a
// failed check, not a hang.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <stop_token>
#include <string>

#include <settle/errors.hpp>
#include <settle/options.hpp>
#include <settle/settled.hpp>

namespace settle_test {

/// How long a probe waits for something that a correct library makes happen at once.
inline constexpr std::chrono::seconds fallback{10};

/// Blocks until `token` is signalled or `fallback` has passed; true when signalled.
inline bool stop_within_fallback(const std::stop_token& token) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return cv.wait_for(lock, token, fallback, [] { return false; }) || token.stop_requested();
}

/// A task that runs until its token is signalled (or the fallback) and says whether it was.
inline int until_stopped(std::stop_token token) { return stop_within_fallback(token) ? 1 : 0; }

/// A task returning `v`.
inline auto returns(int v) {
  return [v] { return v; };
}

/// A count of arrivals that another thread can wait for, up to `fallback`.
class arrivals {
 public:
  void arrive() {
    {
      std::lock_guard lock(mutex_);
      ++count_;
    }
    cv_.notify_all();
  }
  /// True when `n` have arrived within `fallback`.
  bool wait_for(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, fallback, [&] { return count_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

/// What on_settled reported for each of up to `N` slots: how many times, and the last status.
template <std::size_t N>
class progress {
 public:
  /// Options with an on_settled that records here.
  [[nodiscard]] settle::options options() {
    return settle::on_settled([this](std::size_t i, settle::status s) {
      if (i >= N) {
        ++out_of_range_;
        return;
      }
      calls_[i].fetch_add(1);
      status_[i].store(s == settle::status::fulfilled ? 1 : 2);
    });
  }
  /// Times slot `i` was reported.
  [[nodiscard]] int calls(std::size_t i) const { return calls_[i].load(); }
  /// True when each of the first `n` slots was reported exactly once, and no other slot.
  [[nodiscard]] bool each_once(std::size_t n) const {
    for (std::size_t i = 0; i < N; ++i)
      if (calls_[i].load() != (i < n ? 1 : 0)) return false;
    return out_of_range_.load() == 0;
  }
  [[nodiscard]] bool fulfilled(std::size_t i) const { return status_[i].load() == 1; }
  [[nodiscard]] bool rejected(std::size_t i) const { return status_[i].load() == 2; }
  void reset() {
    for (std::size_t i = 0; i < N; ++i) {
      calls_[i] = 0;
      status_[i] = 0;
    }
    out_of_range_ = 0;
  }

 private:
  std::array<std::atomic<int>, N> calls_{};
  std::array<std::atomic<int>, N> status_{};
  std::atomic<int> out_of_range_{0};
};

/// "timed_out", "cancelled" (a cancelled that is not timed_out), or what else `e` holds.
[[nodiscard]] inline std::string kind(const std::exception_ptr& e) {
  if (!e) return "none";
  try {
    std::rethrow_exception(e);
  } catch (const settle::timed_out&) {
    return "timed_out";
  } catch (const settle::cancelled&) {
    return "cancelled";
  } catch (...) {
    return "other";
  }
}

/// The kind of what `call()` throws, "none" when it returns.
template <class Call>
[[nodiscard]] std::string kind_thrown(Call&& call) {
  try {
    (void)call();
  } catch (...) {
    return kind(std::current_exception());
  }
  return "none";
}

}  // namespace settle_test
