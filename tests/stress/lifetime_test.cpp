// Lifetimes: probe types register every object they construct and unregister it when it is
// destroyed, so each test proves that every task object and every result is destroyed
// exactly once (never twice, never forgotten) on every path: fulfilled, rejected,
// cancelled (all/any/race settled early), refused by the executor, dropped by the executor.
// The SPEC also says a callable "lives until it returns": the library's copies of the task
// objects must be gone by the time the call returns, which is checked right there.
#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/probes.hpp"

namespace {

using namespace settle_stress;

lifetime_registry& tasks_alive() {
  static lifetime_registry r;
  return r;
}
lifetime_registry& results_alive() {
  static lifetime_registry r;
  return r;
}

constexpr std::uint32_t alive_mark = 0xA11FE;
constexpr std::uint32_t dead_mark = 0xDEAD;

/// A move-only result.
class probe_result {
 public:
  explicit probe_result(int id) : id_(id) { results_alive().born(this, "result"); }
  probe_result(probe_result&& other) noexcept : id_(other.id()) {
    results_alive().born(this, "result");
  }
  probe_result& operator=(probe_result&& other) noexcept {
    id_ = other.id();
    return *this;
  }
  probe_result(const probe_result&) = delete;
  probe_result& operator=(const probe_result&) = delete;
  ~probe_result() {
    if (mark_ != alive_mark) results_alive().error("a result was destroyed twice");
    mark_ = dead_mark;
    results_alive().died(this, "result");
  }
  [[nodiscard]] int id() const {
    if (mark_ != alive_mark) results_alive().error("a destroyed result was used");
    return id_;
  }

 private:
  int id_;
  std::uint32_t mark_ = alive_mark;
};

/// Per-test record of how often each task ran.
struct invocations {
  explicit invocations(int n)
      : count(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))), size(n) {}
  std::unique_ptr<std::atomic<int>[]> count;
  int size;
  [[nodiscard]] int at(int i) const { return count[static_cast<std::size_t>(i)].load(); }
};

/// A copyable task object: fulfils with probe_result(id) or throws.
class probe_task {
 public:
  probe_task(int id, bool rejects, invocations* inv) : id_(id), rejects_(rejects), inv_(inv) {
    tasks_alive().born(this, "task");
  }
  probe_task(const probe_task& o) : id_(o.id_), rejects_(o.rejects_), inv_(o.inv_) {
    o.check("copied");
    tasks_alive().born(this, "task");
  }
  probe_task(probe_task&& o) noexcept : id_(o.id_), rejects_(o.rejects_), inv_(o.inv_) {
    o.check("moved");
    tasks_alive().born(this, "task");
  }
  probe_task& operator=(const probe_task&) = delete;
  probe_task& operator=(probe_task&&) = delete;
  ~probe_task() {
    check("destroyed");
    mark_ = dead_mark;
    tasks_alive().died(this, "task");
  }

  probe_result operator()() const {
    check("invoked");
    inv_->count[static_cast<std::size_t>(id_)].fetch_add(1);
    if (rejects_) throw std::runtime_error("task " + std::to_string(id_) + " rejects");
    return probe_result(id_);
  }

 private:
  void check(const char* what) const {
    if (mark_ != alive_mark) tasks_alive().error(std::string("a destroyed task was ") + what);
  }

  int id_;
  bool rejects_;
  invocations* inv_;
  std::uint32_t mark_ = alive_mark;
};

/// The map form's function: copyable, const-callable, registered like a task.
class probe_fn {
 public:
  explicit probe_fn(invocations* inv) : inv_(inv) { tasks_alive().born(this, "map function"); }
  probe_fn(const probe_fn& o) : inv_(o.inv_) { tasks_alive().born(this, "map function"); }
  probe_fn(probe_fn&& o) noexcept : inv_(o.inv_) { tasks_alive().born(this, "map function"); }
  probe_fn& operator=(const probe_fn&) = delete;
  probe_fn& operator=(probe_fn&&) = delete;
  ~probe_fn() {
    if (mark_ != alive_mark) tasks_alive().error("a map function was destroyed twice");
    mark_ = dead_mark;
    tasks_alive().died(this, "map function");
  }
  probe_result operator()(int id) const {
    if (mark_ != alive_mark) tasks_alive().error("a destroyed map function was invoked");
    inv_->count[static_cast<std::size_t>(id)].fetch_add(1);
    return probe_result(id);
  }

 private:
  invocations* inv_;
  std::uint32_t mark_ = alive_mark;
};

std::vector<probe_task> make_tasks(int n, invocations& inv, int reject_every) {
  std::vector<probe_task> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    tasks.emplace_back(i, reject_every > 0 && i % reject_every == 0, &inv);
  return tasks;
}

void check_registries_clean() {
  for (const auto& e : tasks_alive().errors()) FAIL_CHECK(e);
  for (const auto& e : results_alive().errors()) FAIL_CHECK(e);
  CHECK(tasks_alive().live() == 0);
  CHECK(results_alive().live() == 0);
}

