// `co_await` on a settle::pending (SPEC §6), from the minimal coroutine type of
// support/coro.hpp: a call not finished yet and one finished already, exceptions, futures
// and deadlines finishing the call from the watcher, and thousands of coroutines awaiting at
// once on a two-thread pool without a thread each.
#include <settle/pending.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <fstream>
#include <future>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <settle/settle.hpp>

#include "support/catch.hpp"
#include "support/coro.hpp"
#include "support/options_probes.hpp"
#include "support/probes.hpp"

using namespace std::chrono_literals;
using settle_test::eager;

namespace {

/// Threads alive in this process (Linux), or -1 where /proc is not there.
int threads_alive() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

eager<int> sum_of(settle::pending<std::tuple<int, int>> p) {
  auto [a, b] = co_await std::move(p);
  co_return a + b;
}

}  // namespace

TEST_CASE("co_await suspends until the call finishes and resumes on the thread that finished it") {
  settle_test::gate release;
  const auto caller = std::this_thread::get_id();
  std::thread::id resumed_on;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto coro_body = [&]() -> eager<int> {
    auto r = co_await settle::start(
        settle::all,
        [&] {
          release.wait();
          return 20;
        },
        [] { return 22; });
    resumed_on = std::this_thread::get_id();
    co_return std::get<0>(r) + std::get<1>(r);
  };
  auto coro = coro_body();
  CHECK_FALSE(coro.finished());  // suspended: this thread went on
  release.open();
  CHECK(coro.get() == 42);
  CHECK(resumed_on != caller);
}

TEST_CASE("co_await on a finished call resumes at once on the awaiting thread") {
  const auto caller = std::this_thread::get_id();
  std::thread::id resumed_on;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto coro_body = [&]() -> eager<int> {
    auto p =
        settle::start(settle::all, settle::inline_executor{}, [] { return 1; }, [] { return 2; });
    auto [a, b] = co_await std::move(p);
    resumed_on = std::this_thread::get_id();
    co_return a + b;
  };
  auto coro = coro_body();
  CHECK(coro.finished());
  CHECK(coro.get() == 3);
  CHECK(resumed_on == caller);
}

TEST_CASE("co_await yields what get would: values, void, and exceptions") {
  auto p = settle::start(settle::all, [] { return 1; }, [] { return 2; });
  CHECK(sum_of(std::move(p)).get() == 3);

  auto rejected = []() -> eager<int> {
    co_await settle::start(settle::all, [] { return settle_test::fails(5); });
    co_return 0;
  }();
  CHECK_THROWS_AS(rejected.get(), settle_test::test_error);

  auto none = []() -> eager<int> {
    co_await settle::start(settle::any, [] { throw settle_test::test_error("x", 1); });
    co_return 0;
  }();
  CHECK_THROWS_AS(none.get(), settle::aggregate_error);

  int ran = 0;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto void_call_body = [&]() -> eager<void> {
    co_await settle::start(settle::race, [&] { ++ran; });
  };
  auto void_call = void_call_body();
  void_call.get();
  CHECK(ran == 1);

  auto invalid = []() -> eager<int> {
    settle::pending<int> empty;
    co_return co_await std::move(empty);
  }();
  CHECK_THROWS_AS(invalid.get(), std::future_error);
}

TEST_CASE("a call finished by a future or a deadline resumes its awaiting coroutine") {
  std::promise<int> later;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto from_future_body = [&]() -> eager<int> {
    co_return co_await settle::start(settle::any, later.get_future());
  };
  auto from_future = from_future_body();
  CHECK_FALSE(from_future.finished());
  later.set_value(8);
  CHECK(from_future.get() == 8);

  std::promise<int> never;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto from_deadline_body = [&]() -> eager<int> {
    co_return co_await settle::start(settle::race, settle::timeout(10ms), never.get_future());
  };
  auto from_deadline = from_deadline_body();
  CHECK_THROWS_AS(from_deadline.get(), settle::timed_out);
}

