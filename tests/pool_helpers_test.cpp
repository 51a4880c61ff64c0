// How an elastic pool counts a plain call's caller among the runners of its tasks
// (settle/detail/pool_helpers.hpp): CPU-bound work gets a core's worth of runners, the
// caller included; blocking work still gets a thread per task; idle threads stay asleep
// beside the caller's work only for a while.
#include <settle/all_settled.hpp>
#include <settle/detail/os_thread.hpp>
#include <settle/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "support/catch.hpp"

using settle::pool_options;
using settle::thread_pool;
using namespace std::chrono_literals;

namespace {

std::size_t cores() { return std::max<std::size_t>(std::thread::hardware_concurrency(), 1); }

void compute_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

/// A plain call of 4 CPU-bound tasks per core on `pool`: how many threads ran them.
std::size_t cpu_fan_out(thread_pool& pool) {
  std::mutex m;
  std::set<std::thread::id> runners;
  std::vector<std::function<int()>> tasks;
  for (std::size_t i = 0; i < 4 * cores(); ++i) {
    tasks.emplace_back([&] {
      {
        std::lock_guard lock(m);
        runners.insert(std::this_thread::get_id());
      }
      compute_for(3ms);
      return 1;
    });
  }
  for (const auto& r : settle::all_settled(pool, tasks)) REQUIRE(r.is_fulfilled());
  return runners.size();
}

/// CPU-bound calls until one runs on a core's worth of threads (where the OS tells which
/// threads compute): the pool has then seen the cores filled.
void fill_cores(thread_pool& pool) {
  for (int call = 0; call < 20; ++call)
    if (cpu_fan_out(pool) <= cores()) return;
}

/// A pool with idle threads beyond a core's worth: without the caller counted, they
/// would be woken for the queued tasks.
pool_options with_idle_threads(std::size_t max_threads) {
  return pool_options{.min_threads = cores() + 1, .max_threads = max_threads};
}

}  // namespace

TEST_CASE(
    "once a plain call's CPU-bound tasks have filled the cores, its caller counts as one of "
    "a core's worth of runners",
    "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) {
    WARN("the OS does not say which threads compute: the pool cannot tell, and wakes them all");
    return;
  }
  thread_pool pool(with_idle_threads(4 * cores() + 4));
  // The pool learns it while the calls run: after a call or a few, the rest keep to it.
  int within_cores = 0;
  for (int call = 0; call < 12; ++call)
    if (cpu_fan_out(pool) <= cores()) ++within_cores;
  // Before, the caller and a core's worth of pool threads (and the idle ones, woken once
  // the queue stalled) shared the cores in every call.
  CHECK(within_cores >= 3);
}

TEST_CASE("a blocking fan-out right after CPU-bound ones still gets a thread per task", "[unit]") {
  const std::size_t n = cores() + 3;
  thread_pool pool(with_idle_threads(n + 1));
  fill_cores(pool);
  // Every task waits until all have arrived: only n threads at once finish the call.
  std::latch all_there(static_cast<std::ptrdiff_t>(n));
  std::vector<std::function<int()>> tasks(n, [&all_there] {
    all_there.arrive_and_wait();
    return 1;
  });
  for (const auto& r : settle::all_settled(pool, tasks)) CHECK(r.is_fulfilled());
}

TEST_CASE(
    "tasks that compute until every sibling has started still finish: idle threads are held "
    "back only for a while",
    "[unit]") {
  // One task more than the cores, on a pool that cannot grow: the last one needs an idle
  // thread, which stays asleep while the others keep the cores computing, but not for ever.
  const std::size_t n = cores() + 1;
  thread_pool pool(pool_options{.min_threads = n, .max_threads = n});
  fill_cores(pool);
  std::atomic<std::size_t> started{0};
  std::vector<std::function<int()>> tasks(n, [&started, n] {
    started.fetch_add(1);
    while (started.load() < n) {
    }
    return 1;
  });
  for (const auto& r : settle::all_settled(pool, tasks)) CHECK(r.is_fulfilled());
  CHECK(started.load() == n);
}

TEST_CASE(
    "a blocking fan-out right after CPU-bound ones runs its tasks side by side: a free core "
    "ends the hold at once",
    "[timing]") {
  const std::size_t n = cores() + 3;
  thread_pool pool(with_idle_threads(n + 1));
  fill_cores(pool);
  // Each task sleeps: the caller and the worker woken beside it leave their cores, and the
  // tasks still queued must get idle threads well before the hold's 100 ms limit.
  constexpr auto nap = 30ms;
  std::vector<std::function<int()>> tasks(n, [nap] {
    std::this_thread::sleep_for(nap);
    return 1;
  });
  const auto start = std::chrono::steady_clock::now();
  for (const auto& r : settle::all_settled(pool, tasks)) CHECK(r.is_fulfilled());
  const auto wall = std::chrono::steady_clock::now() - start;
  const auto sequential = nap * static_cast<long>(n);
  CHECK(wall < sequential * 6 / 10);
}
