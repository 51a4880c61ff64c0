// A first argument whose execute() cannot take a job is not a settle::executor.
// expect-GNU: satisfaction of .+executor<.+\[with Ex = not_an_executor&\]
// expect-Clang: \(aka 'not_an_executor'\) does not satisfy 'executor'
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
