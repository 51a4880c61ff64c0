/// @file race.hpp
/// `race`: the outcome of the first task to settle, either way; like `Promise.race`.
#pragma once

#include <type_traits>

#include "settle/detail/combinator.hpp"
#include "settle/errors.hpp"

namespace settle {

namespace detail {

struct race_rule {
  static constexpr bool settles_on(status) noexcept { return true; }  // the first, either way

  template <class Value, class Group>
  static Value first_outcome(Group& g) {
    if (g.winner() == expired_slot) std::rethrow_exception(g.expiry_reason());
    if (g.winner() == no_slot) throw empty_race();  // only empty input has no winner
    return winner_value<Value>(g);
  }

  template <class... Stored>
  static auto collect(group<race_rule, tuple_storage<Stored...>>& g) {
    return first_outcome<std::common_type_t<typename slot<Stored>::result_type...>>(g);
  }
  template <class Stored, class Shared, bool Stable>
  static auto collect(group<race_rule, vector_storage<Stored, Shared, Stable>>& g) {
    return first_outcome<typename slot<Stored>::result_type>(g);
  }
};

}  // namespace detail

/// Runs every task concurrently and returns the outcome of the first to settle: its value,
/// or its exception rethrown. Empty input throws `settle::empty_race` (JavaScript's
/// `race([])` would never settle).
///
/// Forms as for `any`: `race(tasks...)` -> `std::common_type_t<R...>`; `race(range)`,
/// `race(range, fn)` -> `R`; each also with a leading executor. Once one task settles,
/// the others' `std::stop_token`s are signalled, tasks not yet started never start, and
/// the call returns once the running ones have returned (not waiting for losing futures).
/// Among inputs already settled when the call looks at them, the lowest index wins.
inline constexpr detail::first_combinator<detail::race_rule> race{};

}  // namespace settle
