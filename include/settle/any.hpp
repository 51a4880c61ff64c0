/// @file any.hpp
/// `any`: the first value, ignoring failures unless all fail; like `Promise.any`.
#pragma once

#include <exception>
#include <type_traits>
#include <vector>

#include "settle/detail/combinator.hpp"
#include "settle/errors.hpp"

namespace settle {

namespace detail {

struct any_rule {
  static constexpr bool settles_on(status s) noexcept { return s == status::fulfilled; }

  template <class Value, class Group>
  static Value first_value(Group& g) {
    if (g.winner() == expired_slot) std::rethrow_exception(g.expiry_reason());
    if (g.winner() != no_slot) return winner_value<Value>(g);
    std::vector<std::exception_ptr> reasons;
    reasons.reserve(g.storage().size());
    for_each_slot(g.storage(), [&](auto& s) { reasons.push_back(s.result->reason()); });
    throw aggregate_error(std::move(reasons));
  }

  template <class... Stored>
  static auto collect(group<any_rule, tuple_storage<Stored...>>& g) {
    return first_value<std::common_type_t<typename slot<Stored>::result_type...>>(g);
  }
  template <class Stored, class Shared, bool Stable>
  static auto collect(group<any_rule, vector_storage<Stored, Shared, Stable>>& g) {
    return first_value<typename slot<Stored>::result_type>(g);
  }
};

}  // namespace detail

/// Runs every task concurrently and returns the first value (by time); rejections before
/// it are ignored. If every task rejects, throws `settle::aggregate_error` with every
/// reason in argument order (none for empty input).
///
/// Forms: `any(tasks...)` -> `std::common_type_t<R...>` (no common type: does not
/// compile; `any()` does not compile); `any(range)`, `any(range, fn)` -> `R`; each also
/// with a leading executor. `void` tasks give `void`. Once a task fulfils, the others'
/// `std::stop_token`s are signalled, tasks not yet started never start, and the call
/// returns once the running ones have returned (it does not wait for losing futures).
/// Among inputs already settled when the call looks at them, the lowest index wins.
inline constexpr detail::first_combinator<detail::any_rule> any{};

}  // namespace settle
