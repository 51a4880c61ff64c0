// The CPU census (settle/detail/cpu_census.hpp): which threads computed between two looks,
// from their CPU clocks, as an elastic pool's hold and its idle sentinel ask.
#include <settle/detail/cpu_census.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include <settle/detail/os_thread.hpp>

#include "support/catch.hpp"

using settle::detail::cpu_census;
using namespace std::chrono_literals;

namespace {

/// A thread that computes (spins) or sleeps until released, with its kernel id.
struct runner {
  std::atomic<int> id{0};
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit runner(bool computes)
      : thread([this, computes] {
          id.store(settle::detail::current_os_thread_id());
          while (!stop.load())
            if (!computes) std::this_thread::sleep_for(1ms);
        }) {
    while (id.load() == 0) std::this_thread::yield();
  }
  ~runner() {
    stop.store(true);
    thread.join();
  }
};

}  // namespace

TEST_CASE("a thread's CPU clock moves while it computes, and is unknown for no thread", "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) {
    WARN("the OS does not say which threads run: no clocks here");
    return;
  }
  runner busy(true);
  const auto before = settle::detail::os_thread_cpu_time(busy.id.load());
  REQUIRE(before >= 0);
  // Spinning, it gets some CPU within a generous wait, however busy the machine is.
  auto after = before;
  for (int i = 0; i < 2000 && after == before; ++i) {
    std::this_thread::sleep_for(1ms);
    after = settle::detail::os_thread_cpu_time(busy.id.load());
  }
  CHECK(after > before);
  CHECK(settle::detail::os_thread_cpu_time(0) == -1);
  CHECK(settle::detail::os_thread_cpu_time(-5) == -1);
}

TEST_CASE("the first look knows nothing; the next tells a computing thread from a sleeping one",
          "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) return;  // no clocks here
  runner busy(true);
  runner asleep(false);
  const int ids[] = {busy.id.load(), asleep.id.load()};
  cpu_census census;
  cpu_census::verdict did[2] = {};
  census.look(ids, 2, did);
  CHECK(did[0] == cpu_census::verdict::unknown);
  CHECK(did[1] == cpu_census::verdict::unknown);
  // The sleeper runs for microseconds each millisecond, far below a quarter of the time.
  std::this_thread::sleep_for(20ms);
  census.look(ids, 2, did);
  CHECK(did[1] == cpu_census::verdict::idle);
  // The spinner computes for a quarter of the time at least, unless the machine is so
  // busy that it shares its core with three others or more: then it is at least not idle
  // for long. Look again until it has had its share once.
  bool computed = did[0] == cpu_census::verdict::computed;
  for (int i = 0; i < 50 && !computed; ++i) {
    std::this_thread::sleep_for(20ms);
    census.look(ids, 2, did);
    computed = did[0] == cpu_census::verdict::computed;
  }
  CHECK(computed);
}

TEST_CASE("a census forgets, and a thread not seen at the last look is unknown", "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) return;
  runner asleep(false);
  runner other(false);
  const int first[] = {asleep.id.load()};
  const int second[] = {other.id.load(), asleep.id.load()};
  cpu_census census;
  cpu_census::verdict did[2] = {};
  census.look(first, 1, did);
  std::this_thread::sleep_for(5ms);
  census.look(second, 2, did);
  CHECK(did[0] == cpu_census::verdict::unknown);  // not seen before
  CHECK(did[1] == cpu_census::verdict::idle);
  census.forget();
  census.look(second, 2, did);
  CHECK(did[0] == cpu_census::verdict::unknown);
  CHECK(did[1] == cpu_census::verdict::unknown);
  CHECK(census.age() < 1s);
}
