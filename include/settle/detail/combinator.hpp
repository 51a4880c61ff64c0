/// @file detail/combinator.hpp
/// The four call forms every combinator offers (variadic, range of tasks, map over a
/// range; each with or without an executor), written once. A combinator is this
/// function object with a rule: when its group settles and what it returns.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <ranges>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "settle/detail/group.hpp"
#include "settle/executor.hpp"
#include "settle/task.hpp"
#include "settle/thread_pool.hpp"

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

/// The task made of one element of a mapped range. Elements of a forward range are
/// referred to in place (the range outlives the call, which waits for its tasks);
/// others are copied in, since an input range's element is gone once it advances.
template <class Fn, class Ref, bool InPlace>
class map_task {
  using element_type =
      std::conditional_t<InPlace, std::remove_reference_t<Ref>*, std::remove_cvref_t<Ref>>;

 public:
  static constexpr bool stop_aware = std::invocable<const Fn&, std::stop_token, Ref>;

  template <class Elem>
  map_task(const Fn* fn, Elem&& elem) : fn_(fn), element_(take(std::forward<Elem>(elem))) {}

  decltype(auto) operator()()
    requires(!stop_aware)
  {
    return std::invoke(*fn_, argument());
  }
  decltype(auto) operator()(std::stop_token token)
    requires stop_aware
  {
    return std::invoke(*fn_, std::move(token), argument());
  }

 private:
  template <class Elem>
  static element_type take(Elem&& elem) {
    if constexpr (InPlace)
      return std::addressof(elem);
    else
      return element_type(std::forward<Elem>(elem));
  }
  // The element as the range gave it: an lvalue stays an lvalue (the function may take
  // `T&`), even when it is our own copy of a single-pass range's element.
  decltype(auto) argument() {
    if constexpr (InPlace)
      return static_cast<Ref>(*element_);
    else if constexpr (std::is_lvalue_reference_v<Ref>)
      return static_cast<Ref>(element_);
    else
      return std::move(element_);
  }

  const Fn* fn_;
  element_type element_;
};

template <class Rule, class Ex, class Collect, class... Ts>
decltype(auto) run_variadic(Ex& ex, Collect collect, Ts&&... tasks) {
  using group_type = group<Rule, tuple_storage<stored_task_t<Ts>...>>;
  // If copying a task throws, nothing has started yet and the exception propagates.
  group_handle<group_type> g(new group_type(std::forward<Ts>(tasks)...));
  g->prepare();
  g->launch_and_wait(ex);
  return collect(*g);
}

// A single-pass range of unknown size goes into a deque, so that no element is moved
// again when the storage grows; any other range is counted first and reserved for.
template <class Rg>
inline constexpr bool stable_slots = !std::ranges::sized_range<Rg> && !std::ranges::forward_range<Rg>;

template <class Storage, class Rg, class Add>
void fill(Storage& storage, Rg& range, Add add) {
  if constexpr (std::ranges::sized_range<Rg>)
    storage.reserve(static_cast<std::size_t>(std::ranges::size(range)));
  else if constexpr (std::ranges::forward_range<Rg>)
    storage.reserve(static_cast<std::size_t>(std::ranges::distance(range)));
  for (auto it = std::ranges::begin(range); it != std::ranges::end(range); ++it) add(it);
  storage.seal();
}

template <class Rule, class Ex, class Collect, class Rg>
decltype(auto) run_range(Ex& ex, Collect collect, Rg&& range) {
  using group_type = group<Rule, vector_storage<stored_task_t<range_task_arg_t<Rg>>, std::monostate,
                                                stable_slots<std::remove_reference_t<Rg>>>>;
  group_handle<group_type> g(new group_type());
  auto& storage = g->storage();
  fill(storage, range, [&](auto& it) {
    if constexpr (moves_elements<Rg>)
      storage.add(std::ranges::iter_move(it));
    else
      storage.add(*it);
  });
  g->prepare();
  g->launch_and_wait(ex);
  return collect(*g);
}

template <class Rule, class Ex, class Collect, class Rg, class Fn>
decltype(auto) run_map(Ex& ex, Collect collect, Rg&& range, Fn&& fn) {
  using fn_type = std::decay_t<Fn>;
  using ref = std::ranges::range_reference_t<Rg>;
  using task_type =
      map_task<fn_type, ref, std::is_lvalue_reference_v<ref> && std::ranges::forward_range<Rg>>;
  using group_type =
      group<Rule, vector_storage<task_type, fn_type, stable_slots<std::remove_reference_t<Rg>>>>;
  group_handle<group_type> g(new group_type(std::forward<Fn>(fn)));
  auto& storage = g->storage();
  fill(storage, range, [&](auto& it) { storage.add(&*storage.shared, *it); });
  g->prepare();
  g->launch_and_wait(ex);
  return collect(*g);
}

template <class Rule>
struct collect_fn {
  template <class Group>
  auto operator()(Group& g) const {
    return Rule::collect(g);
  }
};

