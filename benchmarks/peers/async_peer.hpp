// std::async(std::launch::async) per task: a thread per task.
#ifndef SETTLE_BENCHMARKS_PEERS_ASYNC_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_ASYNC_PEER_HPP

#include "peer.hpp"

#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace peers {

class async_peer final : public peer {
 public:
  std::string_view id() const override { return "std-async"; }
  std::string_view name() const override { return "std::async per task"; }

  std::uint64_t tiny(int n) override {
    std::vector<std::future<int>> futures;
    futures.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      futures.push_back(std::async(std::launch::async, [i] { return i * 2; }));
    }
    return sum(futures);
  }

  std::uint64_t fan_out() override {
    auto a = std::async(std::launch::async, [] { return 1; });
    auto b = std::async(std::launch::async, [] { return 2; });
    auto c = std::async(std::launch::async, [] { return 3; });
    return static_cast<std::uint64_t>(a.get() + b.get() + c.get());
  }

  std::uint64_t blocking(int n, microseconds block) override {
    std::vector<std::future<int>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(std::async(std::launch::async, [block] {
        std::this_thread::sleep_for(block);
        return 1;
      }));
    }
    return sum(futures);
  }

  std::uint64_t cpu(int n, std::uint64_t iterations) override {
    std::vector<std::future<std::uint64_t>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(std::async(std::launch::async, [iterations, i] {
        return spin(iterations, static_cast<std::uint64_t>(i));
      }));
    }
    return sum(futures);
  }

  std::uint64_t nested(nesting shape) override {
    std::vector<std::future<int>> outer;
    for (int k = 0; k < outer_tasks(shape, std::thread::hardware_concurrency()); ++k) {
      outer.push_back(std::async(std::launch::async, [] {
        auto a = std::async(std::launch::async, [] { return 1; });
        auto b = std::async(std::launch::async, [] { return 2; });
        return a.get() + b.get();
      }));
    }
    return sum(outer);
  }

  bool supports(nesting shape) const override { return shape == nesting::elastic; }
  std::string nesting_setup() const override { return "a thread per task (no pool)"; }
  int max_tiny() const override { return 10'000; }

 private:
  template <class T>
  static std::uint64_t sum(std::vector<std::future<T>>& futures) {
    std::uint64_t total = 0;
    for (auto& f : futures) {
      total += static_cast<std::uint64_t>(f.get());
    }
    return total;
  }
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_ASYNC_PEER_HPP
