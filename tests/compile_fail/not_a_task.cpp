// An argument that is neither a callable nor a future is not a task: the error names it by
// position and type, and says what a task is.
// expect: bad_call::argument<2, int>::is_not_a_task_
// expect: is_not_a_task_expected_a_callable_f_or_f_of_stop_token_or_a_future_or_shared_future
#include <settle/all_settled.hpp>

int main() {
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(task, 42);
#else
  auto results = settle::all_settled(task, [] { return 42; });
#endif
  (void)results;
}
