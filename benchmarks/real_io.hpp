// The real I/O behind an operation of settle_bench --io http and --io postgres. Each
// operation makes its own connection, as independent requests from a server would: the
// connection setup is part of what the rows measure.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>

#include "report.hpp"  // format

#if SETTLE_BENCH_HAS_HTTP
#include "loopback_http.hpp"  // examples/: the server http_fetch uses too
#endif
#if SETTLE_BENCH_HAS_LIBPQ
#include <libpq-fe.h>
#endif

namespace settle_bench {

#if SETTLE_BENCH_HAS_HTTP
/// A loopback HTTP server in this process whose one endpoint, /op, answers after `latency`;
/// call() is one GET on a new TCP connection. The server runs a thread per connection, so
/// it serves parallel requests in parallel.
class http_io {
 public:
  explicit http_io(std::chrono::milliseconds latency)
      : server_(std::make_unique<loopback_http>(
            std::map<std::string, loopback_http::endpoint>{{"/op", {latency, "ok\n"}}})) {
    server_->start();
  }
  [[nodiscard]] std::uint16_t port() const noexcept { return server_->port(); }
  [[nodiscard]] std::string describe() const {
    return "a GET on its own TCP connection to a loopback HTTP server (127.0.0.1:" +
           std::to_string(port()) + ")";
  }
  /// Throws unless the server answered 200 with the body.
  static void call(std::stop_token stop, std::uint16_t port) {
    const std::string r = loopback_exchange(stop, port, "GET /op HTTP/1.0\r\n\r\n");
    if (r.rfind("HTTP/1.0 200 OK\r\n", 0) != 0 || r.substr(r.size() - 3) != "ok\n") {
      throw std::runtime_error("unexpected answer: " + r.substr(0, r.find("\r\n")));
    }
  }

 private:
  std::unique_ptr<loopback_http> server_;
};
#endif

#if SETTLE_BENCH_HAS_LIBPQ
/// PostgreSQL at `conninfo`: call() opens a connection, runs SELECT pg_sleep(latency) and
/// closes it. The constructor connects once to fail early with the server's own message.
class postgres_io {
 public:
  postgres_io(std::string conninfo, std::chrono::milliseconds latency)
      : conninfo_(std::move(conninfo)),
        sql_(format("SELECT pg_sleep(%g)", static_cast<double>(latency.count()) / 1000)) {
    connection c(conninfo_);
    version_ = PQparameterStatus(c.get(), "server_version");
  }
  [[nodiscard]] std::string describe() const {
    return "its own connection to PostgreSQL " + version_ + " and " + sql_;
  }
  /// Throws std::runtime_error with libpq's message when the connection or the query fails.
  void call() const {
    connection c(conninfo_);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql_.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      throw std::runtime_error("PostgreSQL: " + std::string(PQerrorMessage(c.get())));
    }
  }

 private:
  class connection {
   public:
    explicit connection(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str())) {
      if (PQstatus(c_) != CONNECTION_OK) {
        std::string why = c_ ? PQerrorMessage(c_) : "out of memory";
        PQfinish(c_);
        throw std::runtime_error("cannot connect to PostgreSQL with '" + conninfo + "': " + why);
      }
    }
    ~connection() { PQfinish(c_); }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    [[nodiscard]] PGconn* get() const noexcept { return c_; }

   private:
    PGconn* c_;
  };

  std::string conninfo_;
  std::string sql_;
  std::string version_;
};
#endif

}  // namespace settle_bench
