// any returns one value for many tasks: int and std::string have no common type.
// expect: common_result
// expect-GNU: variadic_tasks<OneValue, T0, Ts
// expect-Clang: no type named 'type' in 'std::common_type<int, std::basic_string<char>>'
#include <string>

#include <settle/any.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto v = settle::any([] { return 1; }, [] { return std::string("one"); });
#else
  auto v = settle::any([] { return 1; }, [] { return 1L; });
#endif
  (void)v;
}
