// The concurrency limit of settle/options.hpp (SPEC §5), on every kind of executor.
#include <settle/options.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <settle/settle.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/options_probes.hpp"
#include "support/probes.hpp"

using namespace std::chrono_literals;
using settle_test::kind;

namespace {

/// Measures how many of one call's tasks run at once. Each task waits, once started, until
/// `n` tasks run together (or every task has started: fewer are left), so that when the
/// limit lets `n` run, `n` do run together on every run, and the peak is exactly `n`
/// unless the limit is broken. Then it stays a moment (`hold`, a slow task) so that a task
/// started beyond the limit would overlap it. The order in which tasks begin is recorded.
class gauge {
 public:
  gauge(int n, int total, std::chrono::milliseconds hold = 2ms)
      : n_(n), total_(total), hold_(hold) {}

  /// A task body for index `i`: returns `i`.
  int run(int i) {
    {
      std::unique_lock lock(mutex_);
      order_.push_back(i);
      const int full_before = full_;
      if (++running_ == n_) ++full_;
      peak_ = std::max(peak_, running_);
      cv_.notify_all();
      const bool met = cv_.wait_for(lock, settle_test::fallback, [&] {
        return full_ != full_before || static_cast<int>(order_.size()) == total_;
      });
      if (!met) ++stuck_;
    }
    // A slow task, blocked as on I/O: an elastic pool would grow for it if it could.
    std::this_thread::sleep_for(hold_);
    std::lock_guard lock(mutex_);
    --running_;
    return i;
  }

  /// A range of `total` tasks over this gauge.
  std::vector<std::function<int()>> tasks() {
    std::vector<std::function<int()>> out;
    for (int i = 0; i < total_; ++i) out.emplace_back([this, i] { return run(i); });
    return out;
  }

  [[nodiscard]] int peak() {
    std::lock_guard lock(mutex_);
    return peak_;
  }
  /// Tasks that waited the whole fallback for `n` to run together: there were never `n`.
  [[nodiscard]] int stuck() {
    std::lock_guard lock(mutex_);
    return stuck_;
  }
  [[nodiscard]] std::vector<int> order() {
    std::lock_guard lock(mutex_);
    return order_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int n_;
  int total_;
  std::chrono::milliseconds hold_;
  int running_ = 0;
  int peak_ = 0;
  int full_ = 0;  // times `running_` reached `n_`
  int stuck_ = 0;
  std::vector<int> order_;
};

/// 0, 1, ..., n - 1.
std::vector<int> iota(int n) {
  std::vector<int> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = i;
  return out;
}

/// A foreign executor that runs each job on a new std::thread; joins them all on request
/// (and at the latest when destroyed).
class thread_per_job {
 public:
  thread_per_job() = default;
  thread_per_job(const thread_per_job&) = delete;
  thread_per_job& operator=(const thread_per_job&) = delete;
  ~thread_per_job() { join(); }

