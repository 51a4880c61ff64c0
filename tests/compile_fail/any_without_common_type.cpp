// any returns one value for many tasks: int and std::string have no common type, and the
// error lists the result types.
// expect: bad_call::any_and_race_need_a_common_type_for_the_task_results<int, std::
// expect-Clang: any_and_race_need_a_common_type_for_the_task_results<int, std::basic_string<char>>
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
