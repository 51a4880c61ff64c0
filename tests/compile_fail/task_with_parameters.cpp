// A callable that needs an argument is not a task; the error says what a task takes, and how
// to map a function over a range instead.
// expect: is_callable_but_a_task_takes_no_argument_or_a_stop_token_to_map_a_range_write_range_fn
// expect-GNU: bad_call::argument<2, main\(\)::<lambda\(int\)> >::
// expect-Clang: bad_call::argument<2, \(lambda at [^)]*task_with_parameters\.cpp:[0-9:]+\)>::
#include <settle/all_settled.hpp>

int main() {
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(task, [](int x) { return x; });
#else
  auto results = settle::all_settled(task, [] { return 2; });
#endif
  (void)results;
}
