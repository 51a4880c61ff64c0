// settle through its public combinators: on the default executor (no
// executor argument), or on a fixed settle::thread_pool passed explicitly.
#ifndef SETTLE_BENCHMARKS_PEERS_SETTLE_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_SETTLE_PEER_HPP

#include <settle/settle.hpp>

#include "peer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace peers {

class settle_peer final : public peer {
  // Defined first: the members below deduce their results from it.
  std::optional<settle::thread_pool> pool_;
  std::size_t threads_ = 0;

  /// The combinator on this peer's executor: none (the default) or the pool.
  template <class... Tasks>
  auto all_settled(Tasks&&... tasks) {
    if (pool_) {
      return settle::all_settled(*pool_, std::forward<Tasks>(tasks)...);
    }
    return settle::all_settled(std::forward<Tasks>(tasks)...);
  }

 public:
  /// On settle::default_executor(), called without an executor argument.
  settle_peer() = default;
  /// On a settle::thread_pool of `threads` threads, passed explicitly.
  explicit settle_peer(std::size_t threads) : pool_(std::in_place, threads), threads_(threads) {}

  std::string_view id() const override { return pool_ ? "settle-pool" : "settle-default"; }
  std::string_view name() const override { return name_; }

  std::uint64_t tiny(int n) override {
    auto make = [](int i) { return [i] { return i * 2; }; };
    std::vector<decltype(make(0))> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      tasks.push_back(make(i));
    }
    auto results = all_settled(tasks);
    std::uint64_t sum = 0;
    for (auto& r : results) {
      sum += static_cast<std::uint64_t>(r.value());
    }
    return sum;
  }

  std::uint64_t fan_out() override {
    auto [a, b, c] = all_settled([] { return 1; }, [] { return 2; }, [] { return 3; });
    return static_cast<std::uint64_t>(a.value() + b.value() + c.value());
  }

  std::uint64_t blocking(int n, microseconds block) override {
    // The variadic form for the small counts, as a caller would write it;
    // the range form for 100 tasks.
    switch (n) {
      case 3:
        return blocking_variadic(block, std::make_index_sequence<3>{});
      case 5:
        return blocking_variadic(block, std::make_index_sequence<5>{});
      case 10:
        return blocking_variadic(block, std::make_index_sequence<10>{});
      default:
        break;
    }
    auto sleeper = [block] {
      std::this_thread::sleep_for(block);
      return 1;
    };
    std::vector<decltype(sleeper)> tasks(static_cast<std::size_t>(n), sleeper);
    auto results = all_settled(tasks);
    std::uint64_t sum = 0;
    for (auto& r : results) {
      sum += static_cast<std::uint64_t>(r.value());
    }
    return sum;
  }

  std::uint64_t cpu(int n, std::uint64_t iterations) override {
    auto make = [iterations](int i) {
      return [iterations, i] { return spin(iterations, static_cast<std::uint64_t>(i)); };
    };
    std::vector<decltype(make(0))> tasks;
    for (int i = 0; i < n; ++i) {
      tasks.push_back(make(i));
    }
    auto values = pool_ ? settle::all(*pool_, tasks) : settle::all(tasks);
    std::uint64_t sum = 0;
    for (auto v : values) {
      sum += v;
    }
    return sum;
  }

  std::uint64_t nested(nesting shape) override {
    const auto cores = std::thread::hardware_concurrency();
    if (!pool_) {
      return nested_on(settle::default_executor(), outer_tasks(shape, cores));
    }
    switch (shape) {
      case nesting::one_thread: {
        settle::thread_pool pool(1);
        return nested_on(pool, outer_tasks(shape, cores));
      }
      case nesting::two_threads: {
        settle::thread_pool pool(2);
        return nested_on(pool, outer_tasks(shape, cores));
      }
      case nesting::elastic:
        break;
    }
    settle::pool_options options;
    options.min_threads = 1;
    settle::thread_pool pool(options);
    return nested_on(pool, outer_tasks(shape, cores));
  }

  bool supports(nesting shape) const override { return pool_ || shape == nesting::elastic; }

  std::string nesting_setup() const override {
    return pool_ ? "thread_pool(1), thread_pool(2), thread_pool(pool_options{min_threads = 1})"
                 : "default_executor()";
  }

  long pool_threads() const override {
    return static_cast<long>(pool_ ? pool_->thread_count()
                                   : settle::default_executor().thread_count());
  }

 private:
  template <std::size_t... I>
  std::uint64_t blocking_variadic(microseconds block, std::index_sequence<I...>) {
    auto sleeper = [block] {
      std::this_thread::sleep_for(block);
      return 1;
    };
    auto results = all_settled(((void)I, sleeper)...);
    return std::apply(
        [](auto&... r) { return (std::uint64_t{0} + ... + static_cast<std::uint64_t>(r.value())); },
        results);
  }

  template <class Pool>
  static std::uint64_t nested_on(Pool& pool, int outer) {
    auto outer_task = [&pool] {
      auto [a, b] = settle::all_settled(pool, [] { return 1; }, [] { return 2; });
      return a.value() + b.value();
    };
    std::vector<decltype(outer_task)> tasks(static_cast<std::size_t>(outer), outer_task);
    auto results = settle::all_settled(pool, tasks);
    std::uint64_t sum = 0;
    for (auto& r : results) {
      sum += static_cast<std::uint64_t>(r.value());
    }
    return sum;
  }

  std::string name_ =
      pool_ ? "settle thread_pool(" + std::to_string(threads_) + ")" : "settle default_executor()";
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_SETTLE_PEER_HPP
