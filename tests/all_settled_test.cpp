#include <settle/all_settled.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <forward_list>
#include <functional>
#include <future>
#include <latch>
#include <list>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <settle/errors.hpp>
#include <settle/executor.hpp>
#include <settle/thread_pool.hpp>

#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"
#include "support/unreadable_ranges.hpp"

using settle::settled;
using settle_test::code_of;
using settle_test::counted;
using settle_test::counters;
using settle_test::fails;
using settle_test::input_only_range;
using settle_test::move_only;
using settle_test::test_error;

namespace {

template <class... Args>
concept can_all_settled =
    requires(Args&&... args) { settle::all_settled(std::forward<Args>(args)...); };

struct not_an_executor {
  void execute(int) {}
};

/// A task that counts its copies and moves; its move constructor is noexcept only when
/// `NoexceptMove` says so.
template <bool NoexceptMove>
struct counting_task {
  explicit counting_task(counters& c) : c(&c) {}
  counting_task(const counting_task& other) : c(other.c) { ++c->copied; }
  counting_task(counting_task&& other) noexcept(NoexceptMove) : c(other.c) { ++c->moved; }
  counting_task& operator=(const counting_task&) = delete;
  counting_task& operator=(counting_task&&) = delete;
  ~counting_task() = default;

  int operator()() const { return 1; }

  counters* c;
};

/// Builds `Container` of 100 counting tasks, hands it to all_settled as an rvalue, and
/// checks that the call copied none of them and moved each exactly once.
template <class Container>
void check_each_task_moved_once() {
  constexpr std::size_t n = 100;
  counters c;
  Container tasks(n, typename Container::value_type(c));
  c.copied = 0;  // count only what the call does
  c.moved = 0;
  const auto results = settle::all_settled(std::move(tasks));
  CHECK(results.size() == n);
  CHECK(c.copied == 0);
  CHECK(c.moved == static_cast<int>(n));
}

}  // namespace

// ---- what compiles, and what it returns -----------------------------------------------------

static_assert(can_all_settled<>);
static_assert(std::is_same_v<decltype(settle::all_settled()), std::tuple<>>);
static_assert(
    std::is_same_v<decltype(settle::all_settled(settle::inline_executor{})), std::tuple<>>);
static_assert(std::is_same_v<decltype(settle::all_settled([] { return 1; }, [] {},
                                                          [](std::stop_token) { return 'c'; })),
                             std::tuple<settled<int>, settled<void>, settled<char>>>);
static_assert(std::is_same_v<
              decltype(settle::all_settled(std::declval<std::vector<std::function<int()>>&>())),
              std::vector<settled<int>>>);
static_assert(
    std::is_same_v<decltype(settle::all_settled(std::declval<std::vector<std::future<void>>>())),
                   std::vector<settled<void>>>);
static_assert(std::is_same_v<decltype(settle::all_settled(std::declval<std::vector<int>&>(),
                                                          [](int) { return 1.0; })),
                             std::vector<settled<double>>>);
// Not a task, not an executor, not a range of tasks.
static_assert(!can_all_settled<int>);
static_assert(!can_all_settled<std::string>);
static_assert(!can_all_settled<settle::inline_executor&, int>);
static_assert(!can_all_settled<not_an_executor, int (*)()>);
static_assert(!can_all_settled<std::vector<int>&>);
// An lvalue std::future (or a range of them) must be moved in.
static_assert(!can_all_settled<std::future<int>&>);
static_assert(can_all_settled<std::future<int>>);
static_assert(!can_all_settled<std::vector<std::future<int>>&>);
static_assert(can_all_settled<std::vector<std::future<int>>>);
// A map function must take the element (and optionally a stop_token first).
static_assert(!can_all_settled<std::vector<int>&, int (*)(std::string)>);

// ---- variadic --------------------------------------------------------------------------------

TEST_CASE("all_settled() with no arguments returns an empty tuple", "[unit]") {
  const std::tuple<> none = settle::all_settled();
  const std::tuple<> none_on_executor = settle::all_settled(settle::inline_executor{});
  (void)none;
  (void)none_on_executor;
  SUCCEED();
}

