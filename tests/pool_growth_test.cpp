// How an elastic pool tells blocked threads from threads that compute or wait for a lock
// (settle/detail/os_thread.hpp), and that its growth stays live when a lock's holder
// waits for queued work.
#include <settle/detail/os_thread.hpp>
#include <settle/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "support/catch.hpp"

using settle::pool_options;
using settle::thread_pool;
using settle::detail::os_thread_state;
using namespace std::chrono_literals;

namespace {

constexpr bool knows_futex = settle::detail::futex_syscall >= 0;

/// A line of /proc/<pid>/task/<tid>/syscall for a futex call with these arguments.
std::string futex_line(const char* op, const char* value) {
  return std::to_string(settle::detail::futex_syscall) + " 0x7f3627df1c60 " + op + ' ' + value +
         " 0x0 0x0 0x0 0x7ffd5b2d4a08 0x7f3627c9a0d6";
}

/// A thread that runs `f` after publishing its kernel id.
class probed_thread {
 public:
  template <class F>
  explicit probed_thread(F f)
      : thread_([this, f = std::move(f)]() mutable {
          id_.store(settle::detail::current_os_thread_id());
          started_.store(true);
          f();
        }) {
    while (!started_.load()) std::this_thread::yield();
  }
  probed_thread(const probed_thread&) = delete;
  probed_thread& operator=(const probed_thread&) = delete;
  ~probed_thread() { thread_.join(); }

  [[nodiscard]] os_thread_state state() const { return settle::detail::os_thread_now(id_.load()); }

  /// The state it settles in once it has stopped running (or `running` if it never
  /// stops within 10 s).
  [[nodiscard]] os_thread_state settled_state() const {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    auto state = settle::detail::os_thread_now(id_.load());
    while (state == os_thread_state::running && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
      state = settle::detail::os_thread_now(id_.load());
    }
    return state;
  }

 private:
  std::atomic<int> id_{0};
  std::atomic<bool> started_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("a futex wait for the value 2 reads as a wait for a lock, other calls do not", "[unit]") {
  if constexpr (!knows_futex) {
    CHECK_FALSE(settle::detail::waits_for_lock(futex_line("0x80", "0x2")));
  } else {
    CHECK(settle::detail::waits_for_lock(futex_line("0x80", "0x2")));  // private mutex
    CHECK(settle::detail::waits_for_lock(futex_line("0x0", "0x2")));   // shared mutex
    CHECK(settle::detail::waits_for_lock(futex_line("0x86", "0x0")));  // priority inheritance
    // Condition variables, futures, atomic waits for 0 or 1, and every other call.
    CHECK_FALSE(settle::detail::waits_for_lock(futex_line("0x189", "0x0")));
    CHECK_FALSE(settle::detail::waits_for_lock(futex_line("0x80", "0x0")));
    CHECK_FALSE(settle::detail::waits_for_lock(futex_line("0x80", "0x1")));
    CHECK_FALSE(settle::detail::waits_for_lock(futex_line("0x81", "0x2")));  // a wake
    CHECK_FALSE(settle::detail::waits_for_lock(std::to_string(settle::detail::futex_syscall + 1) +
                                               " 0x0 0x80 0x2 0x0 0x0 0x0 0x0 0x0"));
  }
  CHECK_FALSE(settle::detail::waits_for_lock("running"));
  CHECK_FALSE(settle::detail::waits_for_lock("-1 0x7ffd5b2d4a08 0x7f3627c9a0d6"));
  CHECK_FALSE(settle::detail::waits_for_lock(""));
  CHECK_FALSE(settle::detail::waits_for_lock("not a number"));
}

TEST_CASE("a thread reads as running, waiting for a lock or blocked, as it is", "[unit]") {
  if (settle::detail::current_os_thread_id() == 0) {
    // No /proc: every thread counts as blocked, the safe answer for growth.
    CHECK(settle::detail::os_thread_now(0) == os_thread_state::blocked);
    return;
  }
  SECTION("a thread that spins runs") {
    std::atomic<bool> stop{false};
    probed_thread spinner([&stop] {
      while (!stop.load()) {
      }
    });
    // Preempted or not, a thread that never sleeps is 'R' (runnable) every time.
    for (int i = 0; i < 100; ++i) CHECK(spinner.state() == os_thread_state::running);
    stop.store(true);
  }
  SECTION("a thread in std::mutex::lock waits for a lock") {
    std::mutex m;
    std::unique_lock held(m);
    probed_thread waiter([&m] { std::lock_guard lock(m); });
    CHECK(waiter.settled_state() ==
          (knows_futex ? os_thread_state::waiting_for_lock : os_thread_state::blocked));
    held.unlock();
  }
  SECTION("a thread waiting on a condition variable or a future is blocked") {
    std::mutex m;
    std::condition_variable cv;
    bool go = false;
    {
      probed_thread waiter([&] {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return go; });
      });
      CHECK(waiter.settled_state() == os_thread_state::blocked);
      {
        std::lock_guard lock(m);
        go = true;
      }
      cv.notify_one();
    }
    std::promise<void> p;
    probed_thread future_waiter([f = p.get_future()]() mutable { f.get(); });
    CHECK(future_waiter.settled_state() == os_thread_state::blocked);
    p.set_value();
  }
  SECTION("a thread that sleeps is blocked") {
    std::atomic<bool> stop{false};
    probed_thread sleeper([&stop] {
      while (!stop.load()) std::this_thread::sleep_for(1ms);
    });
    CHECK(sleeper.settled_state() == os_thread_state::blocked);
    stop.store(true);
  }
}

TEST_CASE(
    "an elastic pool still grows when its tasks wait for a lock whose holder waits for "
    "queued work",
    "[unit]") {
  // The holder is this thread: it keeps the mutex until a task queued behind the waiting
  // one has run, which needs a second pool thread. A moment's wait for a lock does not grow
  // the pool, but one that lasts counts as blocked.
  thread_pool pool(pool_options{.min_threads = 1, .max_threads = 4});
  std::mutex m;
  std::unique_lock held(m);
  std::atomic<bool> waiter_running{false};
  auto waiter = pool.submit([&] {
    waiter_running.store(true);
    std::lock_guard lock(m);
  });
  while (!waiter_running.load()) std::this_thread::yield();
  auto behind = pool.submit([] { return 7; });
  CHECK(behind.get() == 7);
  held.unlock();
  waiter.get();
  CHECK(pool.thread_count() >= 2);
}
