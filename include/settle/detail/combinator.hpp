/// @file detail/combinator.hpp
/// The call forms every combinator offers (variadic, range of tasks, map over a range; each
/// with or without an executor, and with or without options), written once. A combinator
/// is this function object with a rule: when its group settles and what it returns.
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
#include "settle/options.hpp"
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

/// The caller's reference to a group: waits happen inside `launch_and_wait`; on scope
/// exit the unclaimed outcomes are destroyed here and the reference released.
template <class Group>
class group_handle {
 public:
  explicit group_handle(Group* g) noexcept : group_(g) {}
  group_handle(const group_handle&) = delete;
  group_handle& operator=(const group_handle&) = delete;
  ~group_handle() {
    group_->discard_results();
    group_->release();
  }
  Group* operator->() const noexcept { return group_; }
  Group& operator*() const noexcept { return *group_; }

 private:
  Group* group_;
};

template <class Rule, class Ex, class Collect, class... Ts>
decltype(auto) run_variadic(Ex& ex, options opts, Collect collect, Ts&&... tasks) {
  using group_type = group<Rule, tuple_storage<stored_task_t<Ts>...>>;
  // If copying a task throws, nothing has started yet and the exception propagates.
  group_handle<group_type> g(new group_type(std::forward<Ts>(tasks)...));
  g->prepare(std::move(opts));
  g->launch_and_wait(ex);
  return collect(*g);
}

// A single-pass range of unknown size goes into a deque, so that no element is moved
// again when the storage grows; any other range is counted first and reserved for.
template <class Rg>
inline constexpr bool stable_slots =
    !std::ranges::sized_range<Rg> && !std::ranges::forward_range<Rg>;

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
decltype(auto) run_range(Ex& ex, options opts, Collect collect, Rg&& range) {
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
  g->prepare(std::move(opts));
  g->launch_and_wait(ex);
  return collect(*g);
}

template <class Rule, class Ex, class Collect, class Rg, class Fn>
decltype(auto) run_map(Ex& ex, options opts, Collect collect, Rg&& range, Fn&& fn) {
  using fn_type = std::decay_t<Fn>;
  using ref = std::ranges::range_reference_t<Rg>;
  using task_type =
      map_task<fn_type, ref, std::is_lvalue_reference_v<ref> && std::ranges::forward_range<Rg>>;
  using group_type =
      group<Rule, vector_storage<task_type, fn_type, stable_slots<std::remove_reference_t<Rg>>>>;
  group_handle<group_type> g(new group_type(std::forward<Fn>(fn)));
  auto& storage = g->storage();
  fill(storage, range, [&](auto& it) { storage.add(&*storage.shared, *it); });
  g->prepare(std::move(opts));
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

/// Call options (`settle::options`), the optional argument after the executor.
template <class O>
concept call_options = std::same_as<std::remove_cvref_t<O>, options>;

/// The range and map forms, shared by every combinator. Each comes four ways: with or
/// without a leading executor, with or without options after it; the shorter ones mean
/// `default_executor()` and `options{}`.
template <class Rule>
struct range_forms {
  /// A range of tasks.
  template <class Rg>
    requires task_range<Rg>
  [[nodiscard]] auto operator()(Rg&& range) const {
    return (*this)(default_executor(), options{}, std::forward<Rg>(range));
  }
  template <class Ex, class Rg>
    requires executor<std::remove_reference_t<Ex>> && task_range<Rg>
  [[nodiscard]] auto operator()(Ex&& ex, Rg&& range) const {
    return (*this)(ex, options{}, std::forward<Rg>(range));
  }
  template <class O, class Rg>
    requires call_options<O> && task_range<Rg>
  [[nodiscard]] auto operator()(O&& opts, Rg&& range) const {
    return (*this)(default_executor(), std::forward<O>(opts), std::forward<Rg>(range));
  }
  template <class Ex, class O, class Rg>
    requires executor<std::remove_reference_t<Ex>> && call_options<O> && task_range<Rg>
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, Rg&& range) const {
    return run_range<Rule>(ex, options(std::forward<O>(opts)), collect_fn<Rule>{},
                           std::forward<Rg>(range));
  }

  /// `fn` over each element of a range.
  template <class Rg, class Fn>
    requires map_function<Fn, Rg>
  [[nodiscard]] auto operator()(Rg&& range, Fn&& fn) const {
    return (*this)(default_executor(), options{}, std::forward<Rg>(range), std::forward<Fn>(fn));
  }
  template <class Ex, class Rg, class Fn>
    requires executor<std::remove_reference_t<Ex>> && map_function<Fn, Rg>
  [[nodiscard]] auto operator()(Ex&& ex, Rg&& range, Fn&& fn) const {
    return (*this)(ex, options{}, std::forward<Rg>(range), std::forward<Fn>(fn));
  }
  template <class O, class Rg, class Fn>
    requires call_options<O> && map_function<Fn, Rg>
  [[nodiscard]] auto operator()(O&& opts, Rg&& range, Fn&& fn) const {
    return (*this)(default_executor(), std::forward<O>(opts), std::forward<Rg>(range),
                   std::forward<Fn>(fn));
  }
  template <class Ex, class O, class Rg, class Fn>
    requires executor<std::remove_reference_t<Ex>> && call_options<O> && map_function<Fn, Rg>
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, Rg&& range, Fn&& fn) const {
    return run_map<Rule>(ex, options(std::forward<O>(opts)), collect_fn<Rule>{},
                         std::forward<Rg>(range), std::forward<Fn>(fn));
  }
};