long long objects_checked() { return tasks_alive().constructed() + results_alive().constructed(); }

// ---- fulfilled and rejected ---------------------------------------------------------------

template <class Ex>
void settled_paths(Ex& ex) {
  for (int n : {1, 7, 50}) {
    for (int reject_every : {0, 3, 1}) {
      INFO("n = " << n << ", every " << reject_every << "th task rejects (0: none)");
      invocations inv(n);
      {
        auto tasks = make_tasks(n, inv, reject_every);
        int fulfilling = 0;
        for (int i = 0; i < n; ++i)
          fulfilling += (reject_every > 0 && i % reject_every == 0) ? 0 : 1;
        {
          const auto rs = settle::all_settled(ex, tasks);
          CHECK(tasks_alive().live() == static_cast<std::size_t>(n));  // only the caller's
          CHECK(results_alive().live() == static_cast<std::size_t>(fulfilling));
          for (int i = 0; i < n; ++i) {
            CHECK(inv.at(i) == 1);
            if (rs[static_cast<std::size_t>(i)].is_fulfilled())
              CHECK(rs[static_cast<std::size_t>(i)].value().id() == i);
          }
        }
        CHECK(results_alive().live() == 0);
        {
          // Moved in: the library takes the elements; the moved-from shells stay ours.
          const auto rs = settle::all_settled(ex, std::move(tasks));
          CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
          CHECK(results_alive().live() == static_cast<std::size_t>(fulfilling));
        }
        CHECK(results_alive().live() == 0);
        if (fulfilling == n) {
          const auto values = settle::all(ex, tasks);
          CHECK(results_alive().live() == static_cast<std::size_t>(n));
        }
        CHECK(results_alive().live() == 0);
      }
      check_registries_clean();
    }
  }
  {  // variadic, temporaries and lvalues mixed
    invocations inv(3);
    {
      const probe_task named(2, true, &inv);
      {
        auto [a, b, c] =
            settle::all_settled(ex, probe_task(0, false, &inv), probe_task(1, false, &inv), named);
        CHECK(tasks_alive().live() == 1);  // the temporaries died with the full expression
        CHECK(results_alive().live() == 2);
        CHECK(c.is_rejected());
      }
      CHECK(results_alive().live() == 0);
    }
    check_registries_clean();
  }
}

TEST_CASE(
    "every task object and every result is destroyed exactly once when tasks fulfil or reject",
    "[stress][lifetime]") {
  SECTION("inline executor") {
    settle::inline_executor ex;
    settled_paths(ex);
  }
  SECTION("thread_pool(1)") {
    settle::thread_pool ex(1);
    settled_paths(ex);
  }
  SECTION("thread_pool(2)") {
    settle::thread_pool ex(2);
    settled_paths(ex);
  }
  SECTION("elastic pool") {
    settle::thread_pool ex(settle::pool_options{0, 4, std::chrono::milliseconds(5)});
    settled_paths(ex);
  }
  SECTION("default executor") { settled_paths(settle::default_executor()); }
}

// ---- cancelled: all, any and race settling early ----------------------------------------

template <class Ex>
void early_paths(Ex& ex, bool in_order) {
  const int rounds = in_order ? 1 : 40;
  for (int round = 0; round < rounds; ++round) {
    for (int n : {2, 9, 40}) {
      INFO("n = " << n << ", round " << round);
      invocations inv(n);
      {
        // all: task 0 rejects, so the others may be cancelled before they start.
        auto tasks = make_tasks(n, inv, n);
        CHECK_THROWS_AS(settle::all(ex, tasks), std::runtime_error);
        CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
        CHECK(results_alive().live() == 0);
        for (int i = 0; i < n; ++i) CHECK(inv.at(i) <= 1);
        if (in_order)
          for (int i = 1; i < n; ++i) CHECK(inv.at(i) == 0);
      }
      check_registries_clean();
      {
        invocations inv2(n);
        auto tasks = make_tasks(n, inv2, 0);
        {
          const probe_result r = settle::any(ex, tasks);
          CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
          CHECK(results_alive().live() == 1);  // the winner; the losers' results are gone
          if (in_order) CHECK(r.id() == 0);
        }
        {
          const probe_result r = settle::race(ex, tasks);
          CHECK(results_alive().live() == 1);
          CHECK((r.id() >= 0 && r.id() < n));
        }
        for (int i = 0; i < n; ++i) CHECK(inv2.at(i) <= 2);
      }
      check_registries_clean();
    }
  }
}

TEST_CASE(
    "every task object and every result is destroyed exactly once when all, any or race settle "
    "early",
    "[stress][lifetime]") {
  SECTION("inline executor: the tasks after the deciding one never start") {
    settle::inline_executor ex;
    early_paths(ex, true);
  }
  SECTION("thread_pool(1)") {
    settle::thread_pool ex(1);
    early_paths(ex, false);
  }
  SECTION("thread_pool(2)") {
    settle::thread_pool ex(2);
    early_paths(ex, false);
  }
  SECTION("default executor") { early_paths(settle::default_executor(), false); }
}

