// Uses settle through pkg-config (no CMake): one task fulfills, one rejects.
#include <settle/settle.hpp>

#include <cstdio>
#include <stdexcept>

int main() {
  auto [sum, failure] = settle::all_settled(
      [] { return 1 + 2; }, []() -> double { throw std::runtime_error("timeout"); });

  if (!sum || sum.value() != 3) {
    std::puts("FAIL: the first task should have fulfilled with 3");
    return 1;
  }
  if (failure || settle::describe(failure.reason()) != "timeout") {
    std::puts("FAIL: the second task should have rejected with \"timeout\"");
    return 1;
  }
  std::puts("pkg-config consumer: OK");
  return 0;
}
