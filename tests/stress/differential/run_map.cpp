// The map form: a range of indices and one function `R(int)` or `R(std::stop_token, int)`.
#include <numeric>

#include "differential/oracle.hpp"

namespace settle_stress {

void run_map_form(run_context& c) {
  with_value_type(c, form_kind::map_token, [&]<class R, bool Token>() {
    std::vector<int> indices(c.s.tasks.size());
    std::iota(indices.begin(), indices.end(), 0);
    const scenario_fn<R, Token> fn{&c};
    run_and_check_range(c, indices, fn);
  });
}

}  // namespace settle_stress
