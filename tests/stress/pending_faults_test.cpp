// Fault injection for settle::start and settle::pending: a pending destroyed while its tasks
// run, while they wait in the pool's queue, while a foreign executor refuses or drops them,
// while a deadline or stop requests from other threads race the call's end. Every time: no
// hang, no task running (or starting) after the pending is gone, every outcome accounted for.
#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/options_probes.hpp"
#include "support/probes.hpp"

using namespace std::chrono_literals;

namespace {

int rounds(int plain) {
  const int n = settle_stress::under_thread_sanitizer ? plain / 4 : plain;
  return n * settle_stress::scale();
}

/// What the tasks of one pending did, as seen after it is gone.
struct ledger {
  std::atomic<int> running{0};
  std::atomic<int> started{0};
  std::atomic<bool> owner_gone{false};
  std::atomic<int> after_owner{0};  // tasks that started or ran after the pending was destroyed

  /// A task of `n` microseconds of work (or until stopped, when `n` is negative).
  std::function<int(std::stop_token)> task(int n) {
    return [this, n](std::stop_token stop) {
      if (owner_gone) ++after_owner;
      ++started;
      ++running;
      if (n < 0) {
        settle_test::stop_within_fallback(stop);
      } else {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(n);
        while (std::chrono::steady_clock::now() < until && !stop.stop_requested()) {
        }
      }
      --running;
      if (owner_gone) ++after_owner;
      return n;
    };
  }
};

}  // namespace

TEST_CASE("a pending destroyed at any moment leaves no task running behind it") {
  settle::thread_pool pool(2);
  std::mt19937 rng(1234);
  for (int r = 0; r < rounds(2000); ++r) {
    ledger l;
    {
      std::vector<std::function<int(std::stop_token)>> tasks;
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) tasks.push_back(l.task(rng() % 4 == 0 ? -1 : int(rng() % 50)));
      settle::options opts;
      if (rng() % 3 == 0) opts.max_concurrency = 1 + rng() % 2;
      if (rng() % 3 == 0) opts.timeout = std::chrono::microseconds(rng() % 200);
      auto p = settle::start(settle::all_settled, pool, opts, std::move(tasks));
      const auto spin = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 100);
      while (std::chrono::steady_clock::now() < spin) {
      }
      if (rng() % 4 == 0) p.request_stop();
    }
    l.owner_gone = true;
    REQUIRE(l.running == 0);
    REQUIRE(l.after_owner == 0);
  }
  // None of the tasks queued or running when their pendings went is left on the pool.
  CHECK(pool.submit([] { return 1; }).get() == 1);
}

TEST_CASE("a pending destroyed while its tasks wait in the queue never starts them") {
  settle::thread_pool pool(1);
  for (int r = 0; r < rounds(500); ++r) {
    settle_test::gate release;
    settle_test::arrivals blocking;
    auto blocker = pool.submit([&] {
      blocking.arrive();
      release.wait();
    });
    REQUIRE(blocking.wait_for(1));
    ledger l;
    {
      auto p = settle::start(settle::all, pool, l.task(0), l.task(0), l.task(-1));
    }  // the pool's only thread is busy: every task is still queued
    l.owner_gone = true;
    release.open();
    blocker.get();
    CHECK(pool.submit([] { return 1; }).get() == 1);  // drained
    REQUIRE(l.started == 0);
  }
}

TEST_CASE(
    "refused and dropped launches settle their slots, whether the pending is collected or not") {
  settle::thread_pool pool(2);
  std::mt19937 rng(99);
  for (int r = 0; r < rounds(1000); ++r) {
    ledger l;
    const int n = 2 + static_cast<int>(rng() % 5);
    const int fault_at = 1 + static_cast<int>(rng() % static_cast<unsigned>(n));
    const bool collect = rng() % 2 == 0;
    settle::options limit;  // none, 1 or 2
    limit.max_concurrency = rng() % 2 == 0 ? 0 : 1 + rng() % 2;
    std::vector<std::function<int(std::stop_token)>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(l.task(int(rng() % 30)));
    if (rng() % 2 == 0) {
      settle_stress::faulty_executor ex(pool, fault_at, rng() % 2 == 0,
                                        settle_stress::fault_type::runtime_error);
      auto p = settle::start(settle::all_settled, ex, limit, std::move(tasks));
      if (collect) {
        const auto results = p.get();
        int refused = 0;
        for (const auto& s : results)
          refused += (!s && settle_stress::fault_call(s.reason()) > 0) ? 1 : 0;
        REQUIRE(refused == ex.refused());
        REQUIRE(static_cast<int>(results.size()) == n);
      }
    } else {
      settle_stress::dropping_executor ex(pool, fault_at, rng() % 2 == 0);
      {
        auto p = settle::start(settle::all_settled, ex, limit, std::move(tasks));
        if (collect) {
          const auto results = p.get();
          int cancelled = 0;
          for (const auto& s : results) cancelled += settle_test::kind(s.reason()) == "cancelled";
          REQUIRE(cancelled == ex.dropped());
        }
      }
      ex.join();
    }
    l.owner_gone = true;
    REQUIRE(l.running == 0);
    REQUIRE(l.after_owner == 0);
  }
}

TEST_CASE("stop requests from several threads race the call's end and each other") {
  settle::thread_pool pool(2);
  for (int r = 0; r < rounds(1000); ++r) {
    ledger l;
    settle_test::progress<4> reported;
    std::exception_ptr outcome;
    {
      auto p = settle::start(settle::all, pool, reported.options(), l.task(r % 20), l.task(r % 7),
                             l.task(0), l.task(r % 3 == 0 ? -1 : 5));
      std::jthread a([&] { p.request_stop(); });
      std::jthread b([&] { p.request_stop(); });
      a.join();
      b.join();
      try {
        (void)p.get();
      } catch (...) {
        outcome = std::current_exception();
      }
    }
    l.owner_gone = true;
    REQUIRE(reported.each_once(4));
    REQUIRE(l.running == 0);
    // Either every task finished before the stop, or the call settled cancelled.
    REQUIRE((outcome == nullptr || settle_test::kind(outcome) == "cancelled"));
  }
}
