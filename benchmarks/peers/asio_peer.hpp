// Asio's thread_pool: asio::post per task, one std::latch to wait for them
// all. Optional: built only when CMake finds standalone Asio
// (SETTLE_PEERS_HAVE_ASIO).
#ifndef SETTLE_BENCHMARKS_PEERS_ASIO_PEER_HPP
#define SETTLE_BENCHMARKS_PEERS_ASIO_PEER_HPP

#include "peer.hpp"

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/version.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace peers {

class asio_peer final : public peer {
 public:
  explicit asio_peer(std::size_t threads)
      : pool_(threads), name_("Asio thread_pool(" + std::to_string(threads) + ") + latch") {}

  ~asio_peer() override { pool_.join(); }

  std::string_view id() const override { return "asio"; }
  std::string_view name() const override { return name_; }

  std::uint64_t tiny(int n) override {
    std::vector<int> out(static_cast<std::size_t>(n));
    std::latch done(n);
    for (int i = 0; i < n; ++i) {
      asio::post(pool_, [&out, &done, i] {
        out[static_cast<std::size_t>(i)] = i * 2;
        done.count_down();
      });
    }
    done.wait();
    return sum(out);
  }

  std::uint64_t fan_out() override {
    int a = 0;
    int b = 0;
    int c = 0;
    std::latch done(3);
    asio::post(pool_, [&] {
      a = 1;
      done.count_down();
    });
    asio::post(pool_, [&] {
      b = 2;
      done.count_down();
    });
    asio::post(pool_, [&] {
      c = 3;
      done.count_down();
    });
    done.wait();
    return static_cast<std::uint64_t>(a + b + c);
  }

  std::uint64_t blocking(int n, microseconds block) override {
    std::vector<int> out(static_cast<std::size_t>(n));
    std::latch done(n);
    for (int i = 0; i < n; ++i) {
      asio::post(pool_, [&out, &done, i, block] {
        std::this_thread::sleep_for(block);
        out[static_cast<std::size_t>(i)] = 1;
        done.count_down();
      });
    }
    done.wait();
    return sum(out);
  }

  std::uint64_t cpu(int n, std::uint64_t iterations) override {
    std::vector<std::uint64_t> out(static_cast<std::size_t>(n));
    std::latch done(n);
    for (int i = 0; i < n; ++i) {
      asio::post(pool_, [&out, &done, i, iterations] {
        out[static_cast<std::size_t>(i)] = spin(iterations, static_cast<std::uint64_t>(i));
        done.count_down();
      });
    }
    done.wait();
    return sum(out);
  }

  std::uint64_t nested(nesting shape) override {
    const int outer = outer_tasks(shape, std::thread::hardware_concurrency());
    asio::thread_pool pool(shape == nesting::one_thread ? 1 : 2);
    std::atomic<std::uint64_t> total{0};
    std::latch done(outer);
    for (int k = 0; k < outer; ++k) {
      asio::post(pool, [&pool, &total, &done] {
        int a = 0;
        int b = 0;
        std::latch inner(2);
        asio::post(pool, [&] {
          a = 1;
          inner.count_down();
        });
        asio::post(pool, [&] {
          b = 2;
          inner.count_down();
        });
        inner.wait();
        total += static_cast<std::uint64_t>(a + b);
        done.count_down();
      });
    }
    done.wait();
    pool.join();
    return total.load();
  }

  bool supports(nesting shape) const override { return shape != nesting::elastic; }
  std::string nesting_setup() const override { return "thread_pool(1), thread_pool(2)"; }

 private:
  template <class T>
  static std::uint64_t sum(const std::vector<T>& values) {
    std::uint64_t total = 0;
    for (auto v : values) {
      total += static_cast<std::uint64_t>(v);
    }
    return total;
  }

  asio::thread_pool pool_;
  std::string name_;
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_ASIO_PEER_HPP
