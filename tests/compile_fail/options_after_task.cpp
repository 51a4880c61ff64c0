// Options go before the tasks: after one, settle::options is taken for a task, which it is not.
// expect-GNU: \(task<Ts> && \.\.\.\) \[with Ts = \{settle::options\}\]
// expect-Clang: 'settle::options' does not satisfy 'task'
#include <chrono>

#include <settle/all.hpp>
#include <settle/options.hpp>

int main() {
  using namespace std::chrono_literals;
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all(task, settle::timeout(1s));
#else
  auto results = settle::all(settle::timeout(1s), task);
#endif
  (void)results;
}
