// Load: a million tiny tasks, 64 threads calling combinators on one small pool, nesting 50
// deep on a single-thread pool, and pools destroyed while work is queued and while other
// threads still submit. Sized for CI; $SETTLE_STRESS_SCALE multiplies the work for long
// local runs. Under ThreadSanitizer the million-task run uses 200'000 tasks (TSan makes
// every synchronizing operation ~10x slower and keeps shadow state for each).
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/probes.hpp"

namespace {

using namespace settle_stress;

// ---- a million tiny tasks -----------------------------------------------------------------

std::size_t million() {
  const std::size_t base = under_thread_sanitizer ? 200'000 : 1'000'000;
  // At most 4x: the results alone of 4 million tasks take ~100 MB per call.
  return base * static_cast<std::size_t>(std::min(scale(), 4));
}

/// A tiny task of the range form.
struct tiny {
  std::uint32_t i;
  std::uint64_t operator()() const { return std::uint64_t{i} * 3 + 1; }
};

TEST_CASE("one million tiny tasks through all_settled over a range", "[stress][load]") {
  const std::size_t n = million();
  SECTION("map form on the default executor") {
    std::vector<std::uint32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0u);
    const auto rs =
        settle::all_settled(ids, [](std::uint32_t i) { return std::uint64_t{i} * 3 + 1; });
    REQUIRE(rs.size() == n);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!rs[i].is_fulfilled() || rs[i].value() != i * 3 + 1) ++wrong;
    CHECK(wrong == 0);
    // A burst of short tasks must not spawn a thread per task.
    CHECK(settle::default_executor().thread_count() <= 256);
  }
  SECTION("range of task objects on thread_pool(2)") {
    settle::thread_pool pool(2);
    std::vector<tiny> tasks;
    tasks.reserve(n);
    for (std::size_t i = 0; i < n; ++i) tasks.push_back(tiny{static_cast<std::uint32_t>(i)});
    const auto rs = settle::all_settled(pool, tasks);
    REQUIRE(rs.size() == n);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!rs[i].is_fulfilled() || rs[i].value() != i * 3 + 1) ++wrong;
    CHECK(wrong == 0);
  }
  SECTION("all over the same range on an elastic pool") {
    settle::thread_pool pool(settle::pool_options{1, 4, std::chrono::milliseconds(50)});
    std::vector<std::uint32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0u);
    const auto values =
        settle::all(pool, ids, [](std::uint32_t i) { return std::uint64_t{i} * 3 + 1; });
    REQUIRE(values.size() == n);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (values[i] != i * 3 + 1) ++wrong;
    CHECK(wrong == 0);
  }
  report_figure("tiny tasks per all_settled/all call: " + std::to_string(n));
}

// ---- 64 threads, one small pool ---------------------------------------------------------

