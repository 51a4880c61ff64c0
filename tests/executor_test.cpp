#include <settle/executor.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <settle/all_settled.hpp>
#include <settle/thread_pool.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"

namespace {

struct no_execute {};
struct execute_takes_int {
  void execute(int) {}
};
struct execute_takes_function_pointer {
  void execute(void (*)()) {}
};

}  // namespace

static_assert(settle::executor<settle::inline_executor>);
static_assert(settle::executor<const settle::inline_executor>);
static_assert(settle::executor<settle::thread_pool>);
static_assert(settle::executor<settle_test::manual_executor>);
static_assert(settle::executor<settle_test::refusing_executor<settle::inline_executor>>);
static_assert(!settle::executor<int>);
static_assert(!settle::executor<no_execute>);
static_assert(!settle::executor<execute_takes_int>);
// A capturing job is not a function pointer: execute must take any move-only callable.
static_assert(!settle::executor<execute_takes_function_pointer>);

TEST_CASE("inline_executor runs the job at once, on the calling thread", "[unit]") {
  const settle::inline_executor ex;
  std::thread::id ran_on;
  bool ran = false;
  ex.execute([&] {
    ran = true;
    ran_on = std::this_thread::get_id();
  });
  CHECK(ran);
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("inline_executor accepts a move-only job", "[unit]") {
  int seen = 0;
  settle::inline_executor{}.execute([p = std::make_unique<int>(4), &seen] { seen = *p; });
  CHECK(seen == 4);
}

TEST_CASE(
    "all_settled on inline_executor is sequential: one task after another in argument "
    "order, on the caller",
    "[unit]") {
  std::vector<int> order;  // no lock: everything runs on this thread
  std::vector<std::thread::id> threads;
  auto step = [&](int i) {
    return [&, i] {
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
      return i;
    };
  };
  auto [a, b, c] = settle::all_settled(settle::inline_executor{}, step(0), step(1), step(2));
  CHECK(order == std::vector<int>{0, 1, 2});
  for (const auto& id : threads) CHECK(id == std::this_thread::get_id());
  CHECK(a.value() == 0);
  CHECK(b.value() == 1);
  CHECK(c.value() == 2);
}

TEST_CASE("a task that throws on inline_executor is rejected, and the next tasks still run",
          "[unit]") {
  std::vector<int> order;
  auto [a, b] = settle::all_settled(
      settle::inline_executor{},
      [&]() -> int {
        order.push_back(0);
        throw settle_test::test_error("first", 0);
      },
      [&] {
        order.push_back(1);
        return 1;
      });
  CHECK(order == std::vector<int>{0, 1});
  CHECK(settle_test::code_of(a.reason()) == 0);
  CHECK(b.value() == 1);
}

TEST_CASE("tasks are handed to the executor in argument order", "[unit]") {
  settle_test::manual_executor ex;
  std::vector<int> order;  // written by the runner thread only, read after the join
  auto step = [&](int i) {
    return [&order, i] {
      order.push_back(i);
      return i;
    };
  };
  // Running the jobs in submission order must run the tasks in argument order.
  auto results = settle_test::drive(
      ex, 3, {0, 1, 2}, [&] { return settle::all_settled(ex, step(0), step(1), step(2)); });
  CHECK(order == std::vector<int>{0, 1, 2});
  CHECK(std::get<2>(results).value() == 2);

  std::vector<std::function<int()>> range{step(3), step(4), step(5)};
  auto from_range =
      settle_test::drive(ex, 6, {3, 4, 5}, [&] { return settle::all_settled(ex, range); });
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(from_range.size() == 3);
}

TEST_CASE("every task is handed to the executor before the call waits", "[unit]") {
  settle_test::manual_executor ex;
  // The runner runs nothing until all four jobs are there: a combinator that waited for
  // one task before submitting the next would hang (and the watchdog would say so).
  auto results = settle_test::drive(ex, 4, {3, 2, 1, 0}, [&] {
    return settle::all_settled(
        ex, [] { return 0; }, [] { return 1; }, [] { return 2; }, [] { return 3; });
  });
  CHECK(std::get<0>(results).value() == 0);
  CHECK(std::get<3>(results).value() == 3);
  CHECK(ex.submitted() == 4);
}
