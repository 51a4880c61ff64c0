#include <settle/settle.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/catch.hpp"
#include "support/second_translation_unit.hpp"

#ifndef SETTLE_VERSION_MAJOR
#error "<settle/settle.hpp> must include <settle/version.hpp>"
#endif

// The umbrella header brings in the whole public API.
static_assert(std::is_enum_v<settle::status>);
static_assert(std::is_class_v<settle::settled<int>>);
static_assert(std::is_class_v<settle::aggregate_error>);
static_assert(std::is_class_v<settle::cancelled>);
static_assert(std::is_class_v<settle::empty_race>);
static_assert(std::is_class_v<settle::pool_options>);
static_assert(settle::executor<settle::thread_pool>);
static_assert(settle::executor<settle::inline_executor>);
static_assert(settle::task<int (*)()>);

namespace {

// The seed's example: three independent fetches of ~1 round trip each.
struct user {
  std::string name;
};
struct post {
  std::string title;
};
struct comment {
  std::string text;
};

user fetch_user() { return {"ada"}; }
std::vector<post> fetch_posts() { throw std::runtime_error("posts service is down"); }
std::vector<comment> fetch_comments() { return {{"first!"}, {"nice"}}; }

}  // namespace

TEST_CASE("the seed example: allSettled over three fetches, with getSettledValue defaults",
          "[unit]") {
  // const [user, posts, comments] = await Promise.allSettled([fetchUser(), fetchPosts(),
  // fetchComments()])
  auto [u, posts, comments] = settle::all_settled(fetch_user, fetch_posts, fetch_comments);

  REQUIRE(u.status() == settle::status::fulfilled);
  CHECK(u.value().name == "ada");
  REQUIRE(posts.status() == settle::status::rejected);
  CHECK(settle::describe(posts.reason()) == "posts service is down");

  // user: user.status === 'fulfilled' ? user.value : null
  const std::optional<user> maybe_user = settle::get_settled_value(u);
  CHECK(maybe_user.has_value());
  // posts: posts.status === 'fulfilled' ? posts.value : []
  CHECK(settle::get_settled_value(posts, std::vector<post>{}).empty());
  CHECK(settle::get_settled_value(comments, std::vector<comment>{}).size() == 2);
}

TEST_CASE("the seed's loop fix: map over ids instead of awaiting in a loop", "[unit]") {
  const std::vector<int> user_ids{1, 2, 3};
  const auto results = settle::all_settled(user_ids, [](int id) {
    if (id == 2) throw std::runtime_error("user 2 not found");
    return user{"user" + std::to_string(id)};
  });
  REQUIRE(results.size() == 3);
  CHECK(results[0].value().name == "user1");
  CHECK(results[1].is_rejected());
  CHECK(results[2].value().name == "user3");
}

TEST_CASE("Promise.all's fail-fast next to allSettled's partial results", "[unit]") {
  CHECK_THROWS_AS(settle::all(fetch_user, fetch_posts, fetch_comments), std::runtime_error);
  auto [u, p, c] = settle::all_settled(fetch_user, fetch_posts, fetch_comments);
  CHECK(u.is_fulfilled());
  CHECK(p.is_rejected());
  CHECK(c.is_fulfilled());
}

TEST_CASE("any and race from the umbrella header", "[unit]") {
  CHECK(settle::any([]() -> int { throw 1; }, [] { return 2; }) == 2);
  CHECK(settle::race(settle::inline_executor{}, [] { return 3; }, [] { return 4; }) == 3);
}

TEST_CASE("the headers link into several translation units and share one default executor",
          "[unit]") {
  CHECK(settle_test::default_executor_seen_from_another_translation_unit() ==
        &settle::default_executor());
  CHECK(settle_test::all_settled_from_another_translation_unit() == 42);
}
