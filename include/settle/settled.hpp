/// @file settled.hpp
/// `settled<T>`: the outcome of one task, either its value or the exception it threw.
/// The C++ form of JavaScript's `PromiseSettledResult`.
#pragma once

#include <concepts>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace settle {

/// Which way a task settled, like JavaScript's `result.status`.
enum class status { fulfilled, rejected };

namespace detail {

/// The rejected alternative. A distinct type so that `settled<std::exception_ptr>` is
/// still unambiguous: the variant is always addressed by index, never by type.
struct rejection {
  std::exception_ptr reason;
};

/// Shared by `settled<T>` and `settled<void>`: the variant, the observers and the
/// never-empty assignment. `Stored` is `T`, or `std::monostate` for `void`.
template <class Stored>
class settled_base {
 public:
  /// `status::fulfilled` or `status::rejected`.
  [[nodiscard]] settle::status status() const noexcept {
    return storage_.index() == 0 ? settle::status::fulfilled : settle::status::rejected;
  }
  [[nodiscard]] bool is_fulfilled() const noexcept { return storage_.index() == 0; }
  [[nodiscard]] bool is_rejected() const noexcept { return storage_.index() != 0; }
  /// Same as `is_fulfilled()`.
  [[nodiscard]] explicit operator bool() const noexcept { return is_fulfilled(); }

  /// The exception the task threw; null when fulfilled.
  [[nodiscard]] std::exception_ptr reason() const noexcept {
    const auto* r = std::get_if<1>(&storage_);
    return r != nullptr ? r->reason : std::exception_ptr{};
  }

 protected:
  template <class... Args>
  explicit settled_base(std::in_place_index_t<0> tag, Args&&... args)
      : storage_(tag, std::forward<Args>(args)...) {}
  explicit settled_base(rejection r) noexcept : storage_(std::in_place_index<1>, std::move(r)) {}

  void rethrow_if_rejected() const {
    if (const auto* r = std::get_if<1>(&storage_)) std::rethrow_exception(r->reason);
  }

  // std::variant becomes valueless when a copy or move throws while switching
  // alternatives. settled<T> promises no empty state, so such a failure leaves the
  // target rejected with that very exception before it propagates.
  template <class Source>
  void assign(Source&& source) {
    try {
      storage_ = std::forward<Source>(source);
    } catch (...) {
      if (storage_.valueless_by_exception())
        storage_.template emplace<1>(rejection{std::current_exception()});
      throw;
    }
  }

  std::variant<Stored, rejection> storage_;
};

}  // namespace detail

template <class T>
class settled;
template <class T>
[[nodiscard]] settled<T> make_rejected(std::exception_ptr reason);

/// The outcome of a task returning `T`: its value, or the exception it threw (any type,
/// the very object thrown). `T` may be move-only; `settled<T>` is copyable when `T` is
/// and movable when `T` is. There is no empty state. Not synchronized: like any value,
/// share it between threads only through a synchronizing hand-off.
///
/// Observers (`noexcept`, shared with `settled<void>`): `status()` (`status::fulfilled`
/// or `status::rejected`), `is_fulfilled()`, `is_rejected()`, `explicit operator bool`
/// (same as `is_fulfilled()`), and `reason()`: the exception the task threw as a
/// `std::exception_ptr`, null when fulfilled. `value()` and `value_or()` are below.
template <class T>
class settled : public detail::settled_base<T> {
  static_assert(!std::is_reference_v<T>,
                "settle::settled<T>: T must not be a reference; store a value, a pointer or "
                "std::reference_wrapper<T> instead");
  static_assert(!std::is_array_v<T>,
                "settle::settled<T>: T must not be a C array; use std::array instead");
  static_assert(std::is_object_v<T> && std::is_destructible_v<T>,
                "settle::settled<T>: T must be void or a destructible object type");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "settle::settled<T>: T must not be const or volatile qualified");

  using base = detail::settled_base<T>;

 public:
  /// The task's result type `T`.
  using value_type = T;

  /// A fulfilled result whose value is constructed from `args`.
  template <class... Args>
    requires std::constructible_from<T, Args...>
  explicit settled(std::in_place_t, Args&&... args)
      : base(std::in_place_index<0>, std::forward<Args>(args)...) {}

  /// @{
  /// Copies (when `T` is copyable) or moves (when `T` is movable) the outcome: the value,
  /// or the reason, which a copy shares. An assignment whose copy or move of the value
  /// throws leaves `*this` rejected with that exception, never empty, then rethrows it.
  settled(const settled&) = default;
  settled(settled&&) = default;
  settled& operator=(const settled& other)
    requires std::copy_constructible<T> && std::is_copy_assignable_v<T>
  {
    if (this != &other) this->assign(other.storage_);
    return *this;
  }
  settled& operator=(settled&& other) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                               std::is_nothrow_move_assignable_v<T>)
    requires std::move_constructible<T> && std::is_move_assignable_v<T>
  {
    if (this != &other) this->assign(std::move(other.storage_));
    return *this;
  }
  /// @}
  ~settled() = default;

  /// @{
  /// The value, with the value category of `*this` (`T&`, `const T&`, `T&&`,
  /// `const T&&`); rethrows the reason (the very exception object) when rejected.
  [[nodiscard]] T& value() & {
    this->rethrow_if_rejected();
    return *std::get_if<0>(&this->storage_);
  }
  [[nodiscard]] const T& value() const& {
    this->rethrow_if_rejected();
    return *std::get_if<0>(&this->storage_);
  }
  [[nodiscard]] T&& value() && {
    this->rethrow_if_rejected();
    return std::move(*std::get_if<0>(&this->storage_));
  }
  [[nodiscard]] const T&& value() const&& {
    this->rethrow_if_rejected();
    return std::move(*std::get_if<0>(&this->storage_));
  }
  /// @}

  /// The value, or `T(fallback)` when rejected.
  template <class U>
    requires std::copy_constructible<T> && std::constructible_from<T, U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    if (this->is_fulfilled()) return *std::get_if<0>(&this->storage_);
    return static_cast<T>(std::forward<U>(fallback));
  }
  /// The value moved out, or `T(fallback)` when rejected.
  template <class U>
    requires std::move_constructible<T> && std::constructible_from<T, U>
  [[nodiscard]] T value_or(U&& fallback) && {
    if (this->is_fulfilled()) return std::move(*std::get_if<0>(&this->storage_));
    return static_cast<T>(std::forward<U>(fallback));
  }

 private:
  explicit settled(detail::rejection r) noexcept : base(std::move(r)) {}
  template <class U>
  friend settled<U> make_rejected(std::exception_ptr reason);
};

