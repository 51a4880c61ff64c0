// The workloads of the call options (SPEC §5), on settle's default executor:
//
//   W6  limited map: n tasks that each block, settle::limit(k); beside it what a user
//       writes by hand, one std::async per task around a std::counting_semaphore
//   W7  deadline precision: tasks that wait on their stop token, settle::timeout
//   W8  stop latency: request_stop() on the caller's std::stop_source (settle::stop_on)
//       to the call's return, the tasks all running and waiting on their token
//   NR  no regression: W1 and W2 with settle::options{} passed explicitly, beside the
//       plain forms of the same calls
//
// Each returns a checksum the harness verifies, as the peers' workloads do.
#ifndef SETTLE_BENCHMARKS_PEERS_OPTIONS_WORKLOADS_HPP
#define SETTLE_BENCHMARKS_PEERS_OPTIONS_WORKLOADS_HPP

#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <stop_token>
#include <thread>
#include <typeinfo>
#include <vector>

namespace peers::opts {

using clock_type = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

/// How many tasks run at once, and the most that ever did.
class gauge {
 public:
  void reset() noexcept {
    now_.store(0);
    peak_.store(0);
  }
  void enter() noexcept {
    const int running = now_.fetch_add(1) + 1;
    int peak = peak_.load();
    while (running > peak && !peak_.compare_exchange_weak(peak, running)) {
    }
  }
  void leave() noexcept { now_.fetch_sub(1); }
  [[nodiscard]] int peak() const noexcept { return peak_.load(); }

 private:
  std::atomic<int> now_{0};
  std::atomic<int> peak_{0};
};

template <class T>
std::uint64_t sum_values(const std::vector<settle::settled<T>>& results) {
  std::uint64_t sum = 0;
  for (const auto& r : results) {
    sum += static_cast<std::uint64_t>(r.value());
  }
  return sum;
}

// --- W6 ---------------------------------------------------------------------------

/// settle's map form over `ids` under settle::limit(limit); each task blocks `block`.
inline std::uint64_t limited_map(const std::vector<int>& ids, int limit, microseconds block,
                                 gauge& g) {
  auto results =
      settle::all_settled(settle::limit(static_cast<std::size_t>(limit)), ids, [&g, block](int) {
        g.enter();
        std::this_thread::sleep_for(block);
        g.leave();
        return 1;
      });
  return sum_values(results);
}

/// The same by hand: one std::async per task, each acquiring a counting semaphore.
inline std::uint64_t semaphore_async(int n, int limit, microseconds block, gauge& g) {
  std::counting_semaphore<> permits(limit);
  std::vector<std::future<int>> futures;  // after `permits`: joined before it goes
  futures.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    futures.push_back(std::async(std::launch::async, [&permits, &g, block] {
      permits.acquire();
      g.enter();
      std::this_thread::sleep_for(block);
      g.leave();
      permits.release();
      return 1;
    }));
  }
  std::uint64_t sum = 0;
  for (auto& f : futures) {
    sum += static_cast<std::uint64_t>(f.get());
  }
  return sum;
}

/// W6's floor on this machine: the chain of tasks one of the `limit` runners goes
/// through, ceil(n / limit) sleeps of `block` in a row on this thread. Returns `n`, as if
/// the other runners had run their chains alongside.
inline std::uint64_t sleep_chain(int n, int limit, microseconds block) {
  for (int k = 0; k < (n + limit - 1) / limit; ++k) {
    std::this_thread::sleep_for(block);
  }
  return static_cast<std::uint64_t>(n);
}

/// W6 by hand with exactly `threads` threads, started beforehand (a pool of that size):
/// each call releases them, and they take tasks from one atomic cursor until none is left.
class thread_gang {
 public:
  explicit thread_gang(int threads) {
    for (int k = 0; k < threads; ++k) {
      threads_.emplace_back([this] { loop(); });
    }
  }
  thread_gang(const thread_gang&) = delete;
  thread_gang& operator=(const thread_gang&) = delete;
  ~thread_gang() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
      ++round_;
    }
    go_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
  }

  std::uint64_t run(int n, microseconds block, gauge& g) {
    {
      std::lock_guard lock(m_);
      n_ = n;
      block_ = block;
      gauge_ = &g;
      next_.store(0);
      finished_ = 0;
      ++round_;
    }
    go_.notify_all();
    std::unique_lock lock(m_);
    done_.wait(lock, [this] { return finished_ == threads_.size(); });
    return ran_.exchange(0);
  }

 private:
  void loop() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(m_);
        go_.wait(lock, [&] { return round_ != seen; });
        seen = round_;
        if (stop_) {
          return;
        }
      }
      std::uint64_t ran = 0;
      for (int i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) {
        gauge_->enter();
        std::this_thread::sleep_for(block_);
        gauge_->leave();
        ++ran;
      }
      ran_.fetch_add(ran);
      {
        std::lock_guard lock(m_);
        ++finished_;
      }
      done_.notify_one();
    }
  }

  std::mutex m_;
  std::condition_variable go_;
  std::condition_variable done_;
  std::uint64_t round_ = 0;
  bool stop_ = false;
  std::size_t finished_ = 0;
  int n_ = 0;  // written under m_ before a round, read by the threads after it
  microseconds block_{};
  gauge* gauge_ = nullptr;
  std::atomic<int> next_{0};
  std::atomic<std::uint64_t> ran_{0};
  std::vector<std::thread> threads_;
};

