// The one place that knows which Catch2 is in use. Tests include "support/catch.hpp" and
// use only the macros that Catch2 v2 and v3 share (TEST_CASE, SECTION, REQUIRE, CHECK,
// REQUIRE_THROWS_AS, STATIC_REQUIRE, ...). tests/CMakeLists.txt defines SETTLE_CATCH2_V3
// when it found Catch2 3.
#pragma once

#if defined(SETTLE_CATCH2_V3)
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif
