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

#include "settle/detail/call_arguments.hpp"
#include "settle/detail/diagnostics.hpp"
#include "settle/detail/group.hpp"
#include "settle/executor.hpp"
#include "settle/options.hpp"
#include "settle/task.hpp"
#include "settle/thread_pool.hpp"

namespace settle::detail {

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

/// The owner's reference to a group (the caller's, or its `pending`'s). On destruction,
/// once the call has been awaited, the unclaimed outcomes are destroyed on this thread
/// and the reference released.
template <class Group>
class group_handle {
 public:
  explicit group_handle(Group* g) noexcept : group_(g) {}
  group_handle(group_handle&& other) noexcept : group_(std::exchange(other.group_, nullptr)) {}
  group_handle& operator=(group_handle&&) = delete;
  ~group_handle() {
    if (group_ != nullptr) {
      group_->discard_results();
      group_->release();
    }
  }
  Group* operator->() const noexcept { return group_; }
  Group& operator*() const noexcept { return *group_; }

 private:
  Group* group_;
};

/// How the call forms run a filled group: the plain call launches it, waits (helping on
/// a settle pool) and returns what the rule collects. `settle::start` has its own mode,
/// which launches and hands the group to a `pending` (settle/pending.hpp).
struct blocking {
  template <class Group, class Ex>
  static auto run(group_handle<Group> g, Ex&& ex, options&& opts) {
    g->prepare(std::move(opts), false);
    g->launch(ex, true);
    g->await_all(ex);
    return Group::rule_type::collect(*g);
  }
};

template <class Mode, class Rule, class Ex, class... Ts>
auto run_variadic(Ex&& ex, options opts, Ts&&... tasks) {
  using group_type = group<Rule, tuple_storage<stored_task_t<Ts>...>>;
  // If copying a task throws, nothing has started yet and the exception propagates.
  group_handle<group_type> g(new group_type(std::forward<Ts>(tasks)...));
  return Mode::run(std::move(g), std::forward<Ex>(ex), std::move(opts));
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

template <class Mode, class Rule, class Ex, class Rg>
auto run_range(Ex&& ex, options opts, Rg&& range) {
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
  return Mode::run(std::move(g), std::forward<Ex>(ex), std::move(opts));
}

template <class Mode, class Rule, class Ex, class Rg, class Fn>
auto run_map(Ex&& ex, options opts, Rg&& range, Fn&& fn) {
  using fn_type = std::decay_t<Fn>;
  using ref = std::ranges::range_reference_t<Rg>;
  using task_type =
      map_task<fn_type, ref, std::is_lvalue_reference_v<ref> && std::ranges::forward_range<Rg>>;
  using group_type =
      group<Rule, vector_storage<task_type, fn_type, stable_slots<std::remove_reference_t<Rg>>>>;
  group_handle<group_type> g(new group_type(std::forward<Fn>(fn)));
  auto& storage = g->storage();
  fill(storage, range, [&](auto& it) { storage.add(&*storage.shared, *it); });
  return Mode::run(std::move(g), std::forward<Ex>(ex), std::move(opts));
}

/// The range and map forms, shared by every combinator. Each comes four ways: with or
/// without a leading executor, with or without options after it; the shorter ones mean
/// `default_executor()` and `options{}`.
template <class Rule, class Mode>
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
    return (*this)(std::forward<Ex>(ex), options{}, std::forward<Rg>(range));
  }
  template <class O, class Rg>
    requires call_options<O> && task_range<Rg>
  [[nodiscard]] auto operator()(O&& opts, Rg&& range) const {
    return (*this)(default_executor(), std::forward<O>(opts), std::forward<Rg>(range));
  }
  template <class Ex, class O, class Rg>
    requires executor<std::remove_reference_t<Ex>> && call_options<O> && task_range<Rg>
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, Rg&& range) const {
    return run_range<Mode, Rule>(std::forward<Ex>(ex), options(std::forward<O>(opts)),
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
    return (*this)(std::forward<Ex>(ex), options{}, std::forward<Rg>(range), std::forward<Fn>(fn));
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
    return run_map<Mode, Rule>(std::forward<Ex>(ex), options(std::forward<O>(opts)),
                               std::forward<Rg>(range), std::forward<Fn>(fn));
  }
};

