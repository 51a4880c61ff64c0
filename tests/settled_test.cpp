#include <settle/settled.hpp>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "support/catch.hpp"
#include "support/probes.hpp"

using settle::settled;
using settle_test::counted;
using settle_test::counters;
using settle_test::move_only;
using settle_test::not_std_exception;
using settle_test::test_error;

namespace {

template <class E>
std::exception_ptr eptr(E e) {
  return std::make_exception_ptr(std::move(e));
}

// Requires-expressions only answer "false" for an invalid expression in a template
// context; outside one the expression is a hard error. Hence these small concepts.
template <class R, class U>
concept has_value_or = requires(R&& r, U&& u) { std::forward<R>(r).value_or(std::forward<U>(u)); };
template <class R>
concept has_get_settled_value = requires(R&& r) { settle::get_settled_value(std::forward<R>(r)); };
template <class R, class U>
concept has_get_settled_value_or =
    requires(R&& r, U&& u) { settle::get_settled_value(std::forward<R>(r), std::forward<U>(u)); };

}  // namespace

// ---- the type -------------------------------------------------------------------------------

// Copyable when T is, movable when T is.
static_assert(std::is_copy_constructible_v<settled<int>>);
static_assert(std::is_copy_assignable_v<settled<int>>);
static_assert(std::is_move_constructible_v<settled<int>>);
static_assert(std::is_move_assignable_v<settled<int>>);
static_assert(std::is_copy_constructible_v<settled<std::string>>);
static_assert(std::is_copy_constructible_v<settled<void>>);
static_assert(std::is_copy_assignable_v<settled<void>>);
static_assert(std::is_move_constructible_v<settled<void>>);
static_assert(!std::is_copy_constructible_v<settled<move_only>>);
static_assert(!std::is_copy_assignable_v<settled<move_only>>);
static_assert(std::is_move_constructible_v<settled<move_only>>);
static_assert(std::is_move_assignable_v<settled<move_only>>);

// There is no empty state, hence no default constructor.
static_assert(!std::is_default_constructible_v<settled<int>>);
static_assert(!std::is_default_constructible_v<settled<void>>);

// The observers.
static_assert(
    std::is_same_v<decltype(std::declval<const settled<int>&>().status()), settle::status>);
static_assert(noexcept(std::declval<const settled<int>&>().status()));
static_assert(noexcept(std::declval<const settled<int>&>().is_fulfilled()));
static_assert(noexcept(std::declval<const settled<int>&>().is_rejected()));
static_assert(noexcept(std::declval<const settled<int>&>().reason()));
static_assert(noexcept(std::declval<const settled<void>&>().reason()));
static_assert(
    std::is_same_v<decltype(std::declval<const settled<int>&>().reason()), std::exception_ptr>);
// operator bool is explicit.
static_assert(std::is_constructible_v<bool, settled<int>>);
static_assert(!std::is_convertible_v<settled<int>, bool>);
static_assert(!std::is_convertible_v<settled<void>, bool>);

// value() by value category.
static_assert(std::is_same_v<decltype(std::declval<settled<int>&>().value()), int&>);
static_assert(std::is_same_v<decltype(std::declval<const settled<int>&>().value()), const int&>);
static_assert(std::is_same_v<decltype(std::declval<settled<int>&&>().value()), int&&>);
static_assert(std::is_same_v<decltype(std::declval<settled<move_only>&&>().value()), move_only&&>);
static_assert(std::is_void_v<decltype(std::declval<settled<void>&>().value())>);
static_assert(std::is_void_v<decltype(std::declval<const settled<void>&>().value())>);

// value_or returns T, not for void; the lvalue form needs a copyable T.
static_assert(std::is_same_v<decltype(std::declval<settled<long>&>().value_or(1)), long>);
static_assert(
    std::is_same_v<decltype(std::declval<settled<std::string>&&>().value_or("x")), std::string>);
