// The variadic form: heterogeneous task arguments; tasks at odd positions take a
// std::stop_token, the others take nothing, so one call mixes both kinds.
#include <tuple>

#include "differential/oracle.hpp"

namespace settle_stress {

namespace {

template <class... Ts>
concept have_common_type = requires { typename std::common_type<Ts...>::type; };

template <class... Ts, std::size_t... I>
void run_shape(run_context& c, std::index_sequence<I...>) {
  if (c.size() != static_cast<int>(sizeof...(Ts))) {
    c.mismatch("scenario has " + std::to_string(c.size()) + " tasks for a shape of " +
               std::to_string(sizeof...(Ts)));
    return;
  }
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      constexpr bool single = C == comb_kind::any || C == comb_kind::race;
      if constexpr (single && !have_common_type<Ts...>) {
        // any/race over types without a common type do not compile (SPEC); the
        // generator never asks for it.
        c.mismatch("generator asked for any/race over types without a common type");
      } else {
        const auto o = capture([&] {
          return call<C>(c, ex, scenario_task < Ts, I % 2 == 1 > {&c, static_cast<int>(I)}...);
        });
        check_outcome<C>(c, o, [&](const auto& result) {
          if constexpr (C == comb_kind::all_settled)
            (check_slot(c, static_cast<int>(I), std::get<I>(result)), ...);
          else
            (check_all_value(c, static_cast<int>(I), std::get<I>(result)), ...);
        });
      }
    });
  });
}

template <class... Ts>
void run_shape(run_context& c) {
  run_shape<Ts...>(c, std::index_sequence_for<Ts...>{});
}

}  // namespace

void run_variadic_form(run_context& c) {
  using ptr = std::unique_ptr<int>;
  switch (c.s.shape) {
    case variadic_shape::one_int:
      run_shape<int>(c);
      break;
    case variadic_shape::int_void_string:
      run_shape<int, void, std::string>(c);
      break;
    case variadic_shape::mixed_five:
      run_shape<ptr, int, void, std::string, int>(c);
      break;
    case variadic_shape::int_long_short:
      run_shape<int, long, short>(c);
      break;
    case variadic_shape::four_void:
      run_shape<void, void, void, void>(c);
      break;
    case variadic_shape::two_move_only:
      run_shape<ptr, ptr>(c);
      break;
  }
}

}  // namespace settle_stress
