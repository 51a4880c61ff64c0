// Start now, collect later: the seed's three fetches start at once with settle::start, the
// page header is rendered while they run, and the results are collected afterwards. Like
// `const p = Promise.allSettled([...]); renderHeader(); const results = await p;` in
// JavaScript. The timings show the overlap: the whole page takes about as long as the
// slowest fetch, not the fetches plus the header.
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct user {
  std::string name;
};
using posts = std::vector<std::string>;
struct comment_count {
  int n;
};

// Simulated I/O: each call takes its latency, and one of them fails.
user fetch_user() {
  std::this_thread::sleep_for(100ms);
  return {"ada"};
}
posts fetch_posts() {
  std::this_thread::sleep_for(100ms);
  return {"hello", "settled"};
}
comment_count fetch_comments() {
  std::this_thread::sleep_for(100ms);
  throw std::runtime_error("comments service unavailable");
}

// Work the caller does meanwhile: it does not need the data.
std::string render_header() {
  std::this_thread::sleep_for(80ms);
  return "<header>settle</header>";
}

long long ms_since(clock_type::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
}

int main() {
  const auto t0 = clock_type::now();
  // Every fetch is handed to the pool here; start returns at once.
  auto page = settle::start(settle::all_settled, fetch_user, fetch_posts, fetch_comments);
  const auto started_ms = ms_since(t0);

  const std::string header = render_header();
  const auto header_ms = ms_since(t0);
  const bool still_fetching = !page.ready();

  auto [u, p, c] = page.get();  // collects; waits only for what is left
  const auto total_ms = ms_since(t0);

  std::cout << header << '\n'
            << "user: " << (u ? u.value().name : "unknown") << '\n'
            << "posts: " << settle::get_settled_value(p, posts{}).size() << '\n'
            << "comments: " << (c ? std::to_string(c.value().n) : "unavailable") << '\n';

  // Rounded to tens of ms; the checks are generous, since a loaded machine runs late.
  const auto tens = [](long long ms) { return (ms + 5) / 10 * 10; };
  std::cout << "start returned after ~" << tens(started_ms) << " ms\n"
            << "header rendered after ~" << tens(header_ms)
            << " ms, fetches still running: " << (still_fetching ? "yes" : "no") << '\n'
            << "page done after ~" << tens(total_ms) << " ms (one after another: ~380 ms)\n"
            << "header overlapped the fetches: " << (total_ms < 300 ? "yes" : "NO") << '\n';
}
