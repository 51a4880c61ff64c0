// Pattern 2: a server action with parallel validation.
// The three checks run at once; like the seed, the action then rethrows the first
// rejected check (in argument order, not in the order the checks finished).
#include <settle/settle.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

struct form_data {
  std::string title, content;
  std::size_t image_bytes;
};

struct validation_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

void validate_title(const std::string& title) {
  std::this_thread::sleep_for(40ms);  // e.g. a uniqueness lookup; the slowest check
  if (title.empty()) throw validation_error("title must not be empty");
}
void validate_content(const std::string& content) {
  std::this_thread::sleep_for(20ms);
  if (content.size() < 10) throw validation_error("content is shorter than 10 characters");
}
void validate_image(std::size_t bytes) {
  std::this_thread::sleep_for(10ms);  // finishes first, but is reported last
  if (bytes > 1'000'000) throw validation_error("image is larger than 1 MB");
}

int next_post_id = 1;

int create_post(const form_data& form) {
  auto [title_valid, content_valid, image_valid] = settle::all_settled(
      [&] { validate_title(form.title); }, [&] { validate_content(form.content); },
      [&] { validate_image(form.image_bytes); });

  std::cout << "  checks: title " << (title_valid ? "ok" : "rejected") << ", content "
            << (content_valid ? "ok" : "rejected") << ", image "
            << (image_valid ? "ok" : "rejected") << '\n';
  if (title_valid.is_rejected()) std::rethrow_exception(title_valid.reason());
  if (content_valid.is_rejected()) std::rethrow_exception(content_valid.reason());
  if (image_valid.is_rejected()) std::rethrow_exception(image_valid.reason());

  return next_post_id++;  // db.post.create(...) would go here
}

int main() {
  const form_data forms[] = {
      {"Parallel checks", "Three validations, one round trip.", 200'000},
      {"", "Too short", 5'000'000},
      {"Big picture", "A fine post with a picture that is too big.", 3'000'000},
  };
  for (const form_data& form : forms) {
    std::cout << "createPost(\"" << form.title << "\")\n";
    try {
      const int id = create_post(form);
      std::cout << "  created post #" << id << '\n';
    } catch (const validation_error& e) {
      std::cout << "  rejected: " << e.what() << '\n';
    }
  }
}