/// The range and map forms, shared by every combinator.
template <class Rule>
struct range_forms {
  /// A range of tasks, on the default executor.
  template <class Rg>
    requires task_range<Rg>
  [[nodiscard]] auto operator()(Rg&& range) const {
    return (*this)(default_executor(), std::forward<Rg>(range));
  }

  /// A range of tasks, on `ex`.
  template <class Ex, class Rg>
    requires executor<std::remove_reference_t<Ex>> && task_range<Rg>
  [[nodiscard]] auto operator()(Ex&& ex, Rg&& range) const {
    return run_range<Rule>(ex, collect_fn<Rule>{}, std::forward<Rg>(range));
  }

  /// `fn` over each element of a range, on the default executor.
  template <class Rg, class Fn>
    requires map_function<Fn, Rg>
  [[nodiscard]] auto operator()(Rg&& range, Fn&& fn) const {
    return (*this)(default_executor(), std::forward<Rg>(range), std::forward<Fn>(fn));
  }

  /// `fn` over each element of a range, on `ex`.
  template <class Ex, class Rg, class Fn>
    requires executor<std::remove_reference_t<Ex>> && map_function<Fn, Rg>
  [[nodiscard]] auto operator()(Ex&& ex, Rg&& range, Fn&& fn) const {
    return run_map<Rule>(ex, collect_fn<Rule>{}, std::forward<Rg>(range), std::forward<Fn>(fn));
  }
};

/// `all_settled` and `all`: the call forms of SPEC §3 for `Rule`, which provides
/// `settles_on(status)` (does a slot settling this way settle the whole group?) and
/// `collect(group&)`.
template <class Rule>
struct combinator : range_forms<Rule> {
  using range_forms<Rule>::operator();

  /// No tasks: an empty tuple at once.
  [[nodiscard]] auto operator()() const { return (*this)(default_executor()); }

  /// No tasks, on `ex`: an empty tuple at once. (The empty pack keeps this from hiding
  /// the range form `(Rg&&)` of the base, which clang 14 would do despite the constraints.)
  template <class Ex, class... None>
    requires executor<std::remove_reference_t<Ex>> && (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(Ex&& ex, None&&...) const {
    return run_variadic<Rule>(ex, collect_fn<Rule>{});
  }

  /// Variadic, on the default executor.
  template <class T0, class... Ts>
    requires tasks<T0, Ts...>
  [[nodiscard]] auto operator()(T0&& task0, Ts&&... tasks) const {
    return (*this)(default_executor(), std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }

  /// Variadic, on `ex`.
  template <class Ex, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && tasks<T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(ex, collect_fn<Rule>{}, std::forward<T0>(task0),
                              std::forward<Ts>(tasks)...);
  }
};

/// One or more tasks whose results have a common type: what `any` and `race` return.
template <class T0, class... Ts>
concept tasks_with_common_result =
    tasks<T0, Ts...> && have_common_result<task_result_t<T0>, task_result_t<Ts>...>;

/// `any` and `race`: as `combinator`, but the variadic forms return one value, so they
/// need at least one task and a common result type.
template <class Rule>
struct first_combinator : range_forms<Rule> {
  using range_forms<Rule>::operator();

  /// No tasks: there is no value to return, so this does not compile.
  template <class... Ts>
    requires(sizeof...(Ts) == 0) && have_common_result<Ts...>
  void operator()(Ts&&...) const = delete;

  template <class T0, class... Ts>
    requires tasks_with_common_result<T0, Ts...>
  [[nodiscard]] auto operator()(T0&& task0, Ts&&... tasks) const {
    return (*this)(default_executor(), std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }

  template <class Ex, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && tasks_with_common_result<T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(ex, collect_fn<Rule>{}, std::forward<T0>(task0),
                              std::forward<Ts>(tasks)...);
  }
};

/// Calls `f(slot)` for every slot in order: the collectors' loop, for both storages.
template <class... Stored, class F>
void for_each_slot(tuple_storage<Stored...>& storage, F&& f) {
  std::apply([&](auto&... s) { (f(s), ...); }, storage.slots);
}
template <class Stored, class Shared, bool Stable, class F>
void for_each_slot(vector_storage<Stored, Shared, Stable>& storage, F&& f) {
  for (auto& s : storage.slots) f(s);
}

/// Rethrows the winning slot's reason.
template <class Group>
void rethrow_winner(Group& g) {
  g.storage().visit(g.winner(), [](auto& s) { std::rethrow_exception(s.result->reason()); });
}

/// The winning slot's value, converted to `Value` (or nothing for `void`); rethrows
/// its reason when it rejected.
template <class Value, class Group>
Value winner_value(Group& g) {
  if constexpr (std::is_void_v<Value>) {
    g.storage().visit(g.winner(), [](auto& s) { s.result->value(); });
  } else {
    std::optional<Value> out;
    // Every result type is non-void here: void has no common type with anything else.
    g.storage().visit(g.winner(), [&](auto& s) { out.emplace(std::move(*s.result).value()); });
    return std::move(*out);
  }
}

}  // namespace settle::detail