TEST_CASE("all_settled(tasks...) returns every outcome, fulfilled or rejected", "[unit]") {
  auto [user, posts, comments] =
      settle::all_settled([] { return std::string("ada"); }, [] { return fails(2); },
                          [] { return std::vector<int>{1, 2}; });
  CHECK(user.value() == "ada");
  CHECK(posts.is_rejected());
  CHECK(code_of(posts.reason()) == 2);
  CHECK(comments.value() == std::vector<int>{1, 2});
}

TEST_CASE("all_settled(ex, tasks...) runs on the given executor", "[unit]") {
  auto task = [](int v) { return [v] { return v; }; };
  settle::thread_pool pool(2);
  auto [a, b, c] = settle::all_settled(pool, task(1), task(2), task(3));
  CHECK(a.value() == 1);
  CHECK(b.value() == 2);
  CHECK(c.value() == 3);

  settle_test::manual_executor manual;
  auto [x, y] = settle_test::drive(manual, 2, {0, 1},
                                   [&] { return settle::all_settled(manual, task(4), task(5)); });
  CHECK(x.value() == 4);
  CHECK(y.value() == 5);
  CHECK(manual.submitted() == 2);  // both went through the manual executor
}

TEST_CASE("all_settled never throws a task's exception, even when every task rejects", "[unit]") {
  auto run = [] {
    return settle::all_settled([] { return fails(0); }, []() -> void { throw 42; },
                               []() -> std::string { throw settle_test::not_std_exception{7}; });
  };
  REQUIRE_NOTHROW(run());
  auto [a, b, c] = run();
  CHECK(code_of(a.reason()) == 0);
  CHECK(settle_test::holds<int>(b.reason()));
  CHECK(settle_test::holds<settle_test::not_std_exception>(c.reason()));
}

TEST_CASE("all_settled keeps the exact exception object a task threw", "[unit]") {
  std::atomic<const void*> thrown_at{nullptr};
  auto [r] = settle::all_settled([&]() -> int {
    try {
      throw test_error("the one", 77);
    } catch (const test_error& e) {
      thrown_at = &e;
      throw;
    }
  });
  REQUIRE(r.is_rejected());
  try {
    std::rethrow_exception(r.reason());
  } catch (const test_error& e) {
    CHECK(e.code == 77);
    CHECK(static_cast<const void*>(&e) == thrown_at.load());  // the same object, not a copy
  }
}

TEST_CASE("all_settled results are in argument order whatever order the tasks finish in",
          "[unit]") {
  SECTION("manual executor running the jobs backwards") {
    settle_test::manual_executor ex;
    std::vector<int> finished;  // runner thread only; read after the join
    auto task = [&](int v) {
      return [&finished, v] {
        finished.push_back(v);
        return v;
      };
    };
    auto [a, b, c] = settle_test::drive(
        ex, 3, {2, 1, 0}, [&] { return settle::all_settled(ex, task(0), task(1), task(2)); });
    CHECK(finished == std::vector<int>{2, 1, 0});
    CHECK(a.value() == 0);
    CHECK(b.value() == 1);
    CHECK(c.value() == 2);
  }
  SECTION("pool threads finishing last to first, chained by gates") {
    settle::thread_pool pool(3);  // three tasks wait on each other: three threads
    settle_test::gate g1;
    settle_test::gate g0;
    settle_test::event_log log;
    auto [a, b, c] = settle::all_settled(
        pool,
        [&] {
          g0.wait();
          log.add(0);
          return 0;
        },
        [&] {
          g1.wait();
          log.add(1);
          g0.open();
          return 1;
        },
        [&] {
          log.add(2);
          g1.open();
          return 2;
        });
    CHECK(log.events() == std::vector<int>{2, 1, 0});
    CHECK(a.value() == 0);
    CHECK(b.value() == 1);
    CHECK(c.value() == 2);
  }
}

TEST_CASE("all_settled handles void and move-only results", "[unit]") {
  bool ran = false;
  auto [v, m] = settle::all_settled([&] { ran = true; }, [] { return move_only(5); });
  STATIC_REQUIRE(std::is_same_v<decltype(v), settled<void>>);
  CHECK(ran);
  CHECK(v.is_fulfilled());
  CHECK(m.value().value() == 5);
  move_only taken = std::move(m).value();
  CHECK(taken.value() == 5);
}

