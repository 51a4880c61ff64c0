/// @file detail/call_arguments.hpp
/// What each argument of a call form may be (SPEC §3, §5): an executor, then options, then
/// tasks, a range of tasks, or a range and a function to map over it.
#pragma once

#include <concepts>
#include <iterator>
#include <ranges>
#include <stop_token>
#include <type_traits>

#include "settle/executor.hpp"
#include "settle/options.hpp"
#include "settle/task.hpp"

namespace settle::detail {

// An rvalue container hands its elements over (a vector of futures must be moved);
// an lvalue range, or a view of someone else's elements, is copied from.
template <class Rg>
inline constexpr bool moves_elements =
    !std::is_lvalue_reference_v<Rg> && !std::ranges::view<std::remove_cvref_t<Rg>>;

template <class Rg>
using range_task_arg_t =
    std::conditional_t<moves_elements<Rg>, std::ranges::range_rvalue_reference_t<Rg>,
                       std::ranges::range_reference_t<Rg>>;

/// The leading executor argument, as passed (an lvalue or a temporary).
template <class Ex>
concept executor_argument = executor<std::remove_reference_t<Ex>>;

/// Call options (`settle::options`), the optional argument after the executor.
template <class O>
concept call_options = std::same_as<std::remove_cvref_t<O>, options>;

/// A range whose elements are tasks.
template <class Rg>
concept task_range = std::ranges::input_range<Rg> && task<range_task_arg_t<Rg>>;

/// A function to call on each element of `Rg`: `fn(elem)` or `fn(std::stop_token, elem)`.
/// It is called concurrently through a `const` reference, so it must be const-callable.
template <class Fn, class Rg>
concept map_function =
    std::ranges::input_range<Rg> && std::constructible_from<std::decay_t<Fn>, Fn> &&
    (std::invocable<const std::decay_t<Fn>&, std::ranges::range_reference_t<Rg>> ||
     std::invocable<const std::decay_t<Fn>&, std::stop_token, std::ranges::range_reference_t<Rg>>);

/// `any` and `race` return one value for many tasks: their results need a common type.
template <class... R>
concept have_common_result =
    sizeof...(R) > 0 && requires { typename std::common_type<R...>::type; };

/// One or more tasks. The first is checked on its own before the rest: when it is not a
/// task (the range of a map form, say), the others are never looked at, so a generic
/// lambda meant as a map function is not instantiated with a `std::stop_token`.
template <class T0, class... Ts>
concept tasks = task<T0> && (task<Ts> && ...);

/// Tasks for a variadic form: `any` and `race` (`OneValue`) return one value for them
/// all, so their results need a common type.
template <bool OneValue, class T0, class... Ts>
concept variadic_tasks =
    tasks<T0, Ts...> && (!OneValue || have_common_result<task_result_t<T0>, task_result_t<Ts>...>);

}  // namespace settle::detail
