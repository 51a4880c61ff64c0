// settled<void> has no value to fall back from: value_or does not exist for it.
// expect: no member named [^ ]*value_or
// expect-Clang: no member named 'value_or' in 'settle::settled<void>'
#include <settle/settled.hpp>

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  const settle::settled<void> r = settle::make_fulfilled();
  r.value_or(0);
#else
  const settle::settled<int> r = settle::make_fulfilled(1);
  (void)r.value_or(0);
#endif
}
