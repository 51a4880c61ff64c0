// The loopback HTTP server that examples/http_fetch and settle_bench --io http share: it must
// answer, and it must survive what real clients do (give up, send garbage, hang up mid-answer).
#include "loopback_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string>
#include <system_error>

#include <settle/all_settled.hpp>
#include <settle/options.hpp>

#include "support/catch.hpp"

using namespace std::chrono_literals;

namespace {

std::string get(std::uint16_t port, const std::string& path) {
  return loopback_exchange({}, port, "GET " + path + " HTTP/1.0\r\n\r\n");
}

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string body(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// A raw client for the misbehaving ones: connected, nothing sent yet.
struct raw_client {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  explicit raw_client(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    REQUIRE(fd >= 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~raw_client() { hang_up(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;
  void send(const std::string& s) const {
    REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
  }
  void hang_up() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

TEST_CASE("a GET is answered with the endpoint's body, an unknown path with 404") {
  loopback_http server({{"/hello", {0ms, "hello\n"}}});
  server.start();
  const std::string ok = get(server.port(), "/hello");
  CHECK(status_line(ok) == "HTTP/1.0 200 OK");
  CHECK(body(ok) == "hello\n");
  CHECK(status_line(get(server.port(), "/nowhere")) == "HTTP/1.0 404 Not Found");
}

TEST_CASE("a slow request cut by a stop token returns at the deadline, and the server goes on") {
  loopback_http server({{"/slow", {5000ms, "late\n"}}, {"/fast", {0ms, "fast\n"}}});
  server.start();
  const auto t0 = std::chrono::steady_clock::now();
  auto [slow] = settle::all_settled(settle::timeout(100ms), [&](std::stop_token stop) {
    return loopback_exchange(stop, server.port(), "GET /slow HTTP/1.0\r\n\r\n");
  });
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK_THROWS_AS(slow.value(), settle::timed_out);
  CHECK(took < 2s);  // the client polls its token every 10 ms; 2 s is far from 5 s
  CHECK(body(get(server.port(), "/fast")) == "fast\n");
}

TEST_CASE("a request stopped before it is sent throws operation_canceled without waiting") {
  loopback_http server({{"/slow", {5000ms, "late\n"}}});
  server.start();
  std::stop_source stopped;
  stopped.request_stop();
  try {
    (void)loopback_exchange(stopped.get_token(), server.port(), "GET /slow HTTP/1.0\r\n\r\n");
    FAIL("loopback_exchange returned");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::operation_canceled);
  }
}

TEST_CASE("a malformed request line gets 400, and the server still answers the next one") {
  loopback_http server({{"/a", {0ms, "a\n"}}});
  server.start();
  for (const char* bad : {"BREW /pot HTCPCP/1.0\r\n\r\n", "GET /a HTTP/1.0 extra\r\n\r\n",
                          "GET a HTTP/1.0\r\n\r\n", "GET /a\r\n\r\n", "\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(status_line(loopback_exchange({}, server.port(), bad)) == "HTTP/1.0 400 Bad Request");
  }
  // No blank line within 8 KiB: the server stops reading and judges what it has.
  CHECK(status_line(loopback_exchange({}, server.port(), std::string(9000, 'x'))) ==
        "HTTP/1.0 400 Bad Request");
  CHECK(body(get(server.port(), "/a")) == "a\n");
}

TEST_CASE("clients that hang up early, even mid-response, do not take the server down") {
  // 32 MiB cannot fit in loopback socket buffers: the handler is still sending when the
  // client leaves, so its send fails (EPIPE / ECONNRESET, never a SIGPIPE).
  loopback_http server({{"/big", {0ms, std::string(32u << 20, 'b')}}, {"/a", {0ms, "a\n"}}});
  server.start();
  {
    raw_client silent(server.port());  // connects, says nothing, leaves
  }
  for (int i = 0; i < 3; ++i) {
    raw_client c(server.port());
    c.send("GET /big HTTP/1.0\r\n\r\n");
    char buf[4096];
    std::size_t got = 0;
    while (got < 64 * 1024) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      REQUIRE(n > 0);
      got += static_cast<std::size_t>(n);
    }
    c.hang_up();  // with unread data: the kernel resets the connection
  }
  CHECK(body(get(server.port(), "/a")) == "a\n");
}

TEST_CASE("stop() returns promptly with a slow request in flight") {
  loopback_http server({{"/slow", {10'000ms, "late\n"}}});
  server.start();
  raw_client c(server.port());
  c.send("GET /slow HTTP/1.0\r\n\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  server.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  server.stop();  // idempotent
}
