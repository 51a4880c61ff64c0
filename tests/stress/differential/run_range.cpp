// The range form: a std::vector of task objects, each `R()` or `R(std::stop_token)`.
#include "differential/oracle.hpp"

namespace settle_stress {

void run_range_form(run_context& c) {
  with_value_type(c, form_kind::range_token, [&]<class R, bool Token>() {
    std::vector<scenario_task<R, Token>> tasks;
    tasks.reserve(c.s.tasks.size());
    for (int i = 0; i < c.size(); ++i) tasks.push_back(scenario_task<R, Token>{&c, i});
    run_and_check_range(c, tasks);
  });
}

}  // namespace settle_stress
