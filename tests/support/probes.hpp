// Probes shared by the settle tests: types that count what happens to them, a move-only
// type, and synchronization helpers that force an order of events without sleeping.
// Catch2 assertions are not thread-safe: tasks running on other threads record into
// these probes, and the test asserts on the calling thread afterwards.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace settle_test {

// ---- counting ---------------------------------------------------------------------------

/// What happened to the `counted` objects of one test. Thread-safe.
struct counters {
  std::atomic<int> constructed{0};  // every constructor, copies and moves included
  std::atomic<int> copied{0};
  std::atomic<int> moved{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> destroyed_twice{0};  // destructor called on a dead object

  /// Objects constructed and not yet destroyed.
  [[nodiscard]] int live() const { return constructed.load() - destroyed.load(); }
};

/// A value that reports its constructions, copies, moves and destructions to a
/// `counters`, and notices being destroyed twice. Copyable and movable.
class counted {
 public:
  counted(counters& c, int value) : counters_(&c), value_(value) { ++counters_->constructed; }
  counted(const counted& other) : counters_(other.counters_), value_(other.value_) {
    ++counters_->constructed;
    ++counters_->copied;
  }
  counted(counted&& other) noexcept : counters_(other.counters_), value_(other.value_) {
    ++counters_->constructed;
    ++counters_->moved;
  }
  counted& operator=(const counted& other) {
    value_ = other.value_;
    ++counters_->copied;
    return *this;
  }
  counted& operator=(counted&& other) noexcept {
    value_ = other.value_;
    ++counters_->moved;
    return *this;
  }
  ~counted() {
    if (alive_ != alive_mark) {
      ++counters_->destroyed_twice;
      return;
    }
    alive_ = dead_mark;
    ++counters_->destroyed;
  }

  [[nodiscard]] int value() const { return value_; }

 private:
  static constexpr std::uint32_t alive_mark = 0xA11FE;
  static constexpr std::uint32_t dead_mark = 0xDEAD;

  counters* counters_;
  int value_;
  std::uint32_t alive_ = alive_mark;
};

// ---- move-only ------------------------------------------------------------------------------

/// A move-only value; a moved-from one holds no value.
class move_only {
 public:
  explicit move_only(int value) : value_(std::make_unique<int>(value)) {}
  move_only(move_only&&) noexcept = default;
  move_only& operator=(move_only&&) noexcept = default;
  move_only(const move_only&) = delete;
  move_only& operator=(const move_only&) = delete;
  ~move_only() = default;

  [[nodiscard]] bool has_value() const { return value_ != nullptr; }
  /// The value, or -1 when moved from.
  [[nodiscard]] int value() const { return value_ ? *value_ : -1; }

 private:
  std::unique_ptr<int> value_;
};

// ---- exceptions -----------------------------------------------------------------------------

/// An exception derived from std::exception that carries a payload.
struct test_error : std::runtime_error {
  test_error(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

/// A task body that throws `test_error` with `code`; declared to return int so that it fits
/// where an int task is expected.
[[noreturn]] inline int fails(int code) {
  throw test_error("task " + std::to_string(code) + " failed", code);
}

/// Plain function-pointer tasks, for the compile-time checks of result types.
using int_task = int (*)();
using long_task = long (*)();
using short_task = short (*)();
using string_task = std::string (*)();
using void_task = void (*)();

/// A thrown type unrelated to std::exception.
struct not_std_exception {
  int code;
};

/// Rethrows `e` and returns the `code` of the test_error it holds, or -1 when it holds
/// something else (or nothing).
[[nodiscard]] inline int code_of(const std::exception_ptr& e) {
  if (!e) return -1;
  try {
    std::rethrow_exception(e);
  } catch (const test_error& err) {
    return err.code;
  } catch (...) {
    return -1;
  }
}

/// True when `e` holds an exception of type `E`.
template <class E>
[[nodiscard]] bool holds(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

// ---- ordering without sleeps ----------------------------------------------------------------

/// A one-shot gate: `wait()` blocks until someone calls `open()`; after that it never
/// blocks again.
class gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return open_; });
  }
  [[nodiscard]] bool is_open() {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Blocks until `token` is signalled. A task that must be a loser calls this: it can
/// only return once the combinator has settled and asked it to stop, so a missing stop
/// request shows up as a hang (which the watchdog reports), never as a silent pass.
inline void wait_for_stop(const std::stop_token& token) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, token, [] { return false; });
}

/// Sets `p` to `value` from another thread once `delay` has passed: a future that becomes
/// ready while a combinator waits. The returned thread joins when it is destroyed; declare
/// it after the promise, so that it is joined before the promise goes.
template <class T, class V>
[[nodiscard]] std::jthread set_value_after(std::chrono::milliseconds delay, std::promise<T>& p,
                                           V value) {
  return std::jthread([delay, &p, value = std::move(value)]() mutable {
    std::this_thread::sleep_for(delay);
    p.set_value(std::move(value));
  });
}

// ---- ranges -------------------------------------------------------------------------------

/// A single-pass input range over the elements it owns, like std::ranges::istream_view: its
/// iterator is an input iterator only, and `*it` is an lvalue reference to the current
/// element. When `throw_at` is an index, reading that element throws
/// `test_error("element read", throw_at)`. Not a view: passed as an rvalue, a combinator
/// may move its elements out.
template <class T>
class input_only_range {
 public:
  static constexpr std::size_t never = static_cast<std::size_t>(-1);

  explicit input_only_range(std::vector<T> elements, std::size_t throw_at = never)
      : elements_(std::move(elements)), throw_at_(throw_at) {}

  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(input_only_range* range) : range_(range) {}

    T& operator*() const {
      if (index_ == range_->throw_at_)
        throw test_error("element read", static_cast<int>(range_->throw_at_));
      return range_->elements_[index_];
    }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    void operator++(int) { ++index_; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    [[nodiscard]] bool at_end() const { return index_ == range_->elements_.size(); }

    input_only_range* range_ = nullptr;
    std::size_t index_ = 0;
  };

  [[nodiscard]] iterator begin() { return iterator(this); }
  [[nodiscard]] std::default_sentinel_t end() const { return std::default_sentinel; }

 private:
  std::vector<T> elements_;
  std::size_t throw_at_;
};

static_assert(std::ranges::input_range<input_only_range<int>>);
static_assert(!std::ranges::forward_range<input_only_range<int>>);
static_assert(!std::ranges::view<input_only_range<int>>);

/// A thread-safe record of events, in the order they happened.
class event_log {
 public:
  void add(int event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  [[nodiscard]] std::vector<int> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int> events_;
};

}  // namespace settle_test
