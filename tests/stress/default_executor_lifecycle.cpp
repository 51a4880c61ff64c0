// default_executor() at both ends of a process: first used by many threads at once, and
// used again from the destructor of a static object that was constructed before the pool
// existed (so it is destroyed after any function-local static created later would be).
// The pool is never destroyed, so both must work. A program of its own: the first use
// must really be the first in the process, and the last checks run after main returns
// (their verdict is printed; a failure also ends the process with exit code 1).
#include <settle/settle.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

/// One combinator call on the default executor, with a nested one inside a task and a
/// rejecting sibling; returns a checksum.
long long use_default_executor(int salt) {
  auto [a, b, c] = settle::all_settled(
      [salt] { return salt; },
      [salt] {
        auto [x, y] = settle::all([salt] { return salt * 2; }, [] { return 1; });
        return x + y;
      },
      []() -> int { throw std::runtime_error("rejected on purpose"); });
  if (!c.is_rejected()) return -1;
  return static_cast<long long>(a.value()) + b.value();
}

/// `threads` threads start together, each calls default_executor() and combinators
/// `calls` times. True when every thread saw the same pool and every result was right.
bool hammer(int threads, int calls, const char* phase) {
  std::latch go(threads);
  std::atomic<settle::thread_pool*> seen{nullptr};
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      go.arrive_and_wait();
      settle::thread_pool* mine = &settle::default_executor();
      settle::thread_pool* expected = nullptr;
      if (!seen.compare_exchange_strong(expected, mine) && expected != mine) wrong.fetch_add(1);
      for (int i = 0; i < calls; ++i) {
        const int salt = t * 1000 + i;
        if (use_default_executor(salt) != static_cast<long long>(salt) * 3 + 1) wrong.fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  const bool ok = wrong.load() == 0;
  std::printf("%s: %s (%d threads x %d calls on default_executor())\n", phase, ok ? "ok" : "FAILED",
              threads, calls);
  std::fflush(stdout);
  return ok;
}

struct uses_pool_when_destroyed {
  ~uses_pool_when_destroyed() {
    if (!hammer(8, 20, "static destruction")) std::_Exit(1);
  }
};

// Constructed before main(), before default_executor() is first called.
uses_pool_when_destroyed late_user;

void at_exit_handler() {
  if (use_default_executor(7) != 22) {
    std::printf("atexit handler: FAILED\n");
    std::fflush(stdout);
    std::_Exit(1);
  }
  std::printf("atexit handler: ok\n");
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::atexit(at_exit_handler);  // registered before the pool exists
  if (!hammer(32, 50, "start-up")) return 1;
  return 0;
}
