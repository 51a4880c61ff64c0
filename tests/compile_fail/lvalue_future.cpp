// A std::future cannot be copied: it must be passed with std::move.
// expect: is_an_lvalue_std_future_which_cannot_be_copied_pass_it_with_std_move
// expect-GNU: bad_call::argument<1, std::future<int>&>::
// expect-Clang: bad_call::argument<1, std::future<int> &>::
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
