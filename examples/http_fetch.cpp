// Real I/O: three HTTP requests over loopback TCP at once, within a 300 ms budget.
// /slow would answer after 2 s; at the deadline its fetch sees its stop token, hangs
// up, and settles timed_out, so the call returns at the budget. Each wait on the
// socket is a poll of at most 10 ms: that is how a blocking read honours a token.
#include <settle/settle.hpp>

#include "loopback_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <iostream>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;

// Sends `request` to 127.0.0.1:port and returns the whole response (HTTP/1.0: the server
// closes the connection after it). Gives up within 10 ms of `stop` being signalled.
std::string exchange(std::stop_token stop, std::uint16_t port, const std::string& request) {
  struct socket_fd {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ~socket_fd() { ::close(fd); }  // hanging up is how the server learns we left
  } s;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    throw std::system_error(errno, std::generic_category(), "connect/send");
  }
  std::string response;
  char buf[4096];
  for (pollfd p{s.fd, POLLIN, 0}; !stop.stop_requested();) {
    if (::poll(&p, 1, 10) <= 0) continue;  // nothing yet (or EINTR): look at the token again
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
    if (n == 0) return response;
    response.append(buf, static_cast<std::size_t>(n));
  }
  throw settle::cancelled();  // the outcome is dropped: the call has already settled
}

int main() {
  loopback_http server({{"/fast", {0ms, "fast answer\n"}}, {"/slow", {2000ms, "slow answer\n"}}});
  server.start();
  const std::vector<std::string> paths{"/fast", "/missing", "/slow"};

  const auto t0 = std::chrono::steady_clock::now();
  auto replies = settle::all_settled(
      settle::timeout(300ms), paths, [&](std::stop_token stop, const std::string& path) {
        return exchange(stop, server.port(), "GET " + path + " HTTP/1.0\r\n\r\n");
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
  const std::string bad = exchange({}, server.port(), "BREW /pot HTCPCP/1.0 extra\r\n\r\n");
  std::cout << "malformed request: " << bad.substr(0, bad.find("\r\n")) << '\n';

  const auto t1 = std::chrono::steady_clock::now();
  server.stop();  // /slow's handler is still in its 2 s latency: stop wakes it
  std::cout << "server stopped promptly: "
            << (std::chrono::steady_clock::now() - t1 < 750ms ? "yes" : "NO") << '\n';
}