  template <class F>
  void execute(F&& f) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::forward<F>(f));
  }
  /// Joins every thread started so far, and those they start meanwhile; returns how many.
  std::size_t join() {
    std::size_t joined = 0;
    for (;;) {
      std::vector<std::thread> batch;
      {
        std::lock_guard lock(mutex_);
        batch.swap(threads_);
      }
      if (batch.empty()) return joined;
      for (auto& t : batch) t.join();
      joined += batch.size();
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

/// Checks that `call(opts, tasks)` with `limit(n)` over `total` gauge tasks ran exactly `n` at
/// once at its peak, and returned every result in order.
template <class Call>
void check_limit(int n, int total, Call call) {
  gauge g(n, total);
  const std::vector<int> results = call(settle::limit(static_cast<std::size_t>(n)), g.tasks());
  CHECK(results == iota(total));
  CHECK(g.peak() == n);
  CHECK(g.stuck() == 0);
}

}  // namespace

// ---- at most n, and n do run together ----------------------------------------------------------

TEST_CASE("limit(n) runs exactly n tasks at a time at its peak on the default executor", "[unit]") {
  check_limit(3, 9, [](const settle::options& o, auto tasks) { return settle::all(o, tasks); });
  check_limit(2, 6, [](const settle::options& o, auto tasks) {
    std::vector<int> out;
    for (auto& r : settle::all_settled(o, tasks)) out.push_back(r.value());
    return out;
  });
}

TEST_CASE("limit(n) runs exactly n tasks at a time on a fixed pool smaller or larger than n",
          "[unit]") {
  settle::thread_pool two(2);  // and the helping caller: three runners
  check_limit(3, 9,
              [&](const settle::options& o, auto tasks) { return settle::all(two, o, tasks); });
  settle::thread_pool four(4);
  check_limit(2, 8,
              [&](const settle::options& o, auto tasks) { return settle::all(four, o, tasks); });
  const std::vector<int> ids = iota(8);
  check_limit(2, 8, [&](const settle::options& o, auto tasks) {
    return settle::all(four, o, ids, [&](int i) { return tasks[static_cast<std::size_t>(i)](); });
  });
  CHECK(two.thread_count() == 2);
}

TEST_CASE("limit(n) on an elastic pool runs n at a time and grows it no further than n need",
          "[unit]") {
  settle::pool_options opts;
  opts.min_threads = 1;
  opts.max_threads = 64;
  opts.idle_timeout = std::chrono::minutes(10);  // no thread retires during the test
  constexpr int n = 3;
  constexpr int total = 24;
  // n running tasks need n threads (fewer, as the caller helps): the pool, which had one,
  // must not have more than n afterwards. Growth happens only when the pool sees a stall,
  // so a few rounds, each on a fresh pool, give a needless spawn a few chances to show.
  std::size_t most_threads = 0;
  for (int round = 0; round < 5; ++round) {
    settle::thread_pool pool(opts);
    // Each task blocks 5 ms after the others have joined it: long enough for the pool to
    // grow a thread for each waiting task, if the limit let it.
    gauge g(n, total, 5ms);
    CHECK(settle::all(pool, settle::limit(n), g.tasks()) == iota(total));
    CHECK(g.peak() == n);
    CHECK(g.stuck() == 0);
    most_threads = std::max(most_threads, pool.thread_count());
  }
  CHECK(most_threads <= std::max<std::size_t>(opts.min_threads, n));
}

TEST_CASE("limit(n) runs exactly n tasks at a time on an executor with a thread per job",
          "[unit]") {
  thread_per_job ex;
  check_limit(3, 9,
              [&](const settle::options& o, auto tasks) { return settle::all(ex, o, tasks); });
  CHECK(ex.join() == 9);
  check_limit(2, 5, [&](const settle::options& o, auto tasks) {
    const std::vector<int> out = settle::all(ex, o, tasks);
    ex.join();
    return out;
  });
}

TEST_CASE("limit(n) holds in a call nested in a task on the same pool", "[unit]") {
  settle::thread_pool pool(1);
  // The inner calls' caller is the pool's only thread: one runner, whatever the limit, and
  // no deadlock.
  std::future<std::vector<int>> inner = pool.submit([&] {
    gauge g(1, 5);
    std::vector<int> out = settle::all(pool, settle::limit(1), g.tasks());
    out.push_back(g.peak());
    for (int v : settle::all(pool, settle::limit(3), std::vector<int>{7, 8, 9, 10},
                             [](int v) { return v; }))
      out.push_back(v);
    return out;
  });
  CHECK(inner.get() == std::vector{0, 1, 2, 3, 4, 1, 7, 8, 9, 10});
  // On thread_pool(2) the inner caller and the other thread are two runners.
  settle::thread_pool two(2);
  std::future<int> peak = two.submit([&] {
    gauge g(2, 6);
    (void)settle::all(two, settle::limit(2), g.tasks());
    return g.stuck() == 0 ? g.peak() : -1;
  });
  CHECK(peak.get() == 2);
}

// ---- order, and tasks waiting for their turn
// -----------------------------------------------------

TEST_CASE("limit(1) starts the tasks in argument order on every executor", "[unit]") {
  settle::thread_pool pool(3);
  thread_per_job threads;
  settle_test::manual_executor manual;
  const auto in_order = [](auto call) {
    gauge g(1, 6);
    (void)call(g.tasks());
    return g.order() == iota(6) && g.peak() == 1;
  };
  CHECK(in_order([](auto t) { return settle::all(settle::limit(1), t); }));
  CHECK(in_order([&](auto t) { return settle::all(pool, settle::limit(1), t); }));
  CHECK(in_order([&](auto t) { return settle::all(threads, settle::limit(1), t); }));
  CHECK(
      in_order([](auto t) { return settle::all(settle::inline_executor{}, settle::limit(1), t); }));
  CHECK(threads.join() == 6);
}

TEST_CASE("a limited call on a foreign executor submits the next task only as one returns",
          "[unit]") {
  settle_test::manual_executor manual;
  std::vector<std::size_t> submitted_at_start;  // by each task, on the runner thread
  auto task = [&] {
    submitted_at_start.push_back(manual.submitted());
    return 1;
  };
  // Runs job i once the jobs up to i + 1 are submitted (the next one may be submitted by
  // whichever thread launches: the runner as job i - 2 returns, or the caller).
  std::thread runner([&] {
    for (std::size_t i = 0; i < 5; ++i) {
      manual.wait_for_submissions(std::min<std::size_t>(i + 2, 5));
      manual.run(i);
    }
  });
  const auto results = settle::all(manual, settle::limit(2), task, task, task, task, task);
  runner.join();
  CHECK(results == std::tuple(1, 1, 1, 1, 1));
  CHECK(submitted_at_start == std::vector<std::size_t>{2, 3, 4, 5, 5});
}

TEST_CASE("a refused or dropped job under a limit settles its slot and the rest still run",
          "[unit]") {
  std::atomic<int> ran{0};
  auto task = [&] { return ++ran; };
  const std::vector<std::function<int()>> tasks(6, task);
  settle::thread_pool pool(2);
  // Refused by the caller's first launches (1), and by a launch made as a task returns (3).
  for (std::size_t refuse_at : {std::size_t{1}, std::size_t{3}}) {
    ran = 0;
    settle_test::refusing_executor<settle::thread_pool> ex(pool, refuse_at);
    const auto results = settle::all_settled(ex, settle::limit(2), tasks);
    REQUIRE(results.size() == 6);
    CHECK(settle_test::holds<settle_test::refused>(results[refuse_at].reason()));
    for (std::size_t i = 0; i < 6; ++i)
      if (i != refuse_at) CHECK(results[i].is_fulfilled());
    CHECK(ran == 5);
    CHECK(ex.calls() == 6);
  }
  // The executor destroys job 0 without running it: that slot is cancelled, and its turn
  // goes to the next task.
  settle_test::manual_executor manual;
  ran = 0;
  std::thread runner([&] {
    manual.wait_for_submissions(2);
    manual.drop(0);
    for (std::size_t i = 1; i < 6; ++i) {
      manual.wait_for_submissions(i + 1);
      manual.run(i);
    }
  });
  const auto results = settle::all_settled(manual, settle::limit(2), tasks);
  runner.join();
  CHECK(kind(results[0].reason()) == "cancelled");
  CHECK(ran == 5);
}

TEST_CASE("tasks still waiting for their turn when the call settles never run", "[unit]") {
  std::atomic<int> ran{0};
  auto waiting = [&] { return ++ran; };
  const auto first_until_stopped = [](std::stop_token token) {
    return settle_test::stop_within_fallback(token) ? 1 : 0;
  };
  settle::thread_pool pool(2);
  thread_per_job threads;
  const auto opts = settle::limit(1) | settle::timeout(50ms);
  auto [a, b, c] = settle::all_settled(opts, first_until_stopped, waiting, waiting);
  CHECK((kind(a.reason()) == "timed_out" && kind(c.reason()) == "timed_out"));
  auto [d, e] = settle::all_settled(pool, opts, first_until_stopped, waiting);
  CHECK(kind(e.reason()) == "timed_out");
  auto [f, g] = settle::all_settled(threads, opts, first_until_stopped, waiting);
  CHECK(kind(g.reason()) == "timed_out");
  // A job the executor has not run yet is a task not yet started.
  settle_test::manual_executor manual;
  auto [h, i] = settle::all_settled(manual, opts, waiting, waiting);
  CHECK((kind(h.reason()) == "timed_out" && kind(i.reason()) == "timed_out"));
  CHECK(manual.submitted() == 1);
  manual.run_all();  // too late: it does not run the task
  // Settled early by a rejection: the rest are cancelled.
  const auto fails = [] { return settle_test::fails(1); };
  CHECK(settle_test::kind_thrown(
            [&] { return settle::all(pool, settle::limit(1), fails, waiting); }) == "other");
  CHECK(threads.join() >= 1);
  CHECK(ran == 0);
}

TEST_CASE("futures do not count against the limit", "[unit]") {
  std::promise<int> p0;
  std::promise<int> p1;
  // Two pending futures and limit(1): if they held the turn, the task never would.
  auto [f0, f1, t] = settle::all_settled(settle::limit(1), p0.get_future(), p1.get_future(), [&] {
    p0.set_value(1);
    p1.set_value(2);
    return 3;
  });
  CHECK((f0.value() == 1 && f1.value() == 2 && t.value() == 3));
}

TEST_CASE("results stay in argument order under a limit, whatever order tasks finish in",
          "[unit]") {
  settle_test::arrivals second_done;
  settle_test::event_log finished;
  auto [a, b, c] = settle::all(
      settle::limit(2) | settle::timeout(1min),
      [&] {
        second_done.wait_for(1);
        finished.add(0);
        return 'a';
      },
      [&] {
        finished.add(1);
        second_done.arrive();
        return std::string("b");
      },
      [&] {
        finished.add(2);
        return 3;
      });
  CHECK((a == 'a' && b == "b" && c == 3));
  CHECK(finished.events().front() == 1);
}