static_assert(has_value_or<settled<int>&, int>);
static_assert(!has_value_or<settled<void>&, int>);
static_assert(!has_value_or<settled<void>, int>);
static_assert(has_value_or<settled<move_only>, move_only>);
static_assert(!has_value_or<settled<move_only>&, move_only>);

// The factories.
static_assert(std::is_same_v<decltype(settle::make_fulfilled(1)), settled<int>>);
static_assert(std::is_same_v<decltype(settle::make_fulfilled(std::declval<const std::string&>())),
                             settled<std::string>>);
static_assert(std::is_same_v<decltype(settle::make_fulfilled()), settled<void>>);
static_assert(
    std::is_same_v<decltype(settle::make_rejected<int>(std::exception_ptr{})), settled<int>>);
static_assert(
    std::is_same_v<decltype(settle::make_rejected<void>(std::exception_ptr{})), settled<void>>);

// get_settled_value: both forms, not for void.
static_assert(
    std::is_same_v<decltype(settle::get_settled_value(std::declval<settled<int>&>(), 0)), int>);
static_assert(std::is_same_v<decltype(settle::get_settled_value(std::declval<settled<int>&>())),
                             std::optional<int>>);
static_assert(has_get_settled_value<settled<int>&>);
static_assert(has_get_settled_value_or<settled<int>&, int>);
static_assert(!has_get_settled_value<settled<void>&>);
static_assert(!has_get_settled_value_or<settled<void>&, int>);

// describe never throws.
static_assert(noexcept(settle::describe(std::exception_ptr{})));
static_assert(std::is_same_v<decltype(settle::describe(std::exception_ptr{})), std::string>);

// ---- observers ------------------------------------------------------------------------------

TEST_CASE("a fulfilled settled<int> reports fulfilled and holds its value", "[unit]") {
  const settled<int> r = settle::make_fulfilled(42);
  CHECK(r.status() == settle::status::fulfilled);
  CHECK(r.is_fulfilled());
  CHECK_FALSE(r.is_rejected());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 42);
  CHECK(r.reason() == nullptr);
}

TEST_CASE("a rejected settled<int> reports rejected and rethrows its reason from value()",
          "[unit]") {
  const settled<int> r = settle::make_rejected<int>(eptr(test_error("boom", 7)));
  CHECK(r.status() == settle::status::rejected);
  CHECK(r.is_rejected());
  CHECK_FALSE(r.is_fulfilled());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.reason() != nullptr);
  REQUIRE_THROWS_AS(r.value(), test_error);
  try {
    (void)r.value();
  } catch (const test_error& e) {
    CHECK(e.code == 7);
    CHECK(std::string(e.what()) == "boom");
  }
}

TEST_CASE("value() of a rejected result rethrows from every value category", "[unit]") {
  settled<int> r = settle::make_rejected<int>(eptr(test_error("x", 1)));
  const settled<int>& cr = r;
  CHECK_THROWS_AS(r.value(), test_error);
  CHECK_THROWS_AS(cr.value(), test_error);
  CHECK_THROWS_AS(std::move(r).value(), test_error);
}

TEST_CASE("value() gives access by value category: modify, read, move out", "[unit]") {
  settled<move_only> r = settle::make_fulfilled(move_only(5));
  CHECK(r.value().value() == 5);

  r.value() = move_only(6);  // T&: assign through it
  const settled<move_only>& cr = r;
  CHECK(cr.value().value() == 6);  // const T&

  move_only taken = std::move(r).value();  // T&&: moves the value out
  CHECK(taken.value() == 6);
  CHECK_FALSE(r.value().has_value());  // NOLINT(bugprone-use-after-move): the moved-from value
}

TEST_CASE("settled<void> value() returns when fulfilled and rethrows when rejected", "[unit]") {
  const settled<void> ok = settle::make_fulfilled();
  CHECK(ok.is_fulfilled());
  CHECK(ok.status() == settle::status::fulfilled);
  CHECK(ok.reason() == nullptr);
  CHECK_NOTHROW(ok.value());

  const settled<void> bad = settle::make_rejected<void>(eptr(test_error("void failed", 3)));
  CHECK(bad.is_rejected());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK_THROWS_AS(bad.value(), test_error);
}

