// A std::future cannot be copied: it must be passed with std::move.
// expect-GNU: task<T0>.* \[with T0 = std::future<int>&\]
// expect-Clang: 'std::future<int> &' does not satisfy 'task'
#include <future>

#include <settle/all_settled.hpp>

int main() {
  std::promise<int> p;
  std::future<int> f = p.get_future();
  p.set_value(1);
#ifndef SETTLE_COMPILE_FAIL_CONTROL
  auto results = settle::all_settled(f);
#else
  auto results = settle::all_settled(std::move(f));
#endif
  (void)results;
}
