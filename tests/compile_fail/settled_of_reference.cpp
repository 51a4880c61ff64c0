// settled<T&> is ill-formed: a result holds a value, never a reference.
// expect: settle::settled<T>: T must not be a reference
// std::variant's own assertion (no reference alternative) comes first, from the member.
// expect-within-lines: 20
#include <settle/settled.hpp>

#include <functional>

#ifndef SETTLE_COMPILE_FAIL_CONTROL
using result_type = int&;
#else
using result_type = std::reference_wrapper<int>;  // what the diagnostic suggests instead
#endif

int main() {
  settle::settled<result_type> r = settle::make_rejected<result_type>(nullptr);
  (void)r;
}
