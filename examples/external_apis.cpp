// Pattern 4: parallel external API calls.
// Weather, news and stocks are fetched at once; the stocks API is rate limiting
// us, so its part of the response is null and the other two are served.
#include <settle/settle.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct http_error : std::runtime_error {
  int status;
  http_error(int code, const std::string& url)
      : std::runtime_error("HTTP " + std::to_string(code) + " from " + url), status(code) {}
};

// fetch(url).then(r => r.json()): a pretend HTTP client that returns the body.
std::string fetch_json(const std::string& url, std::chrono::milliseconds latency) {
  std::this_thread::sleep_for(latency);
  if (url.find("stocks") != std::string::npos) throw http_error(429, url);
  if (url.find("weather") != std::string::npos) return R"({"city":"Oslo","celsius":-3})";
  return R"(["settle 1.0 released","C++20 everywhere"])";
}

int main() {
  const auto t0 = std::chrono::steady_clock::now();
  auto [weather, news, stocks] =
      settle::all_settled([] { return fetch_json("https://api.weather.example/today", 40ms); },
                          [] { return fetch_json("https://api.news.example/top", 30ms); },
                          [] { return fetch_json("https://api.stocks.example/quotes", 20ms); });
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);

  // Response.json({ weather: ... ?? null, news: ... ?? [], stocks: ... ?? null })
  std::cout << "{\"weather\":" << settle::get_settled_value(weather, std::string("null"))
            << ",\"news\":" << settle::get_settled_value(news, std::string("[]"))
            << ",\"stocks\":" << settle::get_settled_value(stocks, std::string("null")) << "}\n";

  // The reason is the exception object the call threw, with its own fields.
  for (const auto* r : {&weather, &news, &stocks}) {
    if (r->is_fulfilled()) continue;
    try {
      std::rethrow_exception(r->reason());
    } catch (const http_error& e) {
      std::cout << "failed: " << e.what() << " (status " << e.status << ")\n";
    }
  }
  std::cout << "3 calls answered in " << ms.count() << " ms (slowest 40 ms)\n";
}