TEST_CASE("all_settled does not signal the stop_token: it never settles early", "[unit]") {
  settle_test::manual_executor ex;
  bool later_saw_stop = true;
  auto [first, later] = settle_test::drive(ex, 2, {0, 1}, [&] {
    return settle::all_settled(
        ex, [](std::stop_token) -> int { return fails(1); },
        [&](std::stop_token token) {
          later_saw_stop = token.stop_requested();
          return 2;
        });
  });
  CHECK(first.is_rejected());
  CHECK(later.value() == 2);
  CHECK_FALSE(later_saw_stop);  // the rejection before it stopped nothing
}

TEST_CASE("all_settled takes futures and shared_futures as tasks", "[unit]") {
  std::promise<int> p;
  std::promise<void> pv;
  std::promise<std::string> ps;
  std::shared_future<std::string> shared = ps.get_future().share();
  std::future<int> f = p.get_future();
  std::future<void> fv = pv.get_future();

  // Settled from another thread while the call waits.
  std::thread producer([&] {
    ps.set_value("shared");
    pv.set_exception(std::make_exception_ptr(test_error("void future", 9)));
    p.set_value(4);
  });
  auto [a, b, c, d] = settle::all_settled(std::move(f), std::move(fv), shared, [] { return 1; });
  producer.join();
  CHECK(a.value() == 4);
  CHECK(code_of(b.reason()) == 9);
  CHECK(c.value() == "shared");
  CHECK(shared.get() == "shared");  // the caller's shared_future still holds the value
  CHECK(d.value() == 1);
}

// ---- ranges ----------------------------------------------------------------------------------

TEST_CASE("all_settled(range) returns a vector of outcomes in range order", "[unit]") {
  std::vector<std::function<int()>> tasks{[] { return 10; }, [] { return fails(11); },
                                          [] { return 12; }};
  const std::vector<settled<int>> rs = settle::all_settled(tasks);
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].value() == 10);
  CHECK(code_of(rs[1].reason()) == 11);
  CHECK(rs[2].value() == 12);
  CHECK(tasks.size() == 3);  // an lvalue range is copied from, not consumed
  CHECK(tasks[0]() == 10);
}

TEST_CASE("all_settled(ex, range) runs each task on the executor, results in range order",
          "[unit]") {
  settle_test::manual_executor ex;
  std::list<std::function<int(std::stop_token)>> tasks;  // not a vector: any input range
  for (int i = 0; i < 4; ++i) tasks.emplace_back([i](std::stop_token) { return i * i; });
  const auto rs =
      settle_test::drive(ex, 4, {3, 1, 2, 0}, [&] { return settle::all_settled(ex, tasks); });
  REQUIRE(rs.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(rs[static_cast<std::size_t>(i)].value() == i * i);
}

TEST_CASE("all_settled over a moved range of futures", "[unit]") {
  std::vector<std::promise<int>> promises(3);
  std::vector<std::future<int>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  promises[2].set_value(2);
  promises[0].set_exception(std::make_exception_ptr(test_error("zero", 0)));
  std::thread late([&] { promises[1].set_value(1); });
  const auto rs = settle::all_settled(std::move(futures));
  late.join();
  REQUIRE(rs.size() == 3);
  CHECK(code_of(rs[0].reason()) == 0);
  CHECK(rs[1].value() == 1);
  CHECK(rs[2].value() == 2);

  std::promise<void> pv;
  std::vector<std::future<void>> voids;
  voids.push_back(pv.get_future());
  pv.set_value();
  settle::thread_pool pool(1);
  const auto vs = settle::all_settled(pool, std::move(voids));
  REQUIRE(vs.size() == 1);
  CHECK(vs[0].is_fulfilled());
}

TEST_CASE("all_settled over an lvalue range of shared_futures copies them", "[unit]") {
  std::promise<int> p;
  std::vector<std::shared_future<int>> shared{p.get_future().share()};
  shared.push_back(shared[0]);
  p.set_value(6);
  const auto rs = settle::all_settled(settle::inline_executor{}, shared);
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].value() == 6);
  CHECK(rs[1].value() == 6);
  CHECK(shared[0].valid());
}

TEST_CASE("all_settled(range, fn) maps fn over the elements, results in range order", "[unit]") {
  const std::vector<int> ids{1, 2, 3, 4};
  const auto rs = settle::all_settled(ids, [](int id) {
    if (id == 3) fails(id);
    return id * 10;
  });
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].value() == 10);
  CHECK(rs[1].value() == 20);
  CHECK(code_of(rs[2].reason()) == 3);
  CHECK(rs[3].value() == 40);
}

