// Uses settle through find_package(settle CONFIG REQUIRED): one task fulfills, one rejects.
#include <settle/settle.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

int main() {
  auto [answer, failure] = settle::all_settled(
      [] { return 42; }, []() -> std::string { throw std::runtime_error("no such user"); });

  if (!answer.is_fulfilled() || answer.value() != 42) {
    std::puts("FAIL: the first task should have fulfilled with 42");
    return 1;
  }
  if (!failure.is_rejected() || settle::describe(failure.reason()) != "no such user") {
    std::puts("FAIL: the second task should have rejected with \"no such user\"");
    return 1;
  }
  std::puts("find_package consumer: OK");
  return 0;
}
