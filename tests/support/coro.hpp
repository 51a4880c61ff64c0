// A minimal coroutine type for the tests of `co_await` on a settle::pending: `eager<T>` starts
// running at once on the calling thread, may finish on any thread, and hands its result (or
// exception) to whoever calls `get()`, which blocks until it has finished (up to a fallback,
// so that a coroutine never resumed fails a check instead of hanging the test).
#pragma once

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace settle_test {

template <class T>
class eager {
  struct state {
    std::mutex mutex;
    std::condition_variable cv;
    bool finished = false;
    std::optional<std::conditional_t<std::is_void_v<T>, int, T>> value;
    std::exception_ptr error;

    void finish() {
      {
        std::lock_guard lock(mutex);
        finished = true;
      }
      cv.notify_all();
    }
  };

  struct promise_base {
    std::shared_ptr<state> shared = std::make_shared<state>();

    eager get_return_object() { return eager(shared); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    // The frame is destroyed as the coroutine ends; the result lives on in `shared`.
    std::suspend_never final_suspend() noexcept { return {}; }
    void unhandled_exception() {
      shared->error = std::current_exception();
      shared->finish();
    }
  };

  struct value_promise : promise_base {
    template <class V>
    void return_value(V&& v) {
      this->shared->value.emplace(std::forward<V>(v));
      this->shared->finish();
    }
  };
  struct void_promise : promise_base {
    void return_void() {
      this->shared->value.emplace(0);
      this->shared->finish();
    }
  };

 public:
  using promise_type = std::conditional_t<std::is_void_v<T>, void_promise, value_promise>;

  /// Has the coroutine finished?
  [[nodiscard]] bool finished() const {
    std::lock_guard lock(state_->mutex);
    return state_->finished;
  }

  /// Waits for the coroutine (at most `limit`) and returns its result or rethrows its
  /// exception; throws std::runtime_error if it has not finished by then.
  T get(std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(state_->mutex);
    if (!state_->cv.wait_for(lock, limit, [&] { return state_->finished; }))
      throw std::runtime_error("coroutine never finished");
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return std::move(*state_->value);
  }

 private:
  explicit eager(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

}  // namespace settle_test
