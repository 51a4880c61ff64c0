/// @file task.hpp
/// What a combinator accepts as a task, and what a task produces.
#pragma once

#include <concepts>
#include <future>
#include <stop_token>
#include <type_traits>

namespace settle {

namespace detail {

template <class T>
inline constexpr bool is_future_v = false;
template <class T>
inline constexpr bool is_future_v<std::future<T>> = true;
template <class T>
inline constexpr bool is_future_v<std::shared_future<T>> = true;

/// A callable taking the group's `std::stop_token` as its only argument.
template <class F>
concept stop_aware_callable = std::invocable<F, std::stop_token>;

/// A callable taking no argument.
template <class F>
concept plain_callable = std::invocable<F>;

/// A `std::future` or `std::shared_future`, as stored by a combinator.
template <class T>
concept future_task = is_future_v<T>;

/// A callable as stored by a combinator (decayed, invoked once as an rvalue).
template <class F>
concept callable_task = stop_aware_callable<F> || plain_callable<F>;

template <class Stored>
struct task_result;
template <future_task Stored>
struct task_result<Stored> {
  using type = std::remove_cvref_t<decltype(std::declval<Stored&>().get())>;
};
// A callable usable both ways gets the token, as std::jthread does: it asked for it.
template <callable_task Stored>
  requires stop_aware_callable<Stored>
struct task_result<Stored> {
  using type = std::remove_cvref_t<std::invoke_result_t<Stored, std::stop_token>>;
};
template <callable_task Stored>
  requires(!stop_aware_callable<Stored>)
struct task_result<Stored> {
  using type = std::remove_cvref_t<std::invoke_result_t<Stored>>;
};

/// How an argument of type `T` is stored: futures and callables are decay-copied or moved.
template <class T>
using stored_task_t = std::decay_t<T>;

}  // namespace detail

/// A valid task argument: a callable invocable with no argument or with a
/// `std::stop_token` alone, or a `std::future<T>` / `std::shared_future<T>`; in each case
/// constructible (copied or moved) from the argument as passed. An lvalue `std::future`
/// is not a task: it cannot be copied, pass `std::move(f)`.
template <class T>
concept task = (detail::future_task<detail::stored_task_t<T>> ||
                detail::callable_task<detail::stored_task_t<T>>) &&
               std::constructible_from<detail::stored_task_t<T>, T>;

/// The value type a task produces: the callable's result without cv or reference
/// (a task returning `T&` yields a copy of `T`), or the future's value type.
template <task T>
using task_result_t = typename detail::task_result<detail::stored_task_t<T>>::type;

}  // namespace settle
