// An argument that is neither a callable nor a future is rejected by the settle::task
// concept, not deep inside the library.
// expect-GNU: task<T0>.* \[with T0 = int\]
// expect-Clang: 'int' does not satisfy 'task'
#include <settle/all_settled.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(42);
#else
  auto results = settle::all_settled([] { return 42; });
#endif
  (void)results;
}
