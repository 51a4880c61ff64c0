#include <settle/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <latch>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <settle/all.hpp>
#include <settle/all_settled.hpp>
#include <settle/any.hpp>
#include <settle/detail/ring_queue.hpp>
#include <settle/race.hpp>

#include "support/catch.hpp"
#include "support/probes.hpp"

using settle::pool_options;
using settle::thread_pool;
using namespace std::chrono_literals;

static_assert(settle::executor<thread_pool>);
static_assert(!std::is_copy_constructible_v<thread_pool>);
static_assert(!std::is_convertible_v<std::size_t, thread_pool>);  // explicit
static_assert(!std::is_convertible_v<pool_options, thread_pool>);
static_assert(noexcept(std::declval<const thread_pool&>().thread_count()));
static_assert(std::is_same_v<decltype(settle::default_executor()), thread_pool&>);

// ---- construction -------------------------------------------------------------------------

// The pool's queue (settle/detail/ring_queue.hpp): FIFO order across wrap-around and
// growth, removal from the middle, and no memory kept after a burst.
TEST_CASE("the pool's ring queue keeps FIFO order while it wraps, grows and erases", "[unit]") {
  settle::detail::ring_queue<int> q;
  int next_in = 0;
  int next_out = 0;
  // Wrap around a few times at a small size, then grow while wrapped.
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 40; ++k) q.push_back(next_in++);
    for (int k = 0; k < 39; ++k) {
      REQUIRE(q.front() == next_out++);
      q.pop_front();
    }
  }
  REQUIRE(q.size() == 200);
  CHECK(q[0] == next_out);
  CHECK(q[199] == next_in - 1);
  // Erase the last and one in the middle: those behind move up, order is kept.
  q.erase(q.size() - 1);
  q.erase(100);
  --next_in;
  while (!q.empty()) {
    if (next_out == 8000 - 200 + 100) ++next_out;  // the one erased from the middle
    REQUIRE(q.front() == next_out++);
    q.pop_front();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("the pool's ring queue frees a ring grown by a burst once it is empty", "[unit]") {
  using ring = settle::detail::ring_queue<int>;
  ring q;
  for (int i = 0; i < 10; ++i) q.push_back(i);
  while (!q.empty()) q.pop_front();
  CHECK(q.capacity() != 0);  // small rings are kept: pushing again allocates nothing
  CHECK(q.capacity() <= ring::kept_capacity);
  for (std::size_t i = 0; i < 4 * ring::kept_capacity; ++i) q.push_back(1);
  CHECK(q.capacity() > ring::kept_capacity);
  while (q.size() > 1) q.pop_front();
  q.erase(0);
  CHECK(q.capacity() == 0);
}

TEST_CASE("thread_pool(0) throws std::invalid_argument", "[unit]") {
  CHECK_THROWS_AS(thread_pool(std::size_t{0}), std::invalid_argument);
}

TEST_CASE("an elastic pool with min_threads > max_threads throws std::invalid_argument", "[unit]") {
  pool_options opts;
  opts.min_threads = 4;
  opts.max_threads = 2;
  CHECK_THROWS_AS(thread_pool(opts), std::invalid_argument);
}

TEST_CASE("an elastic pool with max_threads == 0 throws std::invalid_argument", "[unit]") {
  pool_options opts;
  opts.min_threads = 0;
  opts.max_threads = 0;
  CHECK_THROWS_AS(thread_pool(opts), std::invalid_argument);
}

TEST_CASE("pool_options defaults: hardware_concurrency threads, at most 256, 30 s idle", "[unit]") {
  const pool_options opts;
  CHECK(opts.min_threads == std::thread::hardware_concurrency());
  CHECK(opts.max_threads == 256);
  CHECK(opts.idle_timeout == std::chrono::milliseconds{30'000});
}

TEST_CASE("a fixed pool has exactly the threads it was given", "[unit]") {
  thread_pool pool(3);
  CHECK(pool.thread_count() == 3);
}

TEST_CASE("an elastic pool with min_threads 0 still runs its work", "[unit]") {
  pool_options opts;
  opts.min_threads = 0;
  opts.max_threads = 2;
  thread_pool pool(opts);
  CHECK(pool.submit([] { return 5; }).get() == 5);
  CHECK(pool.thread_count() <= 2);
}

TEST_CASE("an elastic pool whose idle_timeout is milliseconds::max() keeps its threads", "[unit]") {
  thread_pool pool(pool_options{
      .min_threads = 0, .max_threads = 2, .idle_timeout = std::chrono::milliseconds::max()});
  CHECK(pool.submit([] { return 5; }).get() == 5);
  std::this_thread::sleep_for(50ms);  // a little after the task: no thread may have retired
  CHECK(pool.thread_count() >= 1);
}

TEST_CASE("a default-constructed pool is elastic with pool_options{} and runs work", "[unit]") {
  thread_pool pool;
  CHECK(pool.submit([] { return 1; }).get() == 1);
  CHECK(pool.thread_count() <= 256);
}

// ---- execute and submit ----------------------------------------------------------------------

TEST_CASE("submit returns a std::future of the task's result", "[unit]") {
  thread_pool pool(2);
  auto f = pool.submit([] { return std::string("done"); });
  STATIC_REQUIRE(std::is_same_v<decltype(f), std::future<std::string>>);
  CHECK(f.get() == "done");

  auto v = pool.submit([] {});
  STATIC_REQUIRE(std::is_same_v<decltype(v), std::future<void>>);
  CHECK_NOTHROW(v.get());
}

TEST_CASE("submit's future carries the task's exception", "[unit]") {
  thread_pool pool(1);
  auto f = pool.submit([]() -> int { throw settle_test::test_error("submitted", 3); });
  CHECK_THROWS_AS(f.get(), settle_test::test_error);
}

TEST_CASE("execute runs the job on a pool thread", "[unit]") {
  thread_pool pool(1);
  std::promise<std::thread::id> where;
  auto fut = where.get_future();
  pool.execute([&where] { where.set_value(std::this_thread::get_id()); });
  CHECK(fut.get() != std::this_thread::get_id());
}

TEST_CASE("execute accepts a move-only job", "[unit]") {
  thread_pool pool(1);
  std::promise<int> p;
  auto f = p.get_future();
  pool.execute([q = std::make_unique<int>(7), &p] { p.set_value(*q); });
  CHECK(f.get() == 7);
}

TEST_CASE(
    "a job that throws through execute does not terminate the process nor kill the "
    "thread",
    "[unit]") {
  thread_pool pool(1);
  pool.execute([] { throw std::runtime_error("escaped from a fire-and-forget job"); });
  pool.execute([] { throw 42; });
  // The only thread survived: it still runs work.
  CHECK(pool.submit([] { return 1; }).get() == 1);
  CHECK(pool.thread_count() == 1);
}

TEST_CASE("the destructor runs every queued task before joining", "[unit]") {
  std::atomic<int> ran{0};
  settle_test::gate first_may_finish;
  std::latch first_started(1);
  {
    thread_pool pool(1);
    pool.execute([&] {
      first_started.count_down();
      first_may_finish.wait();
      ++ran;
    });
    first_started.wait();
    // The only thread is busy: these 100 wait in the queue.
    for (int i = 0; i < 100; ++i) pool.execute([&] { ++ran; });
    first_may_finish.open();
  }  // ~thread_pool: drains the queue, then joins
  CHECK(ran == 101);
}

TEST_CASE("tasks may queue more work while the pool is being destroyed; it still runs", "[unit]") {
  std::atomic<int> ran{0};
  {
    thread_pool pool(2);
    for (int i = 0; i < 10; ++i)
      pool.execute([&] {
        pool.execute([&] { ++ran; });
        ++ran;
      });
  }
  CHECK(ran == 20);
}

// ---- default_executor ------------------------------------------------------------------------

TEST_CASE("default_executor() returns the same pool every time, from every thread", "[unit]") {
  thread_pool* here = &settle::default_executor();
  CHECK(here == &settle::default_executor());
  thread_pool* there = nullptr;
  std::thread([&] { there = &settle::default_executor(); }).join();
  CHECK(here == there);
  CHECK(settle::default_executor().submit([] { return 3; }).get() == 3);
}

TEST_CASE(
    "the default executor starts blocking tasks at once: eight tasks that wait for each "
    "other all finish",
    "[unit]") {
  // Each task blocks until all eight are running. If the pool ran them a few at a time,
  // as a CPU-sized pool without growth would, this would never finish.
  constexpr int n = 8;
  std::latch all_running(n);
  std::vector<std::function<int()>> tasks;
  for (int i = 0; i < n; ++i)
    tasks.emplace_back([&all_running, i] {
      all_running.arrive_and_wait();
      return i;
    });
  const auto results = settle::all_settled(settle::default_executor(), tasks);
  REQUIRE(results.size() == n);
  for (int i = 0; i < n; ++i) CHECK(results[static_cast<std::size_t>(i)].value() == i);
}

TEST_CASE(
    "a fixed pool runs as many of one group's tasks at once as it has threads, plus the caller",
    "[unit]") {
  // One queue entry stands for the whole group; each thread that takes a unit of it must
  // still start a task of its own. Four tasks that wait for each other on three threads
  // and the caller only finish if all four run at once.
  thread_pool pool(3);
  constexpr int n = 4;
  auto task_waiting_for = [](std::latch& all_running) {
    return [&all_running] {
      all_running.arrive_and_wait();
      return 1;
    };
  };
  SECTION("range") {
    for (int round = 0; round < 20; ++round) {
      std::latch all_running(n);
      std::vector<std::function<int()>> tasks(n, task_waiting_for(all_running));
      const auto results = settle::all_settled(pool, tasks);
      for (const auto& r : results) CHECK(r.value() == 1);
    }
  }
  SECTION("variadic") {
    for (int round = 0; round < 20; ++round) {
      std::latch all_running(n);
      const auto task = task_waiting_for(all_running);
      auto [a, b, c, d] = settle::all_settled(pool, task, task, task, task);
      CHECK(a.value() + b.value() + c.value() + d.value() == n);
    }
  }
}

TEST_CASE("jobs that wait for each other each get a thread of a fixed pool", "[unit]") {
  // Submitted one by one, while a pool thread may be spinning for work: the pool must
  // still wake every thread the queued jobs need.
  thread_pool pool(3);
  for (int round = 0; round < 20; ++round) {
    std::latch all_running(3);
    std::vector<std::future<void>> done;
    for (int i = 0; i < 3; ++i) done.push_back(pool.submit([&] { all_running.arrive_and_wait(); }));
    for (auto& f : done) f.get();
  }
}

TEST_CASE("an elastic pool grows for blocked tasks up to max_threads, never beyond", "[unit]") {
  pool_options opts;
  opts.min_threads = 1;
  opts.max_threads = 4;
  thread_pool pool(opts);
  constexpr int n = 4;
  std::latch all_running(n);
  std::vector<std::future<void>> done;
  for (int i = 0; i < n; ++i) done.push_back(pool.submit([&] { all_running.arrive_and_wait(); }));
  for (auto& f : done) f.get();
  CHECK(pool.thread_count() <= 4);
}

namespace {

/// A task that spins (yielding, never blocking) until `n` tasks have arrived: `n` of them
/// finish only if all `n` run at once, though no thread ever looks blocked.
std::function<int()> spin_until_arrived(std::atomic<int>& arrived, int n) {
  return [&arrived, n] {
    arrived.fetch_add(1);
    while (arrived.load() < n) std::this_thread::yield();
    return 1;
  };
}

}  // namespace

TEST_CASE(
    "an elastic pool starts at once every task of a call that spins for the others, up to its "
    "threads and the caller",
    "[unit]") {
  SECTION("four variadic tasks on min_threads = 4, max_threads = 8") {
    thread_pool pool(pool_options{.min_threads = 4, .max_threads = 8});
    std::this_thread::sleep_for(50ms);  // its threads go idle
    std::atomic<int> arrived{0};
    const auto t = spin_until_arrived(arrived, 4);
    const auto [a, b, c, d] = settle::all(pool, t, t, t, t);
    CHECK(a + b + c + d == 4);
  }
  SECTION("a range of five tasks on min_threads = max_threads = 4: four threads and the caller") {
    thread_pool pool(pool_options{.min_threads = 4, .max_threads = 4});
    std::this_thread::sleep_for(50ms);  // its threads go idle
    std::atomic<int> arrived{0};
    const std::vector<std::function<int()>> tasks(5, spin_until_arrived(arrived, 5));
    CHECK(settle::all(pool, tasks) == std::vector<int>(5, 1));
  }
  SECTION("a range of five tasks on min_threads = 4, max_threads = 8") {
    thread_pool pool(pool_options{.min_threads = 4, .max_threads = 8});
    std::this_thread::sleep_for(50ms);  // its threads go idle
    std::atomic<int> arrived{0};
    const std::vector<std::function<int()>> tasks(5, spin_until_arrived(arrived, 5));
    CHECK(settle::all(pool, tasks) == std::vector<int>(5, 1));
  }
}

TEST_CASE("a burst of short tasks does not start a thread per task", "[unit]") {
  pool_options opts;
  opts.min_threads = 2;
  opts.max_threads = 100'000;
  thread_pool pool(opts);
  constexpr int n = 4000;
  std::atomic<int> ran{0};
  std::vector<std::function<void()>> tasks(n,
                                           [&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
  const auto results = settle::all_settled(pool, tasks);
  CHECK(results.size() == n);
  CHECK(ran == n);
  // Generous: a thread per task would be 4000.
  CHECK(pool.thread_count() < n / 8);
}

// ---- combinators nested in tasks on the same pool ----------------------------------------------

namespace {

// An inner fan-out of every combinator on `pool`, run from inside a task on `pool`.
int nested_work(thread_pool& pool, int depth) {
  if (depth == 0) return 1;
  auto [a, b, c] = settle::all_settled(
      pool, [&] { return nested_work(pool, depth - 1); },
      [&] { return nested_work(pool, depth - 1); }, [&] { return nested_work(pool, depth - 1); });
  const auto [d, e] = settle::all(
      pool, [&] { return nested_work(pool, depth - 1); },
      [&] { return nested_work(pool, depth - 1); });
  const int f = settle::any(
      pool, []() -> int { throw std::runtime_error("rejected"); },
      [&] { return nested_work(pool, depth - 1); });
  const int g = settle::race(
      pool, [&] { return nested_work(pool, depth - 1); },
      [&](std::stop_token) { return nested_work(pool, depth - 1); });
  const std::vector<int> ids{1, 2, 3};
  const auto mapped = settle::all(pool, ids, [&](int) { return nested_work(pool, depth - 1); });
  int sum = a.value() + b.value() + c.value() + d + e;
  for (int m : mapped) sum += m;
  return sum + (f > 0 ? 1 : 0) + (g > 0 ? 1 : 0);
}

void run_nested(thread_pool& pool) {
  // Several outer tasks at once, each nesting three levels of combinators on `pool`.
  std::vector<std::function<int()>> outer;
  for (int i = 0; i < 4; ++i) outer.emplace_back([&pool] { return nested_work(pool, 3); });
  const auto results = settle::all(pool, outer);
  const int expected = nested_work(pool, 3);  // the same work, from the caller
  REQUIRE(results.size() == 4);
  for (int r : results) CHECK(r == expected);
}

}  // namespace

TEST_CASE("combinators nested in tasks on the same thread_pool(1) do not deadlock", "[unit]") {
  thread_pool pool(1);
  run_nested(pool);
  CHECK(pool.thread_count() == 1);  // a fixed pool never grows
}

TEST_CASE("combinators nested in tasks on the same thread_pool(2) do not deadlock", "[unit]") {
  thread_pool pool(2);
  run_nested(pool);
  CHECK(pool.thread_count() == 2);
}

TEST_CASE("combinators nested in tasks on an elastic pool do not deadlock", "[unit]") {
  pool_options opts;
  opts.min_threads = 1;
  opts.max_threads = 3;
  thread_pool pool(opts);
  run_nested(pool);
  CHECK(pool.thread_count() <= 3);
}

TEST_CASE("combinators nested in tasks on the default executor do not deadlock", "[unit]") {
  run_nested(settle::default_executor());
}

TEST_CASE("a combinator called from a pool task, on that pool, with every thread inside one",
          "[unit]") {
  // Both threads of the pool run an outer task that fans out on the same pool: nobody is
  // left to run the inner tasks but the waiting workers themselves.
  thread_pool pool(2);
  std::latch both_inside(2);
  auto outer = [&] {
    both_inside.arrive_and_wait();
    auto [x, y, z] = settle::all(pool, [] { return 1; }, [] { return 2; }, [] { return 3; });
    return x + y + z;
  };
  std::future<int> f1 = pool.submit(outer);
  std::future<int> f2 = pool.submit(outer);
  CHECK(f1.get() == 6);
  CHECK(f2.get() == 6);
}

TEST_CASE("a combinator nested in a task on a class derived from thread_pool does not deadlock",
          "[unit]") {
  struct my_pool : thread_pool {
    using thread_pool::thread_pool;
  };
  my_pool pool(1);
  auto [r] = settle::all_settled(pool, [&pool] {
    const auto [a, b] = settle::all(pool, [] { return 1; }, [] { return 2; });
    return a + b;
  });
  CHECK(r.value() == 3);
}

// ---- losing futures do not hold the pool's threads -------------------------------------------

TEST_CASE("after a race or any settled, a losing future does not keep the pool's only thread",
          "[unit]") {
  auto slow_one = [] {
    std::this_thread::sleep_for(20ms);
    return 1;
  };
  SECTION("race on thread_pool(1)") {
    thread_pool pool(1);
    std::promise<int> until_the_end;
    CHECK(settle::race(pool, until_the_end.get_future(), slow_one) == 1);
    CHECK(pool.submit([] { return 2; }).get() == 2);
    until_the_end.set_value(0);
  }
  SECTION("any on an elastic pool of one thread") {
    thread_pool pool(pool_options{.min_threads = 1, .max_threads = 1});
    std::promise<int> until_the_end;
    CHECK(settle::any(pool, until_the_end.get_future(), slow_one) == 1);
    CHECK(pool.submit([] { return 2; }).get() == 2);
    until_the_end.set_value(0);
  }
}