TEST_CASE("reason() is the exact exception object the task threw", "[unit]") {
  const std::exception_ptr thrown = eptr(test_error("original", 99));
  const settled<std::string> r = settle::make_rejected<std::string>(thrown);
  CHECK(r.reason() == thrown);  // the same object, not a copy of it
  try {
    std::rethrow_exception(r.reason());
  } catch (const test_error& e) {
    CHECK(e.code == 99);
    CHECK(std::string(e.what()) == "original");
  } catch (...) {
    FAIL("rethrow_exception(reason()) threw another type");
  }
}

TEST_CASE("a reason of any thrown type is kept, not only std::exception", "[unit]") {
  const settled<int> r = settle::make_rejected<int>(eptr(not_std_exception{17}));
  try {
    (void)r.value();
    FAIL("value() did not throw");
  } catch (const not_std_exception& e) {
    CHECK(e.code == 17);
  }
  const settled<int> r42 = settle::make_rejected<int>(eptr(42));
  REQUIRE_THROWS_AS(r42.value(), int);
}

// ---- value_or / get_settled_value ----------------------------------------------------------

TEST_CASE("value_or returns the value when fulfilled and T(u) when rejected", "[unit]") {
  const settled<long> ok = settle::make_fulfilled(5L);
  const settled<long> bad = settle::make_rejected<long>(eptr(test_error("x", 0)));
  CHECK(ok.value_or(7) == 5L);
  CHECK(bad.value_or(7) == 7L);

  const settled<std::string> sbad = settle::make_rejected<std::string>(eptr(42));
  CHECK(sbad.value_or("fallback") == "fallback");
}