/// The variadic forms of SPEC §3 and §5 for `Rule`, four ways like the range forms. `Rule`
/// provides `settles_on(status)` (does a slot settling this way settle the whole group?)
/// and `collect(group&)`. With no tasks, `all_settled()` and `all()` return an empty tuple;
/// `any()` and `race()` (`OneValue`) have nothing to return and do not compile. The
/// trailing packs keep these overloads from hiding the range forms' ones of the same
/// arity, which clang 14 would do despite the constraints.
template <class Rule, bool OneValue, class Mode>
struct variadic_forms : range_forms<Rule, Mode> {
  using range_forms<Rule, Mode>::operator();

  template <class... Ts>
    requires(sizeof...(Ts) == 0) && (!OneValue || have_common_result<Ts...>)
  [[nodiscard]] auto operator()(Ts&&...) const {
    return run_variadic<Mode, Rule>(default_executor(), options{});
  }
  template <class Ex, class... None>
    requires(!OneValue) && executor<std::remove_reference_t<Ex>> && (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(Ex&& ex, None&&...) const {
    return run_variadic<Mode, Rule>(std::forward<Ex>(ex), options{});
  }
  template <class O, class... None>
    requires(!OneValue) && call_options<O> && (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(O&& opts, None&&...) const {
    return run_variadic<Mode, Rule>(default_executor(), options(std::forward<O>(opts)));
  }
  template <class Ex, class O, class... None>
    requires(!OneValue) && executor<std::remove_reference_t<Ex>> && call_options<O> &&
            (sizeof...(None) == 0)
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, None&&...) const {
    return run_variadic<Mode, Rule>(std::forward<Ex>(ex), options(std::forward<O>(opts)));
  }

  template <class T0, class... Ts>
    requires variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(T0&& task0, Ts&&... tasks) const {
    return run_variadic<Mode, Rule>(default_executor(), options{}, std::forward<T0>(task0),
                                    std::forward<Ts>(tasks)...);
  }
  template <class Ex, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Mode, Rule>(std::forward<Ex>(ex), options{}, std::forward<T0>(task0),
                                    std::forward<Ts>(tasks)...);
  }
  template <class O, class T0, class... Ts>
    requires call_options<O> && variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(O&& opts, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Mode, Rule>(default_executor(), options(std::forward<O>(opts)),
                                    std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }
  template <class Ex, class O, class T0, class... Ts>
    requires executor<std::remove_reference_t<Ex>> && call_options<O> &&
             variadic_tasks<OneValue, T0, Ts...>
  [[nodiscard]] auto operator()(Ex&& ex, O&& opts, T0&& task0, Ts&&... tasks) const {
    return run_variadic<Mode, Rule>(std::forward<Ex>(ex), options(std::forward<O>(opts)),
                                    std::forward<T0>(task0), std::forward<Ts>(tasks)...);
  }
};

/// The form for any other arguments than `Forms` take: deleted, so that such a call does
/// not compile and `requires` and `std::invocable` see it as invalid, with a template
/// argument `Error` that names the first wrong argument and what to write instead
/// (detail/diagnostics.hpp). The compilers print it first, before the forms that did not
/// match and why. A base of its own, beside `Forms`: declared in `call_forms`, it would
/// hide the variadic form without arguments from clang 14.
template <class Forms, bool OneValue>
struct unmatched_call {
  template <class... Args,
            class Error = diagnosis_t<std::invocable<const Forms&, Args...>, OneValue, 0, Args...>>
    requires(!std::invocable<const Forms&, Args...>)
  Error operator()(Args&&...) const = delete;  // Error says what is wrong with the call
};

/// Every form of `Rule`, and what to say about any other arguments.
template <class Rule, bool OneValue, class Mode = blocking>
struct call_forms : variadic_forms<Rule, OneValue, Mode>,
                    unmatched_call<variadic_forms<Rule, OneValue, Mode>, OneValue> {
  using variadic_forms<Rule, OneValue, Mode>::operator();
  using unmatched_call<variadic_forms<Rule, OneValue, Mode>, OneValue>::operator();

  /// The same forms run another way (`settle::start`'s).
  template <class OtherMode>
  using with_mode = call_forms<Rule, OneValue, OtherMode>;
};

/// `all_settled` and `all`.
template <class Rule>
using combinator = call_forms<Rule, false>;
/// `any` and `race`: one value for many tasks.
template <class Rule>
using first_combinator = call_forms<Rule, true>;

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