TEST_CASE("all_settled(ex, range, fn) with fn(stop_token, elem)", "[unit]") {
  settle::thread_pool pool(2);
  const std::array<std::string, 3> names{"a", "bb", "ccc"};
  const auto rs = settle::all_settled(pool, names, [](std::stop_token token, const std::string& s) {
    return token.stop_requested() ? std::size_t{0} : s.size();
  });
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].value() == 1);
  CHECK(rs[1].value() == 2);
  CHECK(rs[2].value() == 3);
}

TEST_CASE("all_settled maps fn(elem) and fn(stop_token, elem), with and without executor",
          "[unit]") {
  const std::vector<int> ids{1, 2, 3};
  settle::thread_pool pool(2);
  const auto a = settle::all_settled(pool, ids, [](int id) { return id + 1; });
  const auto b = settle::all_settled(ids, [](std::stop_token, int id) { return id * 3; });
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(a[i].value() == ids[i] + 1);
    CHECK(b[i].value() == ids[i] * 3);
  }
}

TEST_CASE("all_settled over an empty range returns an empty vector at once", "[unit]") {
  const std::vector<std::function<int()>> none;
  CHECK(settle::all_settled(none).empty());
  settle_test::manual_executor ex;
  CHECK(settle::all_settled(ex, none).empty());
  CHECK(settle::all_settled(std::vector<std::future<int>>{}).empty());
  const std::vector<int> no_ids;
  CHECK(settle::all_settled(no_ids, [](int i) { return i; }).empty());
  CHECK(settle::all_settled(ex, no_ids, [](int i) { return i; }).empty());
  CHECK(ex.submitted() == 0);
}

// ---- executors that refuse -----------------------------------------------------------------

TEST_CASE(
    "a task refused by its executor is rejected with the executor's exception; the "
    "others still run",
    "[unit]") {
  SECTION("on inline_executor") {
    settle::inline_executor inner;
    settle_test::refusing_executor ex(inner, 0);
    bool second_ran = false;
    auto [a, b] = settle::all_settled(
        ex, [] { return 1; },
        [&] {
          second_ran = true;
          return 2;
        });
    REQUIRE(a.is_rejected());
    CHECK(settle_test::holds<settle_test::refused>(a.reason()));
    CHECK(b.value() == 2);
    CHECK(second_ran);
  }
  SECTION("on a pool, where the started tasks are still waited for") {
    settle::thread_pool pool(2);
    settle_test::refusing_executor ex(pool, 1);
    settle_test::gate third_ran;
    std::atomic<bool> first_returned{false};
    auto [a, b, c] = settle::all_settled(
        ex,
        [&] {
          third_ran.wait();  // still running when the second task is refused
          first_returned = true;
          return 1;
        },
        [] { return 2; },
        [&] {
          third_ran.open();
          return 3;
        });
    CHECK(first_returned);
    CHECK(a.value() == 1);
    REQUIRE(b.is_rejected());
    CHECK(settle_test::holds<settle_test::refused>(b.reason()));
    CHECK(c.value() == 3);
  }
}

TEST_CASE(
    "a task whose job the executor destroys unrun settles rejected with "
    "settle::cancelled",
    "[unit]") {
  settle_test::manual_executor ex;
  bool dropped_ran = false;
  std::thread runner([&] {
    ex.wait_for_submissions(3);
    ex.run(2);
    ex.drop(1);
    ex.run(0);
  });
  auto [a, b, c] = settle::all_settled(
      ex, [] { return 0; },
      [&] {
        dropped_ran = true;
        return 1;
      },
      [] { return 2; });
  runner.join();
  CHECK(a.value() == 0);
  REQUIRE(b.is_rejected());
  CHECK(settle_test::holds<settle::cancelled>(b.reason()));
  CHECK_FALSE(dropped_ran);
  CHECK(c.value() == 2);
}

// ---- object lifetimes -----------------------------------------------------------------------

