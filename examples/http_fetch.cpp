// Real I/O: three HTTP requests over loopback TCP at once, within a 300 ms budget.
// /slow would answer after 2 s; at the deadline its fetch sees its stop token, hangs
// up, and settles timed_out, so the call returns at the budget. loopback_exchange
// polls the socket for at most 10 ms at a time: that is how a blocking read honours a token.
#include <settle/settle.hpp>

#include "loopback_http.hpp"

#include <chrono>
#include <exception>
#include <iostream>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;

int main() {
  loopback_http server({{"/fast", {0ms, "fast answer\n"}}, {"/slow", {2000ms, "slow answer\n"}}});
  server.start();
  const std::vector<std::string> paths{"/fast", "/missing", "/slow"};

  const auto t0 = std::chrono::steady_clock::now();
  auto replies = settle::all_settled(
      settle::timeout(300ms), paths, [&](std::stop_token stop, const std::string& path) {
        return loopback_exchange(stop, server.port(), "GET " + path + " HTTP/1.0\r\n\r\n");
      });
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);

  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::cout << "GET " << paths[i] << ": ";
    try {
      const std::string& r = replies[i].value();
      std::cout << r.substr(0, r.find("\r\n")) << ", " << r.size() - r.find("\r\n\r\n") - 4
                << " bytes of body\n";
    } catch (const settle::timed_out&) {
      std::cout << "timed out, connection closed by the client\n";
    } catch (const std::exception& e) {
      std::cout << "failed: " << e.what() << '\n';
    }
  }
  // Generous checks: a loaded machine may be late by a few hundred ms, not by 2 s.
  std::cout << "answered in ~" << (ms.count() + 5) / 10 * 10
            << " ms (budget 300 ms, /slow takes 2000 ms)\n"
            << "cut off at the budget: " << (ms < 300ms + 750ms ? "yes" : "NO") << '\n';
  const std::string bad =
      loopback_exchange({}, server.port(), "BREW /pot HTCPCP/1.0 extra\r\n\r\n");
  std::cout << "malformed request: " << bad.substr(0, bad.find("\r\n")) << '\n';

  const auto t1 = std::chrono::steady_clock::now();
  server.stop();  // /slow's handler is still in its 2 s latency: stop wakes it
  std::cout << "server stopped promptly: "
            << (std::chrono::steady_clock::now() - t1 < 750ms ? "yes" : "NO") << '\n';
}