TEST_CASE("thousands of coroutines await at once without a thread each") {
  constexpr std::size_t coroutines = 3000;
  settle::thread_pool pool(2);
  settle_test::gate release;
  std::atomic<std::size_t> ran{0};
  const int threads_before = threads_alive();
  std::vector<eager<int>> handlers;
  handlers.reserve(coroutines);
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto handler = [&](int k) -> eager<int> {
    auto [a, b, c] = co_await settle::start(
        settle::all_settled, pool,
        [&release, &ran, k] {
          release.wait();
          ++ran;
          return k;
        },
        [k] { return k; }, [] { return 1; });
    co_return a.value() + b.value() + c.value();
  };
  for (std::size_t i = 0; i < coroutines; ++i) handlers.push_back(handler(static_cast<int>(i)));
  // Every coroutine is suspended now (the pool's two threads wait at the gate): the
  // awaiting has cost no thread.
  const int threads_while_waiting = threads_alive();
  if (threads_before > 0) CHECK(threads_while_waiting <= threads_before + 2);
  for (const auto& h : handlers) CHECK_FALSE(h.finished());
  release.open();
  long total = 0;
  for (auto& h : handlers) total += h.get(30s);
  const long n = static_cast<long>(coroutines);
  CHECK(total == n * (n - 1) + n);
  CHECK(ran == coroutines);
}

TEST_CASE("a coroutine awaiting inside a task of a one-thread pool does not hold the thread") {
  settle::thread_pool pool(1);
  std::promise<eager<int>> handed;
  // The coroutine starts inside the pool's only thread, suspends there, and the same thread
  // then runs the inner call's tasks and resumes it.
  auto inner = [&pool]() -> eager<int> {
    auto [a, b] = co_await settle::start(settle::all, pool, [] { return 1; }, [] { return 2; });
    co_return a + b;
  };
  (void)settle::all(pool, [&] { handed.set_value(inner()); });
  CHECK(handed.get_future().get().get() == 3);
}

namespace {

/// A coroutine its owner destroys: starts at once, never destroys itself.
struct owned_coroutine {
  struct promise_type {
    owned_coroutine get_return_object() {
      return owned_coroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

}  // namespace

TEST_CASE("a coroutine destroyed while it awaits stops the call, waits for it, and stays dead") {
  settle::thread_pool pool(2);
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> resumed{false};
  settle_test::arrivals started;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto c_body = [&]() -> owned_coroutine {
    co_await settle::start(settle::all_settled, pool, [&](std::stop_token t) {
      started.arrive();
      saw_stop = settle_test::stop_within_fallback(t);
    });
    resumed = true;
  };
  auto c = c_body();
  REQUIRE(started.wait_for(1));
  c.handle.destroy();  // the pending inside the frame stops the call and waits
  CHECK(saw_stop);
  CHECK_FALSE(resumed);
}

TEST_CASE("a coroutine finished by a stop callback is not resumed inside that callback") {
  // The coroutine's next wait needs the same stop request's other callback: resumed inline,
  // it would wait inside the first callback forever.
  settle::thread_pool pool(4);
  std::stop_source source;
  std::promise<int> never;
  // Named: a coroutine lambda's captures live in the closure, which must outlive it.
  auto coro_body = [&]() -> eager<int> {
    auto y =
        settle::start(settle::all_settled, pool, settle::stop_on(source.get_token()),
                      [](std::stop_token t) { return settle_test::until_stopped(std::move(t)); });
    auto x = settle::start(settle::all_settled, pool, settle::stop_on(source.get_token()),
                           never.get_future());
    co_await std::move(x);
    co_return std::get<0>(y.get()).is_rejected() ? 1 : 0;
  };
  auto coro = coro_body();
  source.request_stop();
  CHECK(coro.get() == 1);
}