// --- W7 and W8 --------------------------------------------------------------------

/// A cooperative task: sleeps on a condition_variable_any until its token is signalled.
inline int wait_on_condvar(const std::stop_token& token) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, token, [] { return false; });
  return 1;
}

/// A cooperative task that looks at its token every 100 µs.
inline int poll_token(const std::stop_token& token) {
  while (!token.stop_requested()) {
    std::this_thread::sleep_for(microseconds(100));
  }
  return 1;
}

/// How many outcomes were rejected with `Reason` (and not with a class derived from it
/// that `Reason` is not: a `timed_out` is not counted as a `cancelled`).
template <class Reason>
std::uint64_t count_rejected_with(const std::vector<settle::settled<int>>& results) {
  std::uint64_t n = 0;
  for (const auto& r : results) {
    if (!r.is_rejected()) {
      continue;
    }
    try {
      std::rethrow_exception(r.reason());
    } catch (const Reason& e) {
      n += typeid(e) == typeid(Reason) ? 1 : 0;
    } catch (...) {
    }
  }
  return n;
}

/// W7: `n` tasks that wait for their token, under settle::timeout(timeout). Returns how
/// many settled timed_out (all of them).
inline std::uint64_t deadline_call(int n, milliseconds timeout, bool poll) {
  auto task = [poll](std::stop_token token) {
    return poll ? poll_token(token) : wait_on_condvar(token);
  };
  std::vector<decltype(task)> tasks(static_cast<std::size_t>(n), task);
  return count_rejected_with<settle::timed_out>(
      settle::all_settled(settle::timeout(timeout), tasks));
}

struct stop_sample {
  clock_type::duration latency{};  // request_stop() to the call's return
  std::uint64_t cancelled = 0;     // outcomes rejected with settle::cancelled
  bool started = true;             // every task was running before the stop
};

/// W8: `n` tasks waiting on a condition_variable_any with their token; once all of them
/// run, another thread requests a stop on the caller's source, handed to the call with
/// settle::stop_on. The latency runs from just before request_stop() to the return.
inline stop_sample stop_latency(int n) {
  std::stop_source source;
  std::latch running(n);
  stop_sample s;
  clock_type::time_point stop_at{};
  std::thread stopper([&] {
    // Polls the latch rather than waiting on it, so that a task that never starts
    // (a pool that cannot grow) cannot hang the benchmark: it stops after 10 s anyway.
    const auto give_up = clock_type::now() + std::chrono::seconds(10);
    while (!running.try_wait()) {
      if (clock_type::now() > give_up) {
        s.started = false;
        break;
      }
      std::this_thread::sleep_for(microseconds(20));
    }
    stop_at = clock_type::now();
    source.request_stop();
  });
  auto task = [&running](std::stop_token token) {
    running.count_down();
    return wait_on_condvar(token);
  };
  std::vector<decltype(task)> tasks(static_cast<std::size_t>(n), task);
  const auto results = settle::all_settled(settle::stop_on(source.get_token()), tasks);
  const auto returned = clock_type::now();
  stopper.join();
  s.latency = returned - stop_at;
  s.cancelled = count_rejected_with<settle::cancelled>(results);
  return s;
}

// --- NR: the plain forms beside the same calls with settle::options{} ----------------

/// W1's call: n tiny tasks, all_settled over a range (as settle_peer::tiny).
inline std::uint64_t tiny(int n, bool with_options) {
  auto make = [](int i) { return [i] { return i * 2; }; };
  std::vector<decltype(make(0))> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    tasks.push_back(make(i));
  }
  return with_options ? sum_values(settle::all_settled(settle::options{}, tasks))
                      : sum_values(settle::all_settled(tasks));
}

/// W2's call: a variadic all_settled of three tiny tasks (as settle_peer::fan_out).
inline std::uint64_t fan_out(bool with_options) {
  if (with_options) {
    auto [a, b, c] = settle::all_settled(
        settle::options{}, [] { return 1; }, [] { return 2; }, [] { return 3; });
    return static_cast<std::uint64_t>(a.value() + b.value() + c.value());
  }
  auto [a, b, c] = settle::all_settled([] { return 1; }, [] { return 2; }, [] { return 3; });
  return static_cast<std::uint64_t>(a.value() + b.value() + c.value());
}

}  // namespace peers::opts

#endif  // SETTLE_BENCHMARKS_PEERS_OPTIONS_WORKLOADS_HPP