// ---- refused and dropped by the executor ------------------------------------------------

template <class Inner>
void executor_fault_paths(Inner& inner) {
  for (int n : {1, 4, 12}) {
    for (int k = 1; k <= n; ++k) {
      INFO("n = " << n << ", execute call " << k << " refused or dropped");
      invocations inv(n);
      {
        const auto tasks = make_tasks(n, inv, 0);
        {
          const faulty_executor<Inner> ex(inner, k, false, fault_type::runtime_error);
          const auto rs = settle::all_settled(ex, tasks);
          CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
          CHECK(results_alive().live() == static_cast<std::size_t>(n - 1));
          CHECK(rs[static_cast<std::size_t>(k - 1)].is_rejected());
          CHECK(inv.at(k - 1) == 0);
        }
        CHECK(results_alive().live() == 0);
        for (bool later : {false, true}) {
          const dropping_executor<Inner> ex(inner, k, later);
          {
            const auto rs = settle::all_settled(ex, tasks);
            CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
            CHECK(results_alive().live() == static_cast<std::size_t>(n - 1));
            CHECK(settle_test::holds<settle::cancelled>(
                rs[static_cast<std::size_t>(k - 1)].reason()));
          }
          ex.join();
          CHECK(tasks_alive().live() == static_cast<std::size_t>(n));
          CHECK(results_alive().live() == 0);
        }
        for (int i = 0; i < n; ++i) CHECK(inv.at(i) == (i == k - 1 ? 0 : 3));
      }
      check_registries_clean();
    }
  }
}

TEST_CASE("every task object is destroyed exactly once when the executor refuses or drops it",
          "[stress][lifetime]") {
  SECTION("in front of the inline executor") {
    settle::inline_executor inner;
    executor_fault_paths(inner);
  }
  SECTION("in front of thread_pool(2)") {
    settle::thread_pool inner(2);
    executor_fault_paths(inner);
  }
}

// ---- futures ------------------------------------------------------------------------------

TEST_CASE("results inside futures are destroyed exactly once, winners and losers alike",
          "[stress][lifetime]") {
  {
    settle::thread_pool pool(2);
    for (int round = 0; round < 50; ++round) {
      const int n = 1 + round % 6;
      std::vector<std::promise<probe_result>> promises(static_cast<std::size_t>(n));
      for (int which = 0; which < 3; ++which) {
        std::vector<std::future<probe_result>> futures;
        for (auto& p : promises) {
          p = std::promise<probe_result>();
          futures.push_back(p.get_future());
        }
        for (int i = 0; i < n; ++i)
          promises[static_cast<std::size_t>(i)].set_value(probe_result(i));
        if (which == 0) {
          const auto rs = settle::all_settled(pool, std::move(futures));
          CHECK(rs.size() == static_cast<std::size_t>(n));
        } else if (which == 1) {
          CHECK(settle::any(pool, std::move(futures)).id() == 0);  // ready: lowest index
        } else {
          CHECK(settle::race(pool, std::move(futures)).id() == 0);
        }
      }
    }
  }  // the pool is joined: whatever a worker still held is gone now
  check_registries_clean();
}

// ---- the map function -------------------------------------------------------------------

template <class Ex>
void map_fn_rounds(Ex& ex, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    const int n = 1 + round % 9;
    invocations inv(n);
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back(i);
    {
      const probe_fn fn(&inv);
      {
        const auto rs = settle::all_settled(ex, ids, fn);
        INFO("round " << round << ", n = " << n);
        // The library's copy of fn is a callable like any task: it lives until the tasks
        // have returned, and no longer. Only the caller's copy may remain.
        CHECK(tasks_alive().live() == 1);
        CHECK(results_alive().live() == static_cast<std::size_t>(n));
      }
      for (int i = 0; i < n; ++i) CHECK(inv.at(i) == 1);
    }
  }
}

TEST_CASE("the map form's function object is destroyed before the call returns",
          "[stress][lifetime]") {
  SECTION("inline executor") {
    settle::inline_executor ex;
    map_fn_rounds(ex, 50);
    check_registries_clean();
  }
  SECTION("thread_pool(2)") {
    {
      settle::thread_pool ex(2);
      map_fn_rounds(ex, 300);
    }
    check_registries_clean();
  }
  SECTION("thread_pool(1) whose only thread is busy: the caller runs every task itself") {
    {
      settle::thread_pool ex(1);
      settle_test::gate busy;
      ex.execute([&busy] { busy.wait(); });
      map_fn_rounds(ex, 20);
      busy.open();
    }
    check_registries_clean();
  }
}

TEST_CASE("lifetime figures", "[stress][lifetime]") {
  report_figure("probe objects constructed and proven destroyed exactly once: " +
                std::to_string(objects_checked()));
}

}  // namespace
