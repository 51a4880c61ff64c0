// A thread pool as it is commonly written by hand: a fixed set of workers,
// one mutex, one condition variable, a queue of std::function, and a
// std::packaged_task + std::future per submitted task.
//
// It is a baseline for the peers benchmark, not part of settle. It is kept
// deliberately ordinary: no work stealing, no batching, and no help while
// waiting, so a task that waits on subtasks of its own pool can deadlock.
#ifndef SETTLE_BENCHMARKS_PEERS_NAIVE_POOL_HPP
#define SETTLE_BENCHMARKS_PEERS_NAIVE_POOL_HPP

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace peers {

class naive_pool {
 public:
  explicit naive_pool(std::size_t threads) {
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { work(); });
    }
  }

  naive_pool(const naive_pool&) = delete;
  naive_pool& operator=(const naive_pool&) = delete;

  /// Runs every queued task, then joins the workers.
  ~naive_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& worker : workers_) {
      worker.join();
    }
  }

  /// Queues f; the future carries its result or exception.
  template <class F>
  [[nodiscard]] auto submit(F f) -> std::future<std::invoke_result_t<F&>> {
    using result = std::invoke_result_t<F&>;
    // std::function needs a copyable target and packaged_task is move-only,
    // hence the shared_ptr: the usual hand-written idiom.
    auto task = std::make_shared<std::packaged_task<result()>>(std::move(f));
    auto future = task->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.emplace_back([task] { (*task)(); });
    }
    ready_.notify_one();
    return future;
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;  // stopping and drained
        }
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_NAIVE_POOL_HPP