TEST_CASE("value_or on an lvalue copies the value and leaves the result intact", "[unit]") {
  counters c;
  {
    settled<counted> r = settle::make_fulfilled(counted(c, 3));
    const int copies_before = c.copied;
    const counted v = r.value_or(counted(c, 0));
    CHECK(v.value() == 3);
    CHECK(c.copied == copies_before + 1);
    CHECK(r.value().value() == 3);
  }
  CHECK(c.live() == 0);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("value_or on an rvalue moves the value out instead of copying it", "[unit]") {
  counters c;
  {
    settled<counted> r = settle::make_fulfilled(counted(c, 3));
    const int copies_before = c.copied;
    const counted v = std::move(r).value_or(counted(c, 0));
    CHECK(v.value() == 3);
    CHECK(c.copied == copies_before);
  }
  CHECK(c.live() == 0);

  settled<move_only> m = settle::make_fulfilled(move_only(8));
  CHECK(std::move(m).value_or(move_only(0)).value() == 8);
  settled<move_only> mbad = settle::make_rejected<move_only>(eptr(1));
  CHECK(std::move(mbad).value_or(move_only(9)).value() == 9);
}

TEST_CASE("get_settled_value(r, default) mirrors getSettledValue(result, default)", "[unit]") {
  const settled<std::string> user = settle::make_fulfilled(std::string("ada"));
  const settled<std::string> failed =
      settle::make_rejected<std::string>(eptr(std::runtime_error("down")));
  CHECK(settle::get_settled_value(user, "nobody") == "ada");
  CHECK(settle::get_settled_value(failed, "nobody") == "nobody");

  settled<move_only> m = settle::make_fulfilled(move_only(4));
  CHECK(settle::get_settled_value(std::move(m), move_only(0)).value() == 4);
}

TEST_CASE("get_settled_value(r) gives the value or std::nullopt", "[unit]") {
  const settled<int> ok = settle::make_fulfilled(11);
  const settled<int> bad = settle::make_rejected<int>(eptr(test_error("x", 0)));
  const std::optional<int> a = settle::get_settled_value(ok);
  const std::optional<int> b = settle::get_settled_value(bad);
  REQUIRE(a.has_value());
  CHECK(*a == 11);
  CHECK_FALSE(b.has_value());
}

// ---- factories ------------------------------------------------------------------------------

TEST_CASE("make_fulfilled decays its argument and make_fulfilled() makes settled<void>", "[unit]") {
  const std::string name = "grace";
  const settled<std::string> r = settle::make_fulfilled(name);
  CHECK(r.value() == "grace");
  CHECK(name == "grace");  // copied from, not moved from

  const char* literal = "text";
  const auto p = settle::make_fulfilled(literal);
  STATIC_REQUIRE(std::is_same_v<decltype(p), const settled<const char*>>);
  CHECK(p.value() == literal);

  CHECK(settle::make_fulfilled().is_fulfilled());
}

TEST_CASE("make_rejected<T> stores the given exception as the reason", "[unit]") {
  const std::exception_ptr e = eptr(test_error("r", 5));
  const settled<int> r = settle::make_rejected<int>(e);
  CHECK(r.is_rejected());
  CHECK(r.reason() == e);
  CHECK(settle_test::code_of(r.reason()) == 5);
}

TEST_CASE("make_rejected with a null reason throws std::invalid_argument", "[unit]") {
  // A rejection without an exception could not be rethrown by value().
  CHECK_THROWS_AS(settle::make_rejected<int>(nullptr), std::invalid_argument);
  CHECK_THROWS_AS(settle::make_rejected<void>(std::exception_ptr{}), std::invalid_argument);
}

// ---- copy and move --------------------------------------------------------------------------

TEST_CASE("copies and moves of settled<T> keep value and reason, and destroy each object once",
          "[unit]") {
  counters c;
  {
    settled<counted> a = settle::make_fulfilled(counted(c, 1));
    settled<counted> b = a;  // copy
    CHECK(b.value().value() == 1);
    CHECK(a.value().value() == 1);
    settled<counted> moved = std::move(b);
    CHECK(moved.value().value() == 1);

    settled<counted> rejected = settle::make_rejected<counted>(eptr(test_error("x", 2)));
    rejected = a;  // rejected -> fulfilled
    CHECK(rejected.value().value() == 1);
    a = settle::make_rejected<counted>(eptr(test_error("y", 3)));  // fulfilled -> rejected
    CHECK(a.is_rejected());
    CHECK(settle_test::code_of(a.reason()) == 3);
    settled<counted> copy_of_rejected = a;
    CHECK(settle_test::code_of(copy_of_rejected.reason()) == 3);
  }
  CHECK(c.live() == 0);
  CHECK(c.destroyed_twice == 0);
}

TEST_CASE("a settled<move_only> can be moved into another", "[unit]") {
  settled<move_only> a = settle::make_fulfilled(move_only(3));
  settled<move_only> b = std::move(a);
  CHECK(b.value().value() == 3);
  settled<move_only> c = settle::make_rejected<move_only>(eptr(1));
  c = std::move(b);
  CHECK(c.value().value() == 3);
}

// ---- describe -------------------------------------------------------------------------------

TEST_CASE("describe() gives what() of a std::exception", "[unit]") {
  CHECK(settle::describe(eptr(std::runtime_error("disk full"))) == "disk full");
  CHECK(settle::describe(eptr(test_error("custom", 1))) == "custom");
}

TEST_CASE("describe() says \"unknown exception\" for a thrown non-std::exception", "[unit]") {
  CHECK(settle::describe(eptr(42)) == "unknown exception");
  CHECK(settle::describe(eptr(not_std_exception{1})) == "unknown exception");
  std::exception_ptr thrown_int;
  try {
    throw 42;
  } catch (...) {
    thrown_int = std::current_exception();
  }
  CHECK(settle::describe(thrown_int) == "unknown exception");
}

TEST_CASE("describe() of a null exception_ptr is the empty string", "[unit]") {
  CHECK(settle::describe(nullptr).empty());
  CHECK(settle::describe(settle::make_fulfilled(1).reason()).empty());
}
