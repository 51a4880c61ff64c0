// The range form: a std::vector of task objects, each `R()` or `R(std::stop_token)`.
#include "differential/runner.hpp"

namespace settle_stress {

namespace {

template <class R, bool Token>
void run_typed(run_context& c) {
  std::vector<scenario_task<R, Token>> tasks;
  tasks.reserve(c.s.tasks.size());
  for (int i = 0; i < c.size(); ++i) tasks.push_back(scenario_task<R, Token>{&c, i});
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      const auto o = capture([&] { return call<C>(ex, tasks); });
      check_outcome<C>(c, o, [&](const auto& result) { check_range_values<C>(c, result); });
    });
  });
}

template <class R>
void run_value(run_context& c) {
  if (c.s.form == form_kind::range_token)
    run_typed<R, true>(c);
  else
    run_typed<R, false>(c);
}

}  // namespace

void run_range_form(run_context& c) {
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
