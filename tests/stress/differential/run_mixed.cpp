// The mixed form: std::future<int> arguments among callables in one variadic call, in the
// patterns of mixed_shape. A future may be ready, set by a setter thread while the call
// runs, set only after the call returns, or set by one of the call's own callables.
#include <cstddef>
#include <future>
#include <tuple>
#include <utility>

#include "differential/futures.hpp"
#include "differential/oracle.hpp"

namespace settle_stress {

namespace {

/// Argument I: a future, or a callable that takes a std::stop_token at odd positions.
template <bool Future, std::size_t I>
using argument_t = std::conditional_t<Future, std::future<int>, scenario_task<int, I % 2 == 1>>;

template <bool Future, std::size_t I>
argument_t<Future, I> argument(run_context& c, future_inputs& inputs) {
  if constexpr (Future)
    return inputs.take(static_cast<int>(I));
  else
    return argument_t<Future, I>{&c, static_cast<int>(I)};
}

template <bool... Futures, std::size_t... I>
void run_pattern_at(run_context& c, std::index_sequence<I...>) {
  if (c.size() != static_cast<int>(sizeof...(I))) {
    c.mismatch("scenario has " + std::to_string(c.size()) + " inputs for a pattern of " +
               std::to_string(sizeof...(I)));
    return;
  }
  if (((c.s.is_future(static_cast<int>(I)) != Futures) || ...)) {
    c.mismatch("scenario's futures do not match its pattern " + pattern_of(c.s.mix));
    return;
  }
  // Outlives the call: after the check it sets what is left and joins its setter.
  future_inputs inputs(c);
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      inputs.start();
      const auto o = capture([&] { return call<C>(c, ex, argument<Futures, I>(c, inputs)...); });
      check_outcome<C>(c, o, [&](const auto& result) {
        if constexpr (C == comb_kind::all_settled)
          (check_slot(c, static_cast<int>(I), std::get<I>(result)), ...);
        else if constexpr (C == comb_kind::all)
          (check_all_value(c, static_cast<int>(I), std::get<I>(result)), ...);
      });
    });
  });
}

template <bool... Futures>
void run_pattern(run_context& c) {
  run_pattern_at<Futures...>(c, std::make_index_sequence<sizeof...(Futures)>{});
}

constexpr bool future_arg = true;
constexpr bool callable_arg = false;

}  // namespace

void run_mixed_form(run_context& c) {
  switch (c.s.mix) {
    case mixed_shape::f:
      run_pattern<future_arg>(c);
      break;
    case mixed_shape::ff:
      run_pattern<future_arg, future_arg>(c);
      break;
    case mixed_shape::fc:
      run_pattern<future_arg, callable_arg>(c);
      break;
    case mixed_shape::cf:
      run_pattern<callable_arg, future_arg>(c);
      break;
    case mixed_shape::cfc:
      run_pattern<callable_arg, future_arg, callable_arg>(c);
      break;
    case mixed_shape::ffc:
      run_pattern<future_arg, future_arg, callable_arg>(c);
      break;
    case mixed_shape::fcfc:
      run_pattern<future_arg, callable_arg, future_arg, callable_arg>(c);
      break;
    case mixed_shape::cffcf:
      run_pattern<callable_arg, future_arg, future_arg, callable_arg, future_arg>(c);
      break;
  }
}

}  // namespace settle_stress
