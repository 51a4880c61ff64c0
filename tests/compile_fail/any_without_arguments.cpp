// any() has no task to take a value from: it does not compile.
// expect: common_result
// expect-GNU: sizeof\.\.\.\(Ts\) == 0
// expect-Clang: common_result<>
#include <settle/any.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto v = settle::any();
#else
  auto v = settle::any([] { return 1; });
#endif
  (void)v;
}