/// Tasks for a variadic form: `any` and `race` (`OneValue`) return one value for them
/// all, so their results need a common type.
template <bool OneValue, class T0, class... Ts>
concept variadic_tasks =
    tasks<T0, Ts...> && (!OneValue || have_common_result<task_result_t<T0>, task_result_t<Ts>...>);

/// The variadic forms of SPEC §3 and §5 for `Rule`, four ways like the range forms. `Rule`
/// provides `settles_on(status)` (does a slot settling this way settle the whole group?)
/// and `collect(group&)`. With no tasks, `all_settled()` and `all()` return an empty tuple;
/// `any()` and `race()` (`OneValue`) have nothing to return and do not compile. The
/// trailing packs keep these overloads from hiding the range forms' ones of the same
/// arity, which clang 14 would do despite the constraints.
template <class Rule, bool OneValue>
struct variadic_forms : range_forms<Rule> {
  using range_forms<Rule>::operator();

  template <class... Ts>
    requires(sizeof...(Ts) == 0) && (!OneValue || have_common_result<Ts...>)
  [[nodiscard]] auto operator()(Ts&&...) const {
    return run_variadic<Rule>(default_executor(), options{}, collect_fn<Rule>{});
  }
  template <class Ex, class... None>
    requires(!OneValue) && executor<std::remove_reference_t<Ex>> && (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(Ex&& ex, None&&...) const {
    return run_variadic<Rule>(ex, options{}, collect_fn<Rule>{});
  }
  template <class O, class... None>
    requires(!OneValue) && call_options<O> && (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(O&& opts, None&&...) const {
    return run_variadic<Rule>(default_executor(), options(std::forward<O>(opts)),
                              collect_fn<Rule>{});
  }
  template <class Ex, class O, class... None>
    requires(!OneValue) && executor<std::remove_reference_t<Ex>> && call_options<O> &&
            (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, None&&...) const {
    return run_variadic<Rule>(ex, options(std::forward<O>(opts)), collect_fn<Rule>{});
  }

  template <class T0, class... Ts>
    requires variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(default_executor(), options{}, collect_fn<Rule>{},
                              std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }
  template <class Ex, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(ex, options{}, collect_fn<Rule>{}, std::forward<T0>(task0),
                              std::forward<Ts>(tasks)...);
  }
  template <class O, class T0, class... Ts>
    requires call_options<O> && variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(O&& opts, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(default_executor(), options(std::forward<O>(opts)),
                              collect_fn<Rule>{}, std::forward<T0>(task0),
                              std::forward<Ts>(tasks)...);
  }
  template <class Ex, class O, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && call_options<O> &&
             variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Rule>(ex, options(std::forward<O>(opts)), collect_fn<Rule>{},
                              std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }
};

/// `all_settled` and `all`.
template <class Rule>
using combinator = variadic_forms<Rule, false>;
/// `any` and `race`: one value for many tasks.
template <class Rule>
using first_combinator = variadic_forms<Rule, true>;

/// Calls `f(slot)` for every slot in order: the collectors' loop, for both storages.
template <class... Stored, class F>
void for_each_slot(tuple_storage<Stored...>& storage, F&& f) {
  std::apply([&](auto&... s) { (f(s), ...); }, storage.slots);
}
template <class Stored, class Shared, bool Stable, class F>
void for_each_slot(vector_storage<Stored, Shared, Stable>& storage, F&& f) {
  for (auto& s : storage.slots) f(s);
}

/// Rethrows the winning slot's reason, or the expiry's, if the group settled early.
template <class Group>
void rethrow_if_decided(Group& g) {
  if (g.winner() == expired_slot) std::rethrow_exception(g.expiry_reason());
  if (g.winner() != no_slot)
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
