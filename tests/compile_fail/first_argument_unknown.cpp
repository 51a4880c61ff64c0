// The first argument may be an executor, options, a task or a range: anything else is named.
// expect: bad_call::argument<1, int>::is_neither_an_executor_
// expect: is_neither_an_executor_nor_options_nor_a_task_nor_a_range_of_tasks
#include <settle/all_settled.hpp>

int main() {
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(4, task);
#else
  auto results = settle::all_settled(settle::inline_executor{}, task);
#endif
  (void)results;
}
