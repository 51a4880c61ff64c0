/// @file all.hpp
/// `all`: every task's value, or the first error; like JavaScript's `Promise.all`.
#pragma once

#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "settle/detail/combinator.hpp"

namespace settle {

namespace detail {

/// `all` returns values: a `void` result becomes `std::monostate`.
template <class R>
using value_or_monostate_t = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

template <class R, class Slot>
value_or_monostate_t<R> take_value(Slot& s) {
  if constexpr (std::is_void_v<R>)
    return std::monostate{};
  else
    return std::move(*s.result).value();
}

struct all_rule {
  static constexpr bool settles_on(status s) noexcept { return s == status::rejected; }

  template <class... Stored>
  static auto collect(group<all_rule, tuple_storage<Stored...>>& g) {
    rethrow_if_decided(g);
    return std::apply(
        [](auto&... s) {
          return std::tuple<value_or_monostate_t<typename slot<Stored>::result_type>...>(
              take_value<typename slot<Stored>::result_type>(s)...);
        },
        g.storage().slots);
  }

  template <class Stored, class Shared, bool Stable>
  static auto collect(group<all_rule, vector_storage<Stored, Shared, Stable>>& g) {
    using result_type = typename slot<Stored>::result_type;
    rethrow_if_decided(g);
    std::vector<value_or_monostate_t<result_type>> out;
    out.reserve(g.storage().size());
    for_each_slot(g.storage(), [&](auto& s) { out.push_back(take_value<result_type>(s)); });
    return out;
  }
};

}  // namespace detail

/// Runs every task concurrently; returns every value in argument order, or rethrows the
/// first rejection in time.
///
/// Forms: `all(tasks...)` -> `std::tuple<R...>`; `all(range)` and `all(range, fn)` ->
/// `std::vector<R>` (a `void` result becomes `std::monostate`); each also with a leading
/// executor. On the first rejection the other tasks' `std::stop_token`s are signalled,
/// tasks not yet started never start, and the call rethrows once the running ones have
/// returned. Empty input returns an empty result at once.
inline constexpr detail::combinator<detail::all_rule> all{};

}  // namespace settle
