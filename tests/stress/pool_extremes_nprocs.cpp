// pool_options{} and the default executor on machines with odd processor counts. This program
// replaces glibc's get_nprocs() / get_nprocs_conf(), which libstdc++'s
// std::thread::hardware_concurrency() calls, by versions that answer $SETTLE_FAKE_NPROCS; CTest
// runs it once per count (384: more cores than max_threads' default of 256; 1; 0: "unknown").
// The first test proves that the faking works, so that the others cannot pass vacuously.
#include <settle/settle.hpp>

#include <sys/sysinfo.h>

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/catch.hpp"

namespace {

/// $SETTLE_FAKE_NPROCS, or -1 when it is not set.
int fake_nprocs() {
  const char* env = std::getenv("SETTLE_FAKE_NPROCS");
  if (env == nullptr || *env == '\0') return -1;
  return static_cast<int>(std::strtol(env, nullptr, 10));
}

/// glibc's own function `name`, for when $SETTLE_FAKE_NPROCS is not set.
int real_nprocs(const char* name) {
  using fn = int (*)();
  const auto real = reinterpret_cast<fn>(dlsym(RTLD_NEXT, name));
  return real != nullptr ? real() : 1;
}

}  // namespace

// The declarations of <sys/sysinfo.h> are noexcept in C++.
extern "C" int get_nprocs() noexcept {
  const int n = fake_nprocs();
  return n >= 0 ? n : real_nprocs("get_nprocs");
}

extern "C" int get_nprocs_conf() noexcept {
  const int n = fake_nprocs();
  return n >= 0 ? n : real_nprocs("get_nprocs_conf");
}

namespace {

int square(int x) { return x * x; }

TEST_CASE("std::thread::hardware_concurrency() reports the faked processor count",
          "[pool_extremes]") {
  const int faked = fake_nprocs();
  INFO("SETTLE_FAKE_NPROCS must be set (CTest sets it)");
  REQUIRE(faked >= 0);
  const unsigned reported = std::thread::hardware_concurrency();
  WARN("faked processor count " << faked << ", hardware_concurrency() = " << reported);
  CHECK(reported == static_cast<unsigned>(faked));
}

TEST_CASE("pool_options{} is a valid elastic configuration whatever the processor count",
          "[pool_extremes]") {
  const settle::pool_options opts{};
  INFO("min_threads " << opts.min_threads << ", max_threads " << opts.max_threads);
  CHECK(opts.max_threads >= 1);
  CHECK(opts.min_threads <= opts.max_threads);
}

TEST_CASE("thread_pool(pool_options{}) and thread_pool() construct and run a combinator",
          "[pool_extremes]") {
  SECTION("thread_pool(pool_options{})") {
    settle::thread_pool pool(settle::pool_options{});
    auto [a, b, c] =
        settle::all_settled(pool, [] { return 1; }, [] { return 2; }, [] { return 3; });
    CHECK(a.value() + b.value() + c.value() == 6);
    CHECK(pool.submit([] { return 5; }).get() == 5);
  }
  SECTION("thread_pool()") {
    settle::thread_pool pool;
    const std::vector<int> xs{1, 2, 3, 4};
    CHECK(settle::all(pool, xs, square) == std::vector<int>{1, 4, 9, 16});
  }
}

TEST_CASE("default_executor() works whatever the processor count", "[pool_extremes]") {
  settle::thread_pool* pool = nullptr;
  REQUIRE_NOTHROW(pool = &settle::default_executor());
  CHECK(pool->thread_count() <= settle::pool_options{}.max_threads);

  auto [a, b] = settle::all_settled([] { return 1; }, [] { return 2; });
  CHECK(a.value() == 1);
  CHECK(b.value() == 2);

  // A nested call on the default executor, and tasks that block until every one of them
  // has started: on any processor count they must all run at once.
  std::atomic<int> arrived{0};
  std::promise<void> all_arrived;
  const std::shared_future<void> go = all_arrived.get_future().share();
  const auto waiter = [&] {
    if (arrived.fetch_add(1) + 1 == 4) all_arrived.set_value();
    go.wait();
    return settle::all([] { return 1; }, [] { return 1; });
  };
  const auto rs = settle::all(waiter, waiter, waiter, waiter);
  CHECK(std::get<0>(rs) == std::tuple{1, 1});
  CHECK(std::get<3>(rs) == std::tuple{1, 1});
  CHECK(arrived.load() == 4);
}

}  // namespace
