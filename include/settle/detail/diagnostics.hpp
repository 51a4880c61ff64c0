/// @file detail/diagnostics.hpp
/// What a compiler says when a combinator call matches none of its forms. The call then
/// selects one deleted overload (`unmatched_call` in detail/combinator.hpp) whose
/// template argument `Error` is one of the types below: the first wrong argument, by
/// position and type, and what to write instead. Its name is the message, since a deleted
/// function cannot `static_assert` and a function that is not deleted would make the call
/// look valid to `requires` and `std::invocable`. g++ prints it on its first error line,
/// clang in the note on the deleted candidate, before the list of forms that did not match.
#pragma once

#include <concepts>
#include <cstddef>
#include <ranges>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>

#include "settle/detail/call_arguments.hpp"
#include "settle/task.hpp"

namespace settle::detail {

/// The messages. Each reads as a sentence after the argument it is about:
/// `bad_call::argument<2, int>::is_not_a_task_...`.
namespace bad_call {

/// Argument number `Position` (from 1) of the call, of type `Arg`.
template <std::size_t Position, class Arg>
struct argument {
  struct is_not_a_task_expected_a_callable_f_or_f_of_stop_token_or_a_future_or_shared_future {};
  struct is_callable_but_a_task_takes_no_argument_or_a_stop_token_to_map_a_range_write_range_fn {};
  struct is_an_lvalue_std_future_which_cannot_be_copied_pass_it_with_std_move {};
  struct is_options_in_the_wrong_place_write_them_after_the_executor_and_before_the_tasks {};
  struct is_an_executor_in_the_wrong_place_write_it_first_before_the_options_and_the_tasks {};
  struct is_not_an_executor_its_execute_must_accept_any_move_only_callable_of_signature_void {};
  struct is_neither_an_executor_nor_options_nor_a_task_nor_a_range_of_tasks {};
  struct is_a_range_of_non_tasks_to_map_a_function_over_it_write_range_then_function {};
  struct is_an_lvalue_range_of_std_future_which_cannot_be_copied_pass_it_with_std_move {};
  struct is_mutable_but_map_functions_run_concurrently_through_a_const_reference_drop_mutable {};
  struct cannot_take_a_range_element_expected_fn_of_element_or_fn_of_stop_token_and_element {};
  struct is_a_function_that_cannot_be_copied_or_moved_into_the_call {};
};

/// `any` and `race` return one value for all their tasks, of the common type of `Results`.
template <class... Results>
struct any_and_race_need_a_common_type_for_the_task_results {};

struct any_and_race_need_at_least_one_task {};

/// No rule above applies (a combination the diagnosis does not know).
struct these_arguments_match_no_call_form_see_the_forms_of_the_combinator {};

}  // namespace bad_call

/// The answer of the functions below: a message, as a value.
template <class Message>
inline constexpr std::type_identity<Message> say{};

template <std::size_t I, class... Args>
using nth_t = std::tuple_element_t<I, std::tuple<Args...>>;

template <std::size_t I, class... Args>
consteval bool executor_at() {
  if constexpr (I < sizeof...(Args))
    return executor_argument<nth_t<I, Args...>>;
  else
    return false;
}

template <std::size_t I, class... Args>
consteval bool options_at() {
  if constexpr (I < sizeof...(Args))
    return call_options<nth_t<I, Args...>>;
  else
    return false;
}

/// The index of the first of `Args[I...]` that is not a task. One at a time, as the call
/// forms check them: nothing after the first failure is looked at.
template <std::size_t I, class... Args>
consteval std::size_t first_non_task() {
  if constexpr (I == sizeof...(Args))
    return I;
  else if constexpr (!task<nth_t<I, Args...>>)
    return I;
  else
    return first_non_task<I + 1, Args...>();
}

/// Something with an `operator()` (or a function): meant as a task, with other parameters.
template <class T>
concept callable_object =
    std::is_function_v<std::remove_pointer_t<T>> || requires { &T::operator(); };

/// Something with an `execute` member: meant as an executor.
template <class T>
concept executor_like = requires { &T::execute; };

/// Argument `Position`, of type `Arg`, where a task was expected; `First`: where an executor,
/// options or a range were expected too.
template <std::size_t Position, class Arg, bool First = false>
consteval auto not_a_task() {
  using says = bad_call::argument<Position, Arg>;
  using stored = stored_task_t<Arg>;
  // A future that is not a task is one that would have to be copied.
  if constexpr (future_task<stored>)
    return say<typename says::is_an_lvalue_std_future_which_cannot_be_copied_pass_it_with_std_move>;
  else if constexpr (call_options<Arg>)
    return say<
        typename says::
            is_options_in_the_wrong_place_write_them_after_the_executor_and_before_the_tasks>;
  else if constexpr (executor_argument<Arg>)
    return say<
        typename says::
            is_an_executor_in_the_wrong_place_write_it_first_before_the_options_and_the_tasks>;
  else if constexpr (callable_object<stored>)
    return say<
        typename says::
            is_callable_but_a_task_takes_no_argument_or_a_stop_token_to_map_a_range_write_range_fn>;
  else if constexpr (First && executor_like<stored>)
    return say<
        typename says::
            is_not_an_executor_its_execute_must_accept_any_move_only_callable_of_signature_void>;
  else if constexpr (First)
    return say<typename says::is_neither_an_executor_nor_options_nor_a_task_nor_a_range_of_tasks>;
  else
    return say<
        typename says::
            is_not_a_task_expected_a_callable_f_or_f_of_stop_token_or_a_future_or_shared_future>;
}

/// Argument `Position`, a range `Rg` alone, whose elements are not tasks.
template <std::size_t Position, class Rg>
consteval auto not_a_task_range() {
  using says = bad_call::argument<Position, Rg>;
  if constexpr (future_task<std::ranges::range_value_t<Rg>> && !moves_elements<Rg>)
    return say<typename says::
                   is_an_lvalue_range_of_std_future_which_cannot_be_copied_pass_it_with_std_move>;
  else
    return say<
        typename says::is_a_range_of_non_tasks_to_map_a_function_over_it_write_range_then_function>;
}

/// Argument `Position`, `Fn`, to be mapped over the range `Rg`.
template <std::size_t Position, class Fn, class Rg>
consteval auto not_a_map_function() {
  using says = bad_call::argument<Position, Fn>;
  using fn = std::decay_t<Fn>;
  using element = std::ranges::range_reference_t<Rg>;
  if constexpr (!std::constructible_from<fn, Fn>)
    return say<typename says::is_a_function_that_cannot_be_copied_or_moved_into_the_call>;
  else if constexpr (std::invocable<fn&, element> || std::invocable<fn&, std::stop_token, element>)
    return say<
        typename says::
            is_mutable_but_map_functions_run_concurrently_through_a_const_reference_drop_mutable>;
  else
    return say<
        typename says::
            cannot_take_a_range_element_expected_fn_of_element_or_fn_of_stop_token_and_element>;
}

template <std::size_t First, class... Args, std::size_t... I>
consteval auto no_common_result(std::index_sequence<I...>) {
  return say<bad_call::any_and_race_need_a_common_type_for_the_task_results<
      task_result_t<nth_t<First + I, Args...>>...>>;
}

/// Reads `Args` the way the call forms do (an executor, then options, then tasks, a range
/// or a range and a function) and names the first thing that goes wrong. Positions count
/// from 1, after `Skipped` arguments that come before `Args` (`settle::start`'s combinator).
template <bool OneValue, std::size_t Skipped, class... Args>
consteval auto diagnose() {
  constexpr std::size_t count = sizeof...(Args);
  constexpr std::size_t after_executor = executor_at<0, Args...>() ? 1 : 0;
  // The index of the first task, range or map argument.
  constexpr std::size_t first =
      options_at<after_executor, Args...>() ? after_executor + 1 : after_executor;
  using unknown = bad_call::these_arguments_match_no_call_form_see_the_forms_of_the_combinator;
  if constexpr (first == count) {
    if constexpr (OneValue)
      return say<bad_call::any_and_race_need_at_least_one_task>;
    else
      return say<unknown>;
  } else {
    using head = nth_t<first, Args...>;
    if constexpr (task<head>) {
      constexpr std::size_t bad = first_non_task<first + 1, Args...>();
      if constexpr (bad < count)
        return not_a_task<Skipped + bad + 1, nth_t<bad, Args...>>();
      else if constexpr (OneValue)
        return no_common_result<first, Args...>(std::make_index_sequence<count - first>{});
      else
        return say<unknown>;
    } else if constexpr (std::ranges::input_range<head> && count - first == 1) {
      return not_a_task_range<Skipped + first + 1, head>();
    } else if constexpr (std::ranges::input_range<head> && count - first == 2) {
      return not_a_map_function<Skipped + first + 2, nth_t<first + 1, Args...>, head>();
    } else {
      return not_a_task<Skipped + first + 1, head, first == 0>();
    }
  }
}

template <bool Valid>
struct diagnosis_if_invalid {
  template <bool OneValue, std::size_t Skipped, class... Args>
  using type = typename decltype(diagnose<OneValue, Skipped, Args...>())::type;
};
/// A valid call needs no diagnosis: it is not computed.
template <>
struct diagnosis_if_invalid<true> {
  template <bool OneValue, std::size_t Skipped, class... Args>
  using type = void;
};

/// What is wrong with a call with `Args`, or `void` when `Valid`.
template <bool Valid, bool OneValue, std::size_t Skipped, class... Args>
using diagnosis_t = typename diagnosis_if_invalid<Valid>::template type<OneValue, Skipped, Args...>;

template <class Rule, bool OneValue, class Mode>
struct call_forms;

}  // namespace settle::detail

namespace settle {

/// `settle::start(combinator, args...)` (settle/pending.hpp) when no form of `combinator`
/// takes `args`: deleted, with the same `Error` as the plain call, whose positions count
/// `start`'s arguments.
template <class Rule, bool OneValue, class Mode, class... Args,
          class Error = detail::diagnosis_t<
              std::invocable<const detail::call_forms<Rule, OneValue, Mode>&, Args...>, OneValue, 1,
              Args...>>
  requires(!std::invocable<const detail::call_forms<Rule, OneValue, Mode>&, Args...>)
Error start(const detail::call_forms<Rule, OneValue, Mode>& combinator, Args&&... args) = delete;

}  // namespace settle
