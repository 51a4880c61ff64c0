// The hand-written pool of naive_pool.hpp: std::packaged_task + std::future.
#ifndef SETTLE_BENCHMARKS_PEERS_NAIVE_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_NAIVE_PEER_HPP

#include "naive_pool.hpp"
#include "peer.hpp"

#include <cstddef>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace peers {

class naive_peer final : public peer {
 public:
  explicit naive_peer(std::size_t threads)
      : pool_(threads), name_("naive pool(" + std::to_string(threads) + ") + packaged_task") {}

  std::string_view id() const override { return "naive-pool"; }
  std::string_view name() const override { return name_; }

  std::uint64_t tiny(int n) override {
    std::vector<std::future<int>> futures;
    futures.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      futures.push_back(pool_.submit([i] { return i * 2; }));
    }
    return sum(futures);
  }

  std::uint64_t fan_out() override {
    auto a = pool_.submit([] { return 1; });
    auto b = pool_.submit([] { return 2; });
    auto c = pool_.submit([] { return 3; });
    return static_cast<std::uint64_t>(a.get() + b.get() + c.get());
  }

  std::uint64_t blocking(int n, microseconds block) override {
    std::vector<std::future<int>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(pool_.submit([block] {
        std::this_thread::sleep_for(block);
        return 1;
      }));
    }
    return sum(futures);
  }

  std::uint64_t cpu(int n, std::uint64_t iterations) override {
    std::vector<std::future<std::uint64_t>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(pool_.submit(
          [iterations, i] { return spin(iterations, static_cast<std::uint64_t>(i)); }));
    }
    return sum(futures);
  }

  std::uint64_t nested(nesting shape) override {
    naive_pool pool(shape == nesting::one_thread ? 1 : 2);
    std::vector<std::future<int>> outer;
    for (int k = 0; k < outer_tasks(shape, std::thread::hardware_concurrency()); ++k) {
      outer.push_back(pool.submit([&pool] {
        auto a = pool.submit([] { return 1; });
        auto b = pool.submit([] { return 2; });
        return a.get() + b.get();
      }));
    }
    return sum(outer);
  }

  bool supports(nesting shape) const override { return shape != nesting::elastic; }
  std::string nesting_setup() const override { return "naive_pool(1), naive_pool(2)"; }

 private:
  template <class T>
  static std::uint64_t sum(std::vector<std::future<T>>& futures) {
    std::uint64_t total = 0;
    for (auto& f : futures) {
      total += static_cast<std::uint64_t>(f.get());
    }
    return total;
  }

  naive_pool pool_;
  std::string name_;
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_NAIVE_PEER_HPP
