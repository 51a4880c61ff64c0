// The idle sentinel (settle/detail/idle_sentinel.hpp): a thread of the OS's idle class that
// calls back when work waits beside a free core, or a watched thread is off its core; and
// that stays quiet otherwise.
#include <settle/detail/idle_sentinel.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>

#include <settle/detail/os_thread.hpp>

#include "support/catch.hpp"

using settle::detail::idle_sentinel;
using namespace std::chrono_literals;

namespace {

struct probe {
  std::atomic<bool> wanted{true};
  std::atomic<int> fired{0};
  std::atomic<std::uint64_t> word{0};  // the watch named by the last call back

  static void fire(void* self, std::uint64_t watch) noexcept {
    auto& p = *static_cast<probe*>(self);
    p.word.store(watch);
    p.fired.fetch_add(1);
  }
  static bool wants(const void* self) noexcept {
    return static_cast<const probe*>(self)->wanted.load();
  }
};

/// Waits until `p` has fired, for at most `limit` (a generous bound: on a loaded machine
/// the idle class may get a core only now and then).
bool fired_within(const probe& p, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (p.fired.load() == 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(1ms);
  return p.fired.load() != 0;
}

/// A thread that sleeps (off the CPU) until released, with its kernel id.
struct sleeper {
  std::atomic<int> id{0};
  std::latch release{1};
  std::thread thread{[this] {
    id.store(settle::detail::current_os_thread_id());
    release.wait();
  }};

  sleeper() {
    while (id.load() == 0) std::this_thread::yield();
  }
  ~sleeper() {
    release.count_down();
    thread.join();
  }
};

}  // namespace

TEST_CASE("the sentinel calls back while wanted work waits and a watched thread sleeps", "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) {
    WARN("the OS does not say which threads run: no sentinel here");
    return;
  }
  probe p;
  idle_sentinel sentinel(&probe::fire, &probe::wants, &p);
  sleeper blocked;
  const int ids[] = {blocked.id.load()};
  const std::uint64_t watch = sentinel.watch(ids, 1);
  if (watch == 0) {
    WARN("the idle scheduling class was refused: no sentinel here");
    CHECK(sentinel.refused());
    return;
  }
  CHECK_FALSE(sentinel.refused());
  CHECK(fired_within(p, 10s));
  CHECK(p.word.load() == watch);  // the word names the watch it is for
}

TEST_CASE("the sentinel stays quiet while no work is wanted, and after unwatch", "[unit]") {
  probe p;
  p.wanted = false;
  idle_sentinel sentinel(&probe::fire, &probe::wants, &p);
  sleeper blocked;
  const int ids[] = {blocked.id.load()};
  if (!sentinel.watch(ids, 1)) return;  // nothing to watch with here
  std::this_thread::sleep_for(30ms);
  CHECK(p.fired.load() == 0);
  // Unwatched: even wanted work beside a sleeping thread is no longer its business.
  sentinel.unwatch();
  std::this_thread::sleep_for(5ms);  // a period or two, for a look already under way
  const int before = p.fired.load();
  p.wanted = true;
  std::this_thread::sleep_for(30ms);
  CHECK(p.fired.load() == before);
}

TEST_CASE(
    "a new watch replaces the old one, the same one is kept, and stop ends the thread at any "
    "moment",
    "[unit]") {
  probe p;
  sleeper blocked;
  for (int round = 0; round < 50; ++round) {
    idle_sentinel sentinel(&probe::fire, &probe::wants, &p);
    const int self[] = {settle::detail::current_os_thread_id()};
    const int ids[] = {blocked.id.load()};
    const std::uint64_t first = sentinel.watch(self, 1);
    const std::uint64_t second = sentinel.watch(ids, 1);
    if (first != 0) CHECK(second != first);  // a word for the first is told apart
    // The same threads again: the same watch, and what its slivers saw is kept.
    if (second != 0) CHECK(sentinel.watch(ids, 1) == second);
    if (round % 2 == 0) std::this_thread::sleep_for(200us);
    sentinel.stop();
    sentinel.stop();  // idempotent; the destructor stops again
  }
  SUCCEED("every sentinel thread was joined");
}

TEST_CASE("a sentinel refuses to watch nothing, or more threads than it holds", "[unit]") {
  probe p;
  idle_sentinel sentinel(&probe::fire, &probe::wants, &p);
  CHECK_FALSE(sentinel.watch(nullptr, 0));
  int many[idle_sentinel::max_watched + 1] = {};
  CHECK_FALSE(sentinel.watch(many, idle_sentinel::max_watched + 1));
}
