// Options go after the executor: before it, the executor is taken for a task, which it is not.
// expect-GNU: task<T0>.* \[with T0 = settle::thread_pool&\]
// expect-GNU: executor<.+\[with Ex = settle::options\]
// expect-Clang: 'settle::thread_pool &' does not satisfy 'task'
// expect-Clang: \(aka 'settle::options'\) does not satisfy 'executor'
#include <settle/all_settled.hpp>
#include <settle/options.hpp>
#include <settle/thread_pool.hpp>

int main() {
  settle::thread_pool pool(1);
  auto task = [] { return 1; };
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(settle::limit(2), pool, task);
#else
  auto results = settle::all_settled(pool, settle::limit(2), task);
#endif
  (void)results;
}
