/// @file all_settled.hpp
/// `all_settled`: run independent tasks at once and hand back every outcome, like
/// JavaScript's `Promise.allSettled`.
#pragma once

#include <tuple>
#include <vector>

#include "settle/detail/combinator.hpp"
#include "settle/settled.hpp"

namespace settle {

namespace detail {

struct all_settled_rule {
  static constexpr bool settles_on(status) noexcept { return false; }  // only when all have

  template <class... Stored>
  static auto collect(group<all_settled_rule, tuple_storage<Stored...>>& g) {
    return std::apply(
        [](auto&... s) {
          return std::tuple<settled<typename slot<Stored>::result_type>...>(
              std::move(*s.result)...);
        },
        g.storage().slots);
  }

  template <class Stored, class Shared, bool Stable>
  static auto collect(group<all_settled_rule, vector_storage<Stored, Shared, Stable>>& g) {
    std::vector<settled<typename slot<Stored>::result_type>> out;
    out.reserve(g.storage().size());
    for_each_slot(g.storage(), [&](auto& s) { out.push_back(std::move(*s.result)); });
    return out;
  }
};

}  // namespace detail

/// Runs every task concurrently and returns every outcome, in argument (or range) order.
///
/// Forms: `all_settled(tasks...)` -> `std::tuple<settled<R>...>`; `all_settled(range)`
/// and `all_settled(range, fn)` -> `std::vector<settled<R>>`; each also with a leading
/// executor (default: `default_executor()`). Never throws a task's exception: a task that
/// throws yields a rejected `settled`. Returns once every task has returned. Empty input
/// returns an empty result at once. Only allocation failure, or a task argument whose
/// copy throws (before anything starts), propagates.
inline constexpr detail::combinator<detail::all_settled_rule> all_settled{};

}  // namespace settle