TEST_CASE("all_settled destroys every task and every value exactly once", "[unit]") {
  counters task_probes;
  counters value_probes;
  {
    settle::thread_pool pool(2);
    {
      auto make = [&](int v) {
        return [probe = counted(task_probes, v), &value_probes] {
          return counted(value_probes, probe.value());
        };
      };
      std::vector<std::function<counted()>> range{make(3), make(4)};
      auto [a, b, c] = settle::all_settled(pool, make(1), make(2),
                                           [&]() -> counted { throw test_error("no value", 0); });
      auto rs = settle::all_settled(pool, range);
      // The callables that ran are gone already (only the range's own copies are left).
      CHECK(task_probes.live() == 2);
      CHECK(a.value().value() == 1);
      CHECK(b.value().value() == 2);
      CHECK(c.is_rejected());
      CHECK(rs[1].value().value() == 4);
      CHECK(value_probes.live() == 4);
    }
    CHECK(task_probes.live() == 0);
    CHECK(value_probes.live() == 0);
  }
  CHECK(task_probes.destroyed_twice == 0);
  CHECK(value_probes.destroyed_twice == 0);
  CHECK(value_probes.constructed == value_probes.destroyed);
}

TEST_CASE("all_settled over a moved range moves each task exactly once and copies none", "[unit]") {
  SECTION("a forward_list of tasks whose move may throw") {
    check_each_task_moved_once<std::forward_list<counting_task<false>>>();
  }
  SECTION("a forward_list of tasks with a noexcept move") {
    check_each_task_moved_once<std::forward_list<counting_task<true>>>();
  }
  SECTION("a vector of tasks whose move may throw") {
    check_each_task_moved_once<std::vector<counting_task<false>>>();
  }
  SECTION("a vector of tasks with a noexcept move") {
    check_each_task_moved_once<std::vector<counting_task<true>>>();
  }
}

// ---- ranges whose elements cannot be read --------------------------------------------------

TEST_CASE("all_settled propagates the exception thrown while reading an element of its range",
          "[unit]") {
  settle_test::check_unreadable_element_propagates(
      [](auto&&... a) { return settle::all_settled(std::forward<decltype(a)>(a)...); });
}

// ---- map: what the function may take --------------------------------------------------------

TEST_CASE("all_settled maps a generic lambda over a range of ints, with and without executor",
          "[unit]") {
  settle::thread_pool pool(2);
  const auto rs = settle::all_settled(std::vector<int>{1, 2}, [](auto x) { return x * 2; });
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].value() == 2);
  CHECK(rs[1].value() == 4);
  const auto ps = settle::all_settled(pool, std::vector<int>{1, 2}, [](auto x) { return x * 2; });
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].value() == 2);
  CHECK(ps[1].value() == 4);
}

TEST_CASE("all_settled maps a function taking an lvalue reference over a single-pass input range",
          "[unit]") {
  settle::thread_pool pool(2);
  auto ids = [] { return input_only_range(std::vector<int>{1, 2, 3}); };
  const auto rs = settle::all_settled(ids(), [](int& x) { return x * 2; });
  REQUIRE(rs.size() == 3);
  CHECK(rs[2].value() == 6);
  const auto ps = settle::all_settled(pool, ids(), [](auto& x) { return x == 2 ? fails(x) : x; });
  REQUIRE(ps.size() == 3);
  CHECK(ps[0].value() == 1);
  CHECK(code_of(ps[1].reason()) == 2);
  CHECK(ps[2].value() == 3);
}

// ---- the seed's promise: parallel, not one after another -------------------------------------

TEST_CASE(
    "three ~100 ms tasks in parallel take less than 60% of running them one after "
    "another",
    "[timing]") {
  using namespace std::chrono_literals;
  auto io_bound = [] {
    std::this_thread::sleep_for(100ms);  // stands for a network round trip
    return 1;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto [a, b, c] = settle::all_settled(settle::inline_executor{}, io_bound, io_bound, io_bound);
  const auto sequential = std::chrono::steady_clock::now() - t0;

  const auto t1 = std::chrono::steady_clock::now();
  auto [x, y, z] = settle::all_settled(io_bound, io_bound, io_bound);
  const auto parallel = std::chrono::steady_clock::now() - t1;

  CHECK(a.value() + b.value() + c.value() == 3);
  CHECK(x.value() + y.value() + z.value() == 3);
  INFO("sequential " << std::chrono::duration_cast<std::chrono::milliseconds>(sequential).count()
                     << " ms, parallel "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(parallel).count()
                     << " ms");
  CHECK(parallel * 10 < sequential * 6);
}
