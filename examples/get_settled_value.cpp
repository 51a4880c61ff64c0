// The seed's "Handling Results" section: checking each result, destructuring with
// a status check, and the getSettledValue helper (settle::get_settled_value).
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct user {
  std::string name;
};
using posts = std::vector<std::string>;
using comments = std::vector<std::string>;

user fetch_user() {
  std::this_thread::sleep_for(30ms);
  return {"ada"};
}
posts fetch_posts() {
  std::this_thread::sleep_for(20ms);
  throw std::runtime_error("posts: connection reset");
}
comments fetch_comments() {
  std::this_thread::sleep_for(10ms);
  return {"first!", "+1"};
}

int main() {
  auto [u, p, c] = settle::all_settled(fetch_user, fetch_posts, fetch_comments);

  // Check individual results: if (user.status === 'fulfilled') ... else console.error(...)
  if (u.status() == settle::status::fulfilled) {
    std::cout << "user: " << u.value().name << '\n';
  } else {
    std::cout << "User fetch failed: " << settle::describe(u.reason()) << '\n';
  }
  if (p.is_rejected()) std::cout << "Posts fetch failed: " << settle::describe(p.reason()) << '\n';

  // Destructuring with a status check: result.status === 'fulfilled' ? result.value : default
  const posts posts_or_empty = p.is_fulfilled() ? p.value() : posts{};
  std::cout << "posts (status check): " << posts_or_empty.size() << '\n';

  // The helper: getSettledValue(result, defaultValue)
  std::optional<user> user_data = settle::get_settled_value(u);  // null default: std::nullopt
  posts posts_data = settle::get_settled_value(p, posts{});
  comments comments_data = settle::get_settled_value(c, comments{});
  std::cout << "userData: " << (user_data ? user_data->name : "null") << '\n'
            << "postsData: " << posts_data.size() << " posts\n"
            << "commentsData:";
  for (const std::string& text : comments_data) std::cout << " \"" << text << '"';
  std::cout << '\n';

  // value_or is the member spelling of the same thing; value() rethrows the reason.
  std::cout << "value_or: " << p.value_or(posts{"(none)"}).front() << '\n';
  try {
    (void)p.value();
  } catch (const std::runtime_error& e) {
    std::cout << "value() rethrew: " << e.what() << '\n';
  }
}
