// oneTBB task_group on the default arena (one slot per core, the caller's
// thread included: task_group::wait runs tasks). Optional: built only when
// CMake finds oneTBB (SETTLE_PEERS_HAVE_TBB).
#ifndef SETTLE_BENCHMARKS_PEERS_TBB_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_TBB_PEER_HPP

#include "peer.hpp"

#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <tbb/version.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace peers {

class tbb_peer final : public peer {
 public:
  std::string_view id() const override { return "tbb"; }
  std::string_view name() const override { return "oneTBB task_group"; }

  std::uint64_t tiny(int n) override {
    std::vector<int> out(static_cast<std::size_t>(n));
    tbb::task_group group;
    for (int i = 0; i < n; ++i) {
      group.run([&out, i] { out[static_cast<std::size_t>(i)] = i * 2; });
    }
    group.wait();
    return sum(out);
  }

  std::uint64_t fan_out() override {
    int a = 0;
    int b = 0;
    int c = 0;
    tbb::task_group group;
    group.run([&a] { a = 1; });
    group.run([&b] { b = 2; });
    group.run([&c] { c = 3; });
    group.wait();
    return static_cast<std::uint64_t>(a + b + c);
  }

  std::uint64_t blocking(int n, microseconds block) override {
    std::vector<int> out(static_cast<std::size_t>(n));
    tbb::task_group group;
    for (int i = 0; i < n; ++i) {
      group.run([&out, i, block] {
        std::this_thread::sleep_for(block);
        out[static_cast<std::size_t>(i)] = 1;
      });
    }
    group.wait();
    return sum(out);
  }

  std::uint64_t cpu(int n, std::uint64_t iterations) override {
    std::vector<std::uint64_t> out(static_cast<std::size_t>(n));
    tbb::task_group group;
    for (int i = 0; i < n; ++i) {
      group.run([&out, i, iterations] {
        out[static_cast<std::size_t>(i)] = spin(iterations, static_cast<std::uint64_t>(i));
      });
    }
    group.wait();
    return sum(out);
  }

  std::uint64_t nested(nesting shape) override {
    const int outer = outer_tasks(shape, std::thread::hardware_concurrency());
    std::atomic<std::uint64_t> total{0};
    auto run = [&] {
      tbb::task_group group;
      for (int k = 0; k < outer; ++k) {
        group.run([&total] {
          int a = 0;
          int b = 0;
          tbb::task_group inner;
          inner.run([&a] { a = 1; });
          inner.run([&b] { b = 2; });
          inner.wait();
          total += static_cast<std::uint64_t>(a + b);
        });
      }
      group.wait();
    };
    if (shape == nesting::elastic) {
      run();
    } else {
      tbb::task_arena arena(shape == nesting::one_thread ? 1 : 2);
      arena.execute(run);
    }
    return total.load();
  }

  bool supports(nesting) const override { return true; }
  std::string nesting_setup() const override {
    return "task_arena(1), task_arena(2), default arena";
  }

 private:
  template <class T>
  static std::uint64_t sum(const std::vector<T>& values) {
    std::uint64_t total = 0;
    for (auto v : values) {
      total += static_cast<std::uint64_t>(v);
    }
    return total;
  }
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_TBB_PEER_HPP
