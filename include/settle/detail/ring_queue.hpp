/// @file detail/ring_queue.hpp
/// The thread pool's queue: a growable ring of trivially copyable entries.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

namespace settle::detail {

/// A FIFO queue in one ring buffer that grows by doubling and never shrinks.
///
/// Why not `std::deque`: a pool that pushes an entry and takes it back a moment later
/// (a caller that ran its small group itself) would make a deque allocate and free a
/// block every time the back crosses a block boundary. Here a push allocates only when
/// the queue is longer than it has been since it was last empty, and a ring grown past
/// `kept_capacity` by a burst is freed once the burst has drained.
template <class T>
  requires std::is_trivially_copyable_v<T>
class ring_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The i-th entry from the front.
  [[nodiscard]] T& operator[](std::size_t i) noexcept {
    return buffer_[(head_ + i) & (capacity_ - 1)];
  }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
    return buffer_[(head_ + i) & (capacity_ - 1)];
  }
  [[nodiscard]] T& front() noexcept { return (*this)[0]; }

  /// Throws `std::bad_alloc` when the ring must grow and cannot; the queue is unchanged.
  void push_back(const T& value) {
    if (size_ == capacity_) grow();
    buffer_[(head_ + size_) & (capacity_ - 1)] = value;
    ++size_;
  }

  void pop_front() noexcept {
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    if (size_ == 0) shrink();
  }

  /// Removes the i-th entry; those behind it move up by one.
  void erase(std::size_t i) noexcept {
    for (std::size_t k = i; k + 1 < size_; ++k) (*this)[k] = (*this)[k + 1];
    --size_;
    if (size_ == 0) shrink();
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  void grow() {
    const std::size_t capacity = capacity_ == 0 ? initial_capacity : capacity_ * 2;
    auto buffer = std::make_unique_for_overwrite<T[]>(capacity);
    for (std::size_t i = 0; i < size_; ++i) buffer[i] = (*this)[i];
    buffer_ = std::move(buffer);
    capacity_ = capacity;
    head_ = 0;
  }

  void shrink() noexcept {
    if (capacity_ <= kept_capacity) return;
    buffer_.reset();
    capacity_ = 0;
    head_ = 0;
  }

  static constexpr std::size_t initial_capacity = 64;  // a power of two, as every capacity

 public:
  /// The largest ring kept while empty; larger ones are freed when the queue empties.
  static constexpr std::size_t kept_capacity = 1024;

  std::unique_ptr<T[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace settle::detail
