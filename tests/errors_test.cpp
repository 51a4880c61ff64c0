#include <settle/errors.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/catch.hpp"
#include "support/probes.hpp"

using settle_test::test_error;

static_assert(std::is_base_of_v<std::exception, settle::aggregate_error>);
static_assert(std::is_base_of_v<std::exception, settle::cancelled>);
static_assert(std::is_base_of_v<std::invalid_argument, settle::empty_race>);
static_assert(std::is_default_constructible_v<settle::cancelled>);
static_assert(std::is_default_constructible_v<settle::empty_race>);
static_assert(std::is_same_v<decltype(std::declval<const settle::aggregate_error&>().reasons()),
                             const std::vector<std::exception_ptr>&>);
static_assert(noexcept(std::declval<const settle::aggregate_error&>().reasons()));
static_assert(noexcept(std::declval<const settle::aggregate_error&>().what()));
static_assert(std::is_copy_constructible_v<settle::aggregate_error>);

TEST_CASE("aggregate_error keeps the reasons in the order given", "[unit]") {
  const settle::aggregate_error e({std::make_exception_ptr(test_error("a", 0)),
                                   std::make_exception_ptr(42),
                                   std::make_exception_ptr(test_error("c", 2))});
  REQUIRE(e.reasons().size() == 3);
  CHECK(settle_test::code_of(e.reasons()[0]) == 0);
  CHECK(settle_test::holds<int>(e.reasons()[1]));
  CHECK(settle_test::code_of(e.reasons()[2]) == 2);
}

TEST_CASE("aggregate_error has a message, also with no reasons", "[unit]") {
  const settle::aggregate_error some({std::make_exception_ptr(1)});
  const settle::aggregate_error none({});
  CHECK_FALSE(std::string(some.what()).empty());
  CHECK_FALSE(std::string(none.what()).empty());
  CHECK(none.reasons().empty());
}

TEST_CASE("a copied aggregate_error shares the same exception objects", "[unit]") {
  const std::exception_ptr first = std::make_exception_ptr(test_error("a", 1));
  const settle::aggregate_error e({first});
  const settle::aggregate_error copy = e;  // NOLINT(performance-unnecessary-copy-initialization)
  REQUIRE(copy.reasons().size() == 1);
  CHECK(copy.reasons()[0] == first);
  CHECK(std::string(copy.what()) == e.what());
}

TEST_CASE("aggregate_error, cancelled and empty_race can be caught as std::exception", "[unit]") {
  CHECK_THROWS_AS(throw settle::aggregate_error({}), std::exception);
  CHECK_THROWS_AS(throw settle::cancelled{}, std::exception);
  CHECK_THROWS_AS(throw settle::empty_race{}, std::invalid_argument);
  CHECK_FALSE(std::string(settle::cancelled{}.what()).empty());
  CHECK_FALSE(std::string(settle::empty_race{}.what()).empty());
}
