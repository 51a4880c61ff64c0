// Options go before the tasks: after one, the error says where they go.
// expect: bad_call::argument<2, settle::options>::is_options_in_the_
// expect: is_options_in_the_wrong_place_write_them_after_the_executor_and_before_the_tasks
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
