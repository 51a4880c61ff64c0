// pool_options at their limits: an idle_timeout of milliseconds::max() (never retire), 0 and
// negative (retire at once), max_threads = 1, min_threads = 0. Each pool runs a burst of tasks,
// nested calls on itself and a group of tasks that wait for each other, then shuts down with
// every task run.
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <latch>
#include <numeric>
#include <thread>
#include <vector>

#include "stress/stress_support.hpp"
#include "support/catch.hpp"

namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

/// A chain of `depth` calls on `pool`, each from inside a task of the one below.
int nest(settle::thread_pool& pool, int depth) {
  if (depth == 0) return 0;
  auto [a, b] =
      settle::all(pool, [&pool, depth] { return nest(pool, depth - 1) + 1; }, [] { return 0; });
  return a + b;
}

/// Runs `n` tasks on `pool` that each wait until all `n` have started; returns the lowest
/// thread_count() one of them saw while all were waiting (none returns before all have read).
std::size_t rendezvous(settle::thread_pool& pool, std::size_t n) {
  std::latch arrived(static_cast<std::ptrdiff_t>(n));
  std::latch counted(static_cast<std::ptrdiff_t>(n));
  std::atomic<std::size_t> lowest{static_cast<std::size_t>(-1)};
  std::vector<std::size_t> ids(n);
  std::iota(ids.begin(), ids.end(), std::size_t{0});
  const auto values = settle::all(pool, ids, [&](std::size_t i) {
    arrived.arrive_and_wait();
    const std::size_t seen = pool.thread_count();
    std::size_t low = lowest.load();
    while (seen < low && !lowest.compare_exchange_weak(low, seen)) {
    }
    counted.arrive_and_wait();
    return i;
  });
  CHECK(values == ids);
  return lowest.load();
}

/// What every configuration must do: a burst, fire-and-forget tasks, nesting, a rendezvous
/// of as many tasks as the pool may have threads (at most 8) plus the caller. Returns how many
/// tasks it handed to execute().
int exercise(settle::thread_pool& pool, std::size_t max_threads, std::atomic<int>& executed) {
  const int scale = settle_stress::scale();
  const int burst = 2000 * scale;
  std::vector<int> xs(static_cast<std::size_t>(burst));
  std::iota(xs.begin(), xs.end(), 0);
  int handed = 0;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    const auto rs = settle::all_settled(pool, xs, [](int x) { return x * 2; });
    REQUIRE(rs.size() == xs.size());
    int wrong = 0;
    for (std::size_t i = 0; i < rs.size(); ++i)
      if (!rs[i].is_fulfilled() || rs[i].value() != xs[i] * 2) ++wrong;
    CHECK(wrong == 0);

    for (int i = 0; i < 200; ++i, ++handed) pool.execute([&executed] { executed.fetch_add(1); });

    CHECK(nest(pool, 8) == 8);
    CHECK(pool.submit([&pool] { return nest(pool, 8); }).get() == 8);
    // An `all` inside tasks of an `all`, all on this pool.
    const auto inner = [&pool] {
      return settle::all(pool, [] { return 1; }, [] { return 2; }, [] { return 3; });
    };
    const auto outer = settle::all(pool, inner, inner, inner, inner);
    CHECK(std::get<0>(outer) == std::tuple{1, 2, 3});
    CHECK(std::get<3>(outer) == std::tuple{1, 2, 3});

    // Tasks that block until every one of them has started: the pool grows (up to
    // max_threads) and the caller runs what is left.
    const std::size_t waiting = std::min<std::size_t>(max_threads, 8) + 1;
    CHECK(rendezvous(pool, waiting) >= waiting - 1);
  }
  return handed;
}

/// Polls thread_count() until it is `target` or `limit` has passed; returns the last count.
std::size_t wait_for_thread_count(const settle::thread_pool& pool, std::size_t target,
                                  std::chrono::steady_clock::duration limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  std::size_t count = pool.thread_count();
  while (count != target && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
    count = pool.thread_count();
  }
  return count;
}

void run_config(settle::pool_options opts) {
  INFO("min_threads " << opts.min_threads << ", max_threads " << opts.max_threads
                      << ", idle_timeout " << opts.idle_timeout.count() << " ms");
  std::atomic<int> executed{0};
  int expected = 0;
  {
    settle::thread_pool pool(opts);
    expected = exercise(pool, opts.max_threads, executed);
  }
  CHECK(executed.load() == expected);  // the destructor ran whatever was still queued
}

