// A map function is called concurrently through a const reference: a mutable lambda is
// refused, and the error says why.
// expect: is_mutable_but_map_functions_run_concurrently_through_a_const_reference_drop_mutable
// expect-GNU: bad_call::argument<2, main\(\)::<lambda\(int\)> >::
// expect-Clang: bad_call::argument<2, \(lambda at [^)]*mutable_map_function\.cpp:[0-9:]+\)>::
#include <vector>

#include <settle/all_settled.hpp>

int main() {
  std::vector<int> numbers{1, 2, 3};
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(numbers, [calls = 0](int x) mutable { return x + ++calls; });
#else
  auto results = settle::all_settled(numbers, [calls = 0](int x) { return x + calls; });
#endif
  (void)results;
}
