// A first argument whose execute() cannot take a job is not a settle::executor.
// expect: is_not_an_executor_its_execute_must_accept_any_move_only_callable_of_signature_void
// expect-GNU: bad_call::argument<1, not_an_executor&>::
// expect-Clang: bad_call::argument<1, not_an_executor &>::
#include <settle/all_settled.hpp>

struct not_an_executor {
  void execute(int) {}
};
struct an_executor {
  template <class F>
  void execute(F&& f) {
    f();
  }
};

int main() {
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  not_an_executor ex;
#else
  an_executor ex;
#endif
  auto results = settle::all_settled(ex, [] { return 1; });
  (void)results;
}