/// The outcome of a task returning `void`: fulfilled, or the exception it threw.
template <>
class settled<void> : public detail::settled_base<std::monostate> {
  using base = detail::settled_base<std::monostate>;

 public:
  /// `void`: a fulfilled `settled<void>` holds no value.
  using value_type = void;

  /// A fulfilled result.
  explicit settled(std::in_place_t) noexcept : base(std::in_place_index<0>) {}

  /// @{
  /// Copies or moves the outcome (a copy shares the reason).
  settled(const settled&) = default;
  settled(settled&&) = default;
  settled& operator=(const settled&) = default;  // neither alternative can throw
  settled& operator=(settled&&) = default;
  /// @}
  ~settled() = default;

  /// Returns when fulfilled; rethrows the reason when rejected.
  void value() const { this->rethrow_if_rejected(); }

 private:
  explicit settled(detail::rejection r) noexcept : base(std::move(r)) {}
  template <class U>
  friend settled<U> make_rejected(std::exception_ptr reason);
};

/// A fulfilled `settled<std::decay_t<V>>` holding `v`.
template <class V>
[[nodiscard]] settled<std::decay_t<V>> make_fulfilled(V&& v) {
  return settled<std::decay_t<V>>(std::in_place, std::forward<V>(v));
}

/// A fulfilled `settled<void>`.
[[nodiscard]] inline settled<void> make_fulfilled() noexcept {
  return settled<void>(std::in_place);
}

/// A rejected `settled<T>` whose reason is `reason`.
/// Precondition: `reason` is not null; a null reason throws `std::invalid_argument`
/// (a rejection without an exception could not be rethrown).
template <class T>
[[nodiscard]] settled<T> make_rejected(std::exception_ptr reason) {
  if (!reason) throw std::invalid_argument("settle::make_rejected: the reason must not be null");
  return settled<T>(detail::rejection{std::move(reason)});
}

/// @{
/// The value, or `T(fallback)` when rejected: the seed's `getSettledValue(result, default)`.
/// The value is copied from an lvalue `result` and moved from an rvalue one.
template <class T, class U>
  requires(!std::is_void_v<T>) && std::copy_constructible<T> && std::constructible_from<T, U>
[[nodiscard]] T get_settled_value(const settled<T>& result, U&& fallback) {
  return result.value_or(std::forward<U>(fallback));
}
template <class T, class U>
  requires(!std::is_void_v<T>) && std::move_constructible<T> && std::constructible_from<T, U>
[[nodiscard]] T get_settled_value(settled<T>&& result, U&& fallback) {
  return std::move(result).value_or(std::forward<U>(fallback));
}
/// @}

/// @{
/// The value, or `std::nullopt` when rejected (copied from an lvalue `result`, moved from
/// an rvalue one).
template <class T>
  requires(!std::is_void_v<T>) && std::copy_constructible<T>
[[nodiscard]] std::optional<T> get_settled_value(const settled<T>& result) {
  if (result.is_fulfilled()) return result.value();
  return std::nullopt;
}
template <class T>
  requires(!std::is_void_v<T>) && std::move_constructible<T>
[[nodiscard]] std::optional<T> get_settled_value(settled<T>&& result) {
  if (result.is_fulfilled()) return std::move(result).value();
  return std::nullopt;
}
/// @}

/// A message for a reason: `what()` of a `std::exception`, "unknown exception" for any
/// other thrown type, "" for a null pointer. Never throws (an allocation failure while
/// copying the message yields "").
[[nodiscard]] inline std::string describe(const std::exception_ptr& reason) noexcept {
  if (!reason) return {};
  try {
    try {
      std::rethrow_exception(reason);
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "unknown exception";
    }
  } catch (...) {
    return {};
  }
}

}  // namespace settle
