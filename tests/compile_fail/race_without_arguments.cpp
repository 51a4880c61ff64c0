// race() has no task to race, with or without an executor: it does not compile.
// expect: bad_call::any_and_race_need_at_least_one_task
#include <settle/race.hpp>

int main() {
  settle::inline_executor ex;
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto v = settle::race(ex);
#else
  auto v = settle::race(ex, [] { return 1; });
#endif
  (void)v;
}
