/// @file loopback_http.hpp
/// A tiny HTTP/1.0 server on 127.0.0.1 for examples, benchmarks and tests that need real
/// sockets: each endpoint answers a fixed body after a fixed latency. Beside it the
/// client they share, `loopback_exchange`. POSIX only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

/// Serves `GET <path>` on an ephemeral loopback port, one thread per connection.
/// Unknown paths get 404, a malformed request 400. `stop()` (or the destructor)
/// returns promptly: it wakes every handler, including one still in its latency,
/// which then answers 503, and joins every thread. A client may hang up at any
/// moment; its handler just ends.
class loopback_http {
 public:
  struct endpoint {
    std::chrono::milliseconds latency{0};
    std::string body;
  };

  explicit loopback_http(std::map<std::string, endpoint> endpoints)
      : endpoints_(std::move(endpoints)) {}
  loopback_http(const loopback_http&) = delete;
  loopback_http& operator=(const loopback_http&) = delete;
  ~loopback_http() { stop(); }

  /// Binds 127.0.0.1:0, listens and starts accepting; call it once. Throws
  /// std::system_error (the destructor still cleans up).
  void start() {
    if (::pipe(wake_) != 0) fail("pipe");
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) fail("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // the kernel picks a free port
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    socklen_t len = sizeof addr;
    if (::bind(listener_, sa, len) != 0) fail("bind");
    if (::listen(listener_, SOMAXCONN) != 0) fail("listen");
    if (::getsockname(listener_, sa, &len) != 0) fail("getsockname");
    port_ = ntohs(addr.sin_port);
    ::fcntl(listener_, F_SETFL, O_NONBLOCK);  // poll said ready, but the client may be gone
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  /// Wakes and joins every thread and closes the sockets. Idempotent.
  void stop() {
    {
      std::lock_guard lock(m_);
      if (stopping_) return;
      stopping_ = true;
    }
    latency_cv_.notify_all();
    // The pipe is never drained: from now on every poll that watches it wakes at once.
    if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
    if (acceptor_.joinable()) acceptor_.join();
    for (connection& c : connections_) c.thread.join();  // no acceptor left to add more
    connections_.clear();
    for (int fd : {listener_, wake_[0], wake_[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  struct connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  [[noreturn]] static void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), std::string("loopback_http: ") + what);
  }

  // Waits until fd is ready for `events`; false once the server is stopping.
  bool wait_for(int fd, short events) const {
    pollfd fds[2] = {{fd, events, 0}, {wake_[0], POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
      if (errno != EINTR) return false;
    }
    return (fds[1].revents & POLLIN) == 0;
  }

  void accept_loop() {
    while (wait_for(listener_, POLLIN)) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      std::lock_guard lock(m_);
      // Reap finished connections, so a long benchmark does not pile up threads.
      connections_.remove_if([](connection& c) {
        if (!c.done) return false;
        c.thread.join();
        return true;
      });
      if (fd < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE...: try the next one
      ::fcntl(fd, F_SETFL, O_NONBLOCK);
      connection& c = connections_.emplace_back();
      try {
        c.thread = std::thread([this, fd, &c] {
          serve(fd);
          close_gracefully(fd);
          c.done = true;
        });
      } catch (const std::system_error&) {  // out of threads: turn this client away
        ::close(fd);
        connections_.pop_back();
      }
    }
  }

  void serve(int fd) {
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      if (!wait_for(fd, POLLIN)) return;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      if (n > 0) request.append(buf, static_cast<std::size_t>(n));
    }
    if (request.empty()) return;  // the client hung up without asking anything
    std::istringstream line(request.substr(0, request.find("\r\n")));
    std::string method, path, version, extra;
    line >> method >> path >> version;
    if (method != "GET" || path.empty() || path[0] != '/' || version.rfind("HTTP/", 0) != 0 ||
        line >> extra) {
      return respond(fd, "400 Bad Request", "malformed request line\n");
    }
    const auto it = endpoints_.find(path);
    if (it == endpoints_.end()) return respond(fd, "404 Not Found", "no such path\n");
    std::unique_lock lock(m_);
    if (latency_cv_.wait_for(lock, it->second.latency, [this] { return stopping_; })) {
      lock.unlock();
      return respond(fd, "503 Service Unavailable", "server shutting down\n");
    }
    lock.unlock();
    respond(fd, "200 OK", it->second.body);
  }

  // Closing a socket with unread input makes the kernel reset the connection, and the reset
  // can destroy the answer before the client has read it (a request over 8 KiB, say). So send
  // FIN first, then drop what the client still sends until it closes too, for at most 1 s.
  void close_gracefully(int fd) const {
    ::shutdown(fd, SHUT_WR);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    char buf[1024];
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0 || (fds[1].revents & POLLIN) != 0) break;  // timed out, or stopping
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    }
    ::close(fd);
  }

  void respond(int fd, const std::string& status, const std::string& body) const {
    const std::string head =
        "HTTP/1.0 " + status +
        "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n";
    if (send_all(fd, head)) send_all(fd, body);
  }

  // Sends first and waits only when the socket is full: a short answer still goes out while
  // the server is stopping (the 503), a long one to a slow reader is abandoned then.
  bool send_all(int fd, std::string_view data) const {
    while (!data.empty()) {
      // MSG_NOSIGNAL: a client that hung up gives EPIPE here, not a SIGPIPE that kills us.
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      const bool full = errno == EAGAIN || errno == EWOULDBLOCK;
      if (errno != EINTR && !(full && wait_for(fd, POLLOUT))) return false;  // or client left
    }
    return true;
  }

  const std::map<std::string, endpoint> endpoints_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex m_;  // guards stopping_ and connections_ (while the acceptor runs)
  std::condition_variable latency_cv_;
  bool stopping_ = false;
  std::list<connection> connections_;  // a list: each thread holds a reference to its node
};

/// Connects to 127.0.0.1:`port` on a new connection, sends `request` and returns the whole
/// response (HTTP/1.0: the server closes the connection after it). Each wait on the socket
/// is a poll of at most 10 ms, then a look at `stop`: that is how a blocking read honours a
/// token. Once `stop` is signalled it hangs up (the server sees the client leave) and throws
/// std::system_error(operation_canceled); a failing socket call throws std::system_error.
inline std::string loopback_exchange(std::stop_token stop, std::uint16_t port,
                                     std::string_view request) {
  struct socket_fd {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ~socket_fd() {
      if (fd >= 0) ::close(fd);
    }
  } s;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    throw std::system_error(errno, std::generic_category(), "loopback_exchange: connect/send");
  }
  std::string response;
  char buf[4096];
  for (pollfd p{s.fd, POLLIN, 0}; !stop.stop_requested();) {
    if (::poll(&p, 1, 10) <= 0) continue;  // nothing yet (or EINTR): look at the token again
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "loopback_exchange: recv");
    if (n == 0) return response;
    response.append(buf, static_cast<std::size_t>(n));
  }
  throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                          "loopback_exchange: stopped");
}
