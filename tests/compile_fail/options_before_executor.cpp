// Options go after the executor: before it, the error says where the executor goes.
// expect: is_an_executor_in_the_wrong_place_write_it_first_before_the_options_and_the_tasks
// expect-GNU: bad_call::argument<2, settle::thread_pool&>::
// expect-Clang: bad_call::argument<2, settle::thread_pool &>::
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
