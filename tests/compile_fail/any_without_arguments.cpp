// any() has no task to take a value from: it does not compile.
// expect: bad_call::any_and_race_need_at_least_one_task
#include <settle/any.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto v = settle::any();
#else
  auto v = settle::any([] { return 1; });
#endif
  (void)v;
}
