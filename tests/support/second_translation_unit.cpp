// A second translation unit of settle_test that includes every header and instantiates the
// combinators. Linking it with settle_test.cpp proves that the headers define nothing
// twice (everything is inline or a template), and lets the test compare the default
// executor seen from both translation units.
#include <settle/settle.hpp>

#include <string>

#include "support/second_translation_unit.hpp"

namespace settle_test {

settle::thread_pool* default_executor_seen_from_another_translation_unit() {
  return &settle::default_executor();
}

int all_settled_from_another_translation_unit() {
  auto [a, b] = settle::all_settled([] { return 20; }, [] { return std::string("22"); });
  return a.value() + std::stoi(b.value());
}

}  // namespace settle_test
