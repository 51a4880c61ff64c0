#include <settle/version.hpp>

#include <string>

#include "support/catch.hpp"

// The macros must be usable by the preprocessor, not only by the compiler.
#if !defined(SETTLE_VERSION_MAJOR) || !defined(SETTLE_VERSION_MINOR) || \
    !defined(SETTLE_VERSION_PATCH) || !defined(SETTLE_VERSION)
#error "settle/version.hpp must define SETTLE_VERSION_MAJOR, _MINOR, _PATCH and SETTLE_VERSION"
#endif
#if SETTLE_VERSION != \
    SETTLE_VERSION_MAJOR * 10000 + SETTLE_VERSION_MINOR * 100 + SETTLE_VERSION_PATCH
#error "SETTLE_VERSION must be major * 10000 + minor * 100 + patch"
#endif

TEST_CASE("the version macros match the CMake project version", "[unit]") {
  STATIC_REQUIRE(SETTLE_VERSION_MAJOR == SETTLE_TEST_EXPECTED_MAJOR);
  STATIC_REQUIRE(SETTLE_VERSION_MINOR == SETTLE_TEST_EXPECTED_MINOR);
  STATIC_REQUIRE(SETTLE_VERSION_PATCH == SETTLE_TEST_EXPECTED_PATCH);
}

TEST_CASE("settle::version_string spells the version macros as major.minor.patch", "[unit]") {
  const std::string expected = std::to_string(SETTLE_VERSION_MAJOR) + "." +
                               std::to_string(SETTLE_VERSION_MINOR) + "." +
                               std::to_string(SETTLE_VERSION_PATCH);
  CHECK(std::string(settle::version_string) == expected);
}