TEST_CASE("64 threads calling every combinator concurrently on one thread_pool(2)",
          "[stress][load]") {
  settle::thread_pool pool(2);
  constexpr int threads = 64;
  const int iterations = (under_thread_sanitizer ? 40 : 200) * scale();
  std::atomic<long long> wrong{0};
  std::atomic<long long> calls{0};
  std::mutex first_error_mutex;
  std::string first_error;
  const auto fail = [&](const std::string& what) {
    wrong.fetch_add(1);
    std::lock_guard lock(first_error_mutex);
    if (first_error.empty()) first_error = what;
  };

  std::latch start(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      start.arrive_and_wait();  // all at once
      for (int it = 0; it < iterations; ++it) {
        const int n = 1 + (t + it) % 8;
        const int thrower = (t * 7 + it) % (n + 2);  // n or n+1: nobody throws
        std::vector<std::function<int()>> tasks;
        for (int i = 0; i < n; ++i)
          tasks.emplace_back([i, thrower]() -> int {
            if (i == thrower) throw std::runtime_error("task " + std::to_string(i));
            return i * 10;
          });
        const std::string where =
            "thread " + std::to_string(t) + " iteration " + std::to_string(it);
        try {
          switch (it % 4) {
            case 0: {
              const auto rs = settle::all_settled(pool, tasks);
              for (int i = 0; i < n; ++i)
                if (rs[static_cast<std::size_t>(i)].is_fulfilled() != (i != thrower) ||
                    (i != thrower && rs[static_cast<std::size_t>(i)].value() != i * 10))
                  fail(where + ": all_settled slot " + std::to_string(i));
              break;
            }
            case 1: {
              const auto v = settle::all(pool, tasks);
              if (thrower < n) fail(where + ": all returned although a task throws");
              for (int i = 0; i < n && thrower >= n; ++i)
                if (v[static_cast<std::size_t>(i)] != i * 10) fail(where + ": all value");
              break;
            }
            case 2: {
              const int v = settle::any(pool, tasks);
              if (v % 10 != 0 || v / 10 >= n || v / 10 == thrower) fail(where + ": any value");
              break;
            }
            default: {
              const int v = settle::race(pool, tasks);
              if (v % 10 != 0 || v / 10 >= n || v / 10 == thrower) fail(where + ": race value");
              break;
            }
          }
        } catch (const settle::aggregate_error&) {
          if (n != 1 || thrower != 0) fail(where + ": any threw aggregate_error");
        } catch (const std::runtime_error& e) {
          const bool legal = (it % 4 == 1 || it % 4 == 3) && thrower < n &&
                             std::string(e.what()) == "task " + std::to_string(thrower);
          if (!legal) fail(where + ": threw " + e.what());
        }
        calls.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  INFO(first_error);
  CHECK(wrong.load() == 0);
  CHECK(calls.load() == static_cast<long long>(threads) * iterations);
  report_figure("combinator calls from 64 threads on one thread_pool(2): " +
                std::to_string(calls.load()));
}

// ---- nesting 50 deep on one thread ------------------------------------------------------

/// Depth `depth` of a chain of combinator calls, each made from inside a task of the one
/// below, all on `ex`; each level cycles through the four combinators and adds a sibling
/// that fulfils and (for all_settled/any) one that rejects.
template <class Ex>
int nest(Ex& ex, int depth) {
  if (depth == 0) return 0;
  const auto deeper = [&ex, depth] { return nest(ex, depth - 1) + 1; };
  const auto sibling = [] { return 1000; };
  const auto failing = []() -> int { throw std::runtime_error("sibling fails"); };
  switch (depth % 4) {
    case 0: {
      auto [a, b, c] = settle::all_settled(ex, deeper, sibling, failing);
      if (b.value() != 1000 || c.is_fulfilled()) throw std::logic_error("all_settled siblings");
      return a.value();
    }
    case 1: {
      auto [a, b] = settle::all(ex, deeper, sibling);
      if (b != 1000) throw std::logic_error("all sibling");
      return a;
    }
    case 2: {
      // any: the only task that fulfils is the deeper one.
      return settle::any(ex, failing, deeper, failing);
    }
    default: {
      // race: the only task is the deeper one, in a range.
      std::vector<std::function<int()>> only{deeper};
      return settle::race(ex, only);
    }
  }
}

TEST_CASE("nesting combinators 50 deep on thread_pool(1) does not deadlock", "[stress][load]") {
  const int rounds = 20 * scale();
  SECTION("thread_pool(1)") {
    settle::thread_pool pool(1);
    for (int r = 0; r < rounds; ++r) CHECK(nest(pool, 50) == 50);
  }
  SECTION("thread_pool(1), called from a task of that pool") {
    settle::thread_pool pool(1);
    auto f = pool.submit([&pool] { return nest(pool, 50); });
    CHECK(f.get() == 50);
  }
  SECTION("two thread_pool(1), alternating") {
    settle::thread_pool a(1);
    settle::thread_pool b(1);
    std::function<int(int)> zigzag = [&](int depth) -> int {
      if (depth == 0) return 0;
      auto& ex = depth % 2 == 0 ? a : b;
      auto [x, y] =
          settle::all(ex, [&zigzag, depth] { return zigzag(depth - 1) + 1; }, [] { return 0; });
      return x + y;
    };
    for (int r = 0; r < rounds; ++r) CHECK(zigzag(50) == 50);
  }
  SECTION("the default executor") { CHECK(nest(settle::default_executor(), 50) == 50); }
}

// ---- pools destroyed while busy ---------------------------------------------------------

TEST_CASE("a pool destroyed while tasks are queued runs every one of them", "[stress][load]") {
  const int queued = 20'000 * scale();
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    INFO("thread_pool(" << threads << ")");
    std::atomic<int> ran{0};
    std::atomic<int> children_ran{0};
    std::atomic<int> children_accepted{0};
    std::atomic<int> children_refused{0};
    auto pool = std::make_unique<settle::thread_pool>(threads);
    settle::thread_pool* raw = pool.get();
    for (int i = 0; i < queued; ++i) {
      raw->execute([&, raw, i] {
        ran.fetch_add(1);
        if (i % 10 != 0) return;
        // Tasks that submit while the pool drains: accepted and run (the destructor waits
        // for them), or refused with an exception, never lost.
        try {
          raw->execute([&] { children_ran.fetch_add(1); });
          children_accepted.fetch_add(1);
        } catch (const std::runtime_error&) {
          children_refused.fetch_add(1);
        }
      });
    }
    pool.reset();  // most of the queue is still there
    CHECK(ran.load() == queued);
    CHECK(children_accepted.load() + children_refused.load() == queued / 10);
    CHECK(children_ran.load() == children_accepted.load());
    CHECK(children_refused.load() == 0);  // the drain was not over when they submitted
  }
}

TEST_CASE(
    "a pool destroyed while other threads still submit and call combinators on it loses nothing",
    "[stress][load]") {
  const int submitters = 4;
  const int per_submitter = (under_thread_sanitizer ? 500 : 3000) * scale();
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    INFO("thread_pool(" << threads << ")");
    std::atomic<long long> attempted{0};
    std::atomic<long long> accepted{0};
    std::atomic<long long> refused{0};
    std::atomic<long long> ran{0};
    std::atomic<long long> combinator_tasks_ok{0};
    std::atomic<long long> combinator_calls{0};
    std::atomic<long long> wrong{0};

    auto pool = std::make_unique<settle::thread_pool>(threads);
    // Raw pointer: unique_ptr::reset() nulls its own pointer before the destructor runs.
    settle::thread_pool* raw = pool.get();
    // The drain cannot finish before this gate task does, and the gate opens only when
    // every submitter is done: so no submission can reach a destroyed pool, while many
    // of them reach it during its destructor.
    std::latch submitters_done(submitters);
    std::latch submitters_started(submitters);
    raw->execute([&] { submitters_done.wait(); });

    std::vector<std::thread> threads_;
    for (int s = 0; s < submitters; ++s) {
      threads_.emplace_back([&, s] {
        submitters_started.count_down();
        for (int i = 0; i < per_submitter; ++i) {
          if (i % 50 == 0) {
            // A whole combinator call on the pool being destroyed: its caller helps.
            try {
              const auto rs = settle::all_settled(
                  *raw, [] { return 1; }, [] { return 2; },
                  []() -> int { throw std::runtime_error("x"); });
              const bool ok = std::get<0>(rs).value() == 1 && std::get<1>(rs).value() == 2 &&
                              std::get<2>(rs).is_rejected();
              if (ok)
                combinator_tasks_ok.fetch_add(3);
              else
                wrong.fetch_add(1);
            } catch (...) {
              wrong.fetch_add(1);  // all_settled never throws a task's exception
            }
            combinator_calls.fetch_add(1);
            continue;
          }
          attempted.fetch_add(1);
          try {
            raw->execute([&] { ran.fetch_add(1); });
            accepted.fetch_add(1);
          } catch (const std::runtime_error&) {
            refused.fetch_add(1);
          }
        }
        (void)s;
        submitters_done.count_down();
      });
    }
    submitters_started.wait();
    pool.reset();  // races with the submitters; returns once they are done and all ran
    for (auto& t : threads_) t.join();

    CHECK(wrong.load() == 0);
    CHECK(accepted.load() + refused.load() == attempted.load());
    CHECK(ran.load() == accepted.load());  // nothing accepted was lost
    CHECK(refused.load() == 0);            // nothing could be refused: the gate held the drain open
    CHECK(combinator_tasks_ok.load() == 3 * combinator_calls.load());
    report_figure("submissions racing a pool's destructor: " + std::to_string(attempted.load()) +
                  " tasks, " + std::to_string(combinator_calls.load()) + " combinator calls");
  }
}