TEST_CASE("an idle_timeout of milliseconds::max() means extra threads never retire",
          "[pool_extremes]") {
  for (const ms idle : {ms::max(), ms::max() / 2, ms(ms::max().count() - 1)}) {
    INFO("idle_timeout " << idle.count() << " ms");
    run_config(settle::pool_options{0, 4, idle});
    run_config(settle::pool_options{1, 3, idle});

    settle::thread_pool pool(settle::pool_options{0, 3, idle});
    // Three threads, each held by a task until all three run (the caller runs the fourth).
    const std::size_t grown = rendezvous(pool, 4);
    REQUIRE(grown >= 3);
    // Watch for a while: a thread that retires now retired early. The window only sets how
    // long the test looks; a correct pool passes whatever its length.
    const auto until = std::chrono::steady_clock::now() + 300ms;
    std::size_t lowest = pool.thread_count();
    while (std::chrono::steady_clock::now() < until) {
      lowest = std::min(lowest, pool.thread_count());
      std::this_thread::sleep_for(1ms);
    }
    CHECK(lowest >= 3);
  }
}

TEST_CASE("an idle_timeout of zero or less retires extra threads at once and loses no work",
          "[pool_extremes]") {
  for (const ms idle : {ms(0), ms(-1), ms(-30'000), ms::min()}) {
    INFO("idle_timeout " << idle.count() << " ms");
    run_config(settle::pool_options{0, 4, idle});
    run_config(settle::pool_options{2, 4, idle});
    run_config(settle::pool_options{0, 1, idle});

    settle::thread_pool pool(settle::pool_options{1, 4, idle});
    CHECK(rendezvous(pool, 4) >= 3);
    // Nothing to do any more: the extra threads leave (promptly; 30 s is only a bound).
    CHECK(wait_for_thread_count(pool, 1, 30s) == 1);
    CHECK(nest(pool, 4) == 4);
  }
}

TEST_CASE("an elastic pool destroyed while its retired threads are being joined shuts down",
          "[pool_extremes]") {
  // With idle_timeout 0 the extra threads retire as soon as a burst ends, and the pool joins
  // them while the destructor may already be asking it to stop: the stop must not be missed.
  const int rounds = (settle_stress::under_thread_sanitizer ? 200 : 1000) * settle_stress::scale();
  for (int r = 0; r < rounds; ++r) {
    INFO("round " << r);
    settle::thread_pool pool(settle::pool_options{r % 2 == 0 ? 0u : 1u, 3, ms(r % 3 - 1)});
    CHECK(rendezvous(pool, 3) >= 2);
  }
}

TEST_CASE("max_threads = 1 and min_threads = 0 pools run bursts, nesting and shut down",
          "[pool_extremes]") {
  SECTION("min 0, max 1") { run_config(settle::pool_options{0, 1, 30'000ms}); }
  SECTION("min 1, max 1") { run_config(settle::pool_options{1, 1, 30'000ms}); }
  SECTION("min 0, max 1, idle_timeout 1 ms") { run_config(settle::pool_options{0, 1, 1ms}); }
  SECTION("min 0, max 4") { run_config(settle::pool_options{0, 4, 30'000ms}); }
  SECTION("min 0, max 4, idle_timeout 1 ms") { run_config(settle::pool_options{0, 4, 1ms}); }
  SECTION("min 0, max 256 (the default maximum)") {
    run_config(settle::pool_options{0, 256, 30'000ms});
  }
  SECTION("a min 0 pool that never ran anything is destroyed at once") {
    settle::thread_pool pool(settle::pool_options{0, 4, ms::max()});
    CHECK(pool.thread_count() == 0);
  }
  SECTION("a min 0 pool that had threads goes back to none") {
    settle::thread_pool pool(settle::pool_options{0, 2, 1ms});
    CHECK(rendezvous(pool, 3) >= 2);
    CHECK(wait_for_thread_count(pool, 0, 30s) == 0);
    CHECK(nest(pool, 3) == 3);  // and grows again when asked
  }
}

}  // namespace
