// The map form: a range of indices and one function `R(int)` or `R(std::stop_token, int)`.
#include <numeric>

#include "differential/runner.hpp"

namespace settle_stress {

namespace {

template <class R, bool Token>
void run_typed(run_context& c) {
  std::vector<int> indices(c.s.tasks.size());
  std::iota(indices.begin(), indices.end(), 0);
  const scenario_fn<R, Token> fn{&c};
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      const auto o = capture([&] { return call<C>(ex, indices, fn); });
      check_outcome<C>(c, o, [&](const auto& result) { check_range_values<C>(c, result); });
    });
  });
}

template <class R>
void run_value(run_context& c) {
  if (c.s.form == form_kind::map_token)
    run_typed<R, true>(c);
  else
    run_typed<R, false>(c);
}

}  // namespace

void run_map_form(run_context& c) {
  switch (c.s.value) {
    case value_kind::int_value:
      run_value<int>(c);
      break;
    case value_kind::void_value:
      run_value<void>(c);
      break;
    case value_kind::move_only:
      run_value<std::unique_ptr<int>>(c);
      break;
    case value_kind::string_value:
      run_value<std::string>(c);
      break;
  }
}

}  // namespace settle_stress