// ---- tasks that wait for each other -----------------------------------------------------

enum class wait_mode { yield_polling, latch, condition_variable };

const char* name_of(wait_mode m) {
  switch (m) {
    case wait_mode::yield_polling:
      return "polling with yield";
    case wait_mode::latch:
      return "blocking on a latch";
    default:
      return "blocking on a condition variable";
  }
}

/// A meeting point for `n` tasks: each arrives, then waits until all `n` have arrived.
class meeting {
 public:
  meeting(int n, wait_mode mode) : n_(n), mode_(mode), latch_(n) {}

  void arrive_and_wait() {
    switch (mode_) {
      case wait_mode::yield_polling:
        arrived_.fetch_add(1);
        while (arrived_.load() < n_) std::this_thread::yield();
        break;
      case wait_mode::latch:
        latch_.arrive_and_wait();
        break;
      case wait_mode::condition_variable: {
        std::unique_lock lock(mutex_);
        if (++count_ == n_) cv_.notify_all();
        cv_.wait(lock, [this] { return count_ == n_; });
        break;
      }
    }
  }

 private:
  int n_;
  wait_mode mode_;
  std::atomic<int> arrived_{0};
  std::latch latch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

/// `n` tasks on `ex` that each wait until all `n` have started; true when they all returned.
template <class Ex>
bool meet(Ex& ex, int n, wait_mode mode) {
  meeting m(n, mode);
  std::vector<int> ids(static_cast<std::size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  const auto values = settle::all(ex, ids, [&m](int i) {
    m.arrive_and_wait();
    return i;
  });
  return values == ids;
}

TEST_CASE("tasks that wait for each other all start on an elastic pool whose threads are idle",
          "[stress][load]") {
  const int rounds = 5 * scale();
  // Polling last: it is the mode that needs the idle threads woken without a blocked one.
  for (const wait_mode mode :
       {wait_mode::latch, wait_mode::condition_variable, wait_mode::yield_polling}) {
    for (const std::size_t min : {std::size_t{4}, std::size_t{6}}) {
      INFO(name_of(mode) << ", pool_options{" << min << ", " << 2 * min << "}");
      settle::thread_pool pool(settle::pool_options{min, 2 * min, std::chrono::seconds(30)});
      for (int r = 0; r < rounds; ++r) {
        INFO("round " << r);
        // Sets up the situation, decides nothing: the threads have gone to sleep.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        // As many tasks as idle threads, then one more than that (the caller helps).
        CHECK(meet(pool, static_cast<int>(min), mode));
        CHECK(meet(pool, static_cast<int>(min) + 1, mode));
      }
    }
  }
}

TEST_CASE("tasks that block until all of them have started make an elastic pool grow",
          "[stress][load]") {
  const int rounds = 5 * scale();
  for (const wait_mode mode : {wait_mode::latch, wait_mode::condition_variable}) {
    INFO(name_of(mode));
    SECTION("pool_options{0, 8}") {
      settle::thread_pool pool(settle::pool_options{0, 8, std::chrono::seconds(30)});
      for (int r = 0; r < rounds; ++r) CHECK(meet(pool, 8, mode));
    }
    SECTION("pool_options{1, 8}, threads retiring after 1 ms") {
      settle::thread_pool pool(settle::pool_options{1, 8, std::chrono::milliseconds(1)});
      for (int r = 0; r < rounds; ++r) CHECK(meet(pool, 8, mode));
    }
    SECTION("the default executor") {
      for (int r = 0; r < rounds; ++r) CHECK(meet(settle::default_executor(), 16, mode));
    }
  }
}

// ---- futures fulfilled by sibling tasks of the same call --------------------------------

/// Calls on `ex` whose futures are fulfilled by callables of the same call, in every order:
/// a waiting caller must not block on such a future while the task that fulfils it is queued
/// behind it. Returns how many calls gave a wrong result.
template <class Ex>
int sibling_futures(Ex& ex) {
  int wrong = 0;
  for (int order = 0; order < 2; ++order) {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    const auto fulfil = [&p] {
      p.set_value(7);
      return 1;
    };
    if (order == 0) {
      const auto [value, fulfilled] = settle::all(ex, std::move(f), fulfil);
      wrong += (value == 7 && fulfilled == 1) ? 0 : 1;
    } else {
      const auto [fulfilled, value] = settle::all(ex, fulfil, std::move(f));
      wrong += (value == 7 && fulfilled == 1) ? 0 : 1;
    }
  }
  {
    // Two futures behind and around their fulfillers, in all_settled.
    std::promise<int> p1;
    std::promise<std::string> p2;
    auto [x, y, z, w] = settle::all_settled(
        ex, p1.get_future(), [&p2] { p2.set_value("two"); }, p2.get_future().share(),
        [&p1] { p1.set_value(1); });
    wrong += (x.value() == 1 && y.is_fulfilled() && z.value() == "two" && w.is_fulfilled()) ? 0 : 1;
  }
  {
    // race and any: the fulfiller or the future may win; either way the call returns.
    std::promise<int> p;
    const int v = settle::race(ex, p.get_future(), [&p] {
      p.set_value(5);
      return 5;
    });
    wrong += v == 5 ? 0 : 1;
    std::promise<int> q;
    const int u = settle::any(ex, q.get_future(), [&q]() -> int {
      q.set_value(6);
      throw std::runtime_error("the fulfiller rejects");
    });
    wrong += u == 6 ? 0 : 1;
  }
  return wrong;
}

/// The calls of `sibling_futures` from the test's thread, from a task of `pool` (on
/// thread_pool(1): its only thread, so no other thread can run the fulfillers), and one level
/// deeper.
void sibling_futures_everywhere(settle::thread_pool& pool) {
  CHECK(sibling_futures(pool) == 0);
  CHECK(pool.submit([&pool] { return sibling_futures(pool); }).get() == 0);
  auto deeper = pool.submit([&pool] {
    return std::get<0>(settle::all(pool, [&pool] { return sibling_futures(pool); }));
  });
  CHECK(deeper.get() == 0);
}

TEST_CASE("futures fulfilled by sibling tasks of the same call never deadlock", "[stress][load]") {
  const int rounds = 20 * scale();
  SECTION("thread_pool(1)") {
    settle::thread_pool pool(1);
    for (int r = 0; r < rounds; ++r) sibling_futures_everywhere(pool);
  }
  SECTION("thread_pool(2)") {
    settle::thread_pool pool(2);
    for (int r = 0; r < rounds; ++r) sibling_futures_everywhere(pool);
  }
  SECTION("an elastic pool") {
    settle::thread_pool pool(settle::pool_options{1, 4, std::chrono::milliseconds(10)});
    for (int r = 0; r < rounds; ++r) sibling_futures_everywhere(pool);
  }
  SECTION("the default executor") {
    for (int r = 0; r < rounds; ++r) sibling_futures_everywhere(settle::default_executor());
  }
}

// ---- pools derived from thread_pool ----------------------------------------------------

/// A user's pool type: still a settle pool, so a waiting caller must help on it.
struct my_pool : settle::thread_pool {
  using thread_pool::thread_pool;
};

TEST_CASE("nested calls on a pool derived from thread_pool do not deadlock", "[stress][load]") {
  const int rounds = 5 * scale();
  SECTION("my_pool(1)") {
    my_pool pool(1);
    for (int r = 0; r < rounds; ++r) CHECK(nest(pool, 20) == 20);
    auto f = pool.submit([&pool] { return nest(pool, 20); });
    CHECK(f.get() == 20);
  }
  SECTION("my_pool(2), range and map forms from inside tasks") {
    my_pool pool(2);
    const std::vector<int> xs{1, 2, 3, 4, 5, 6, 7, 8};
    for (int r = 0; r < rounds; ++r) {
      const auto sums = settle::all(pool, xs, [&pool, &xs](int x) {
        const auto inner = settle::all(pool, xs, [x](int y) { return x * y; });
        return std::accumulate(inner.begin(), inner.end(), 0);
      });
      CHECK(std::accumulate(sums.begin(), sums.end(), 0) == 36 * 36);
    }
  }
  SECTION("an elastic my_pool") {
    my_pool pool(settle::pool_options{1, 2, std::chrono::milliseconds(10)});
    for (int r = 0; r < rounds; ++r) CHECK(nest(pool, 20) == 20);
  }
}

}  // namespace
