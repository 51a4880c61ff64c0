// Uses settle through add_subdirectory(): two tasks on a pool of its own, one rejects.
#include <settle/settle.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

int main() {
  settle::thread_pool pool(2);
  auto [greeting, failure] = settle::all_settled(
      pool, [] { return std::string("hello"); }, []() -> int { throw std::logic_error("bad id"); });

  if (greeting.status() != settle::status::fulfilled || greeting.value() != "hello") {
    std::puts("FAIL: the first task should have fulfilled with \"hello\"");
    return 1;
  }
  if (failure.status() != settle::status::rejected || failure.value_or(-1) != -1 ||
      settle::describe(failure.reason()) != "bad id") {
    std::puts("FAIL: the second task should have rejected with \"bad id\"");
    return 1;
  }
  std::puts("add_subdirectory consumer: OK");
  return 0;
}
