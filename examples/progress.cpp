// A crawl of 200 pages, at most 16 at a time (settle::limit), with a progress bar on
// stderr drawn by settle::on_settled as each page settles. The callback runs on
// whichever thread settled the page, several at once, so the bar is thread-safe: an
// atomic count, and a mutex around the redraw. Every 37th page fails.
#include <settle/settle.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

constexpr std::size_t max_in_flight = 16;
std::atomic<std::size_t> in_flight{0}, peak_in_flight{0};

std::string fetch_page(int page) {
  const std::size_t now = ++in_flight;
  for (std::size_t peak = peak_in_flight; now > peak;) {
    if (peak_in_flight.compare_exchange_weak(peak, now)) break;
  }
  std::this_thread::sleep_for(40ms);  // one request to the site
  --in_flight;
  if (page % 37 == 0) throw std::runtime_error("page " + std::to_string(page) + ": HTTP 503");
  return "<html>page " + std::to_string(page) + "</html>";
}

class progress_bar {
 public:
  explicit progress_bar(std::size_t total) : total_(total) {}
  void operator()(std::size_t /*index*/, settle::status s) {
    if (s == settle::status::rejected) ++failed_;
    const std::size_t done = ++done_;
    std::lock_guard lock(draw_);
    if (done <= drawn_) return;  // a later count is already on screen
    drawn_ = done;
    const std::size_t filled = done * 40 / total_;
    std::cerr << "\r[" << std::string(filled, '#') << std::string(40 - filled, '.') << "] " << done
              << '/' << total_ << " (" << failed_ << " failed)" << std::flush;
  }
  std::size_t done() const { return done_; }
  std::size_t failed() const { return failed_; }

 private:
  const std::size_t total_;
  std::atomic<std::size_t> done_{0}, failed_{0};
  std::mutex draw_;
  std::size_t drawn_ = 0;  // guarded by draw_
};

int main() {
  std::vector<int> pages(200);
  std::iota(pages.begin(), pages.end(), 1);

  progress_bar bar(pages.size());
  // on_settled stores a std::function, which copies: hand it a reference to the one bar.
  auto results = settle::all_settled(
      settle::limit(max_in_flight) | settle::on_settled(std::ref(bar)), pages, fetch_page);
  std::cerr << '\n';

  std::size_t fetched = 0;
  std::string failed;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i])
      ++fetched;
    else
      failed += " " + std::to_string(pages[i]);
  }
  std::cout << "pages fetched: " << fetched << " of " << pages.size() << '\n'
            << "failed: " << results.size() - fetched << " (pages" << failed << ")\n"
            << "progress reports: " << bar.done() << ", failures reported: " << bar.failed() << '\n'
            << "peak concurrency: " << peak_in_flight << " (limit " << max_in_flight << ")\n";
}
