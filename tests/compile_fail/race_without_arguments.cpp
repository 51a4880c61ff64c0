// race() has no task to race: it does not compile.
// expect: common_result
// expect-GNU: sizeof\.\.\.\(Ts\) == 0
// expect-Clang: common_result<>
#include <settle/race.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto v = settle::race();
#else
  auto v = settle::race([] { return 1; });
#endif
  (void)v;
}
