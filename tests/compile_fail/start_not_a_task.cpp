// settle::start takes what the plain call takes, and names a wrong argument the same way,
// counting its own arguments (the combinator is the first).
// expect: bad_call::argument<3, int>::is_not_a_task_
// expect: is_not_a_task_expected_a_callable_f_or_f_of_stop_token_or_a_future_or_shared_future
#include <settle/all_settled.hpp>
#include <settle/pending.hpp>

int main() {
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::start(settle::all_settled, task, 42);
#else
  auto results = settle::start(settle::all_settled, task, [] { return 42; });
#endif
  (void)results.get();
}
