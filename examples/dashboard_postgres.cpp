// Pattern 3, "Multiple Database Queries", against a real PostgreSQL: getDashboardData(userId)
// runs its parts on connections of a small pool, first one after another, then with
// all_settled within a 200 ms budget. The preferences table does not exist, so that part shows
// its default while the others arrive; the activity report takes 800 ms on the server, so at
// the budget its query sees its stop token and has the server cancel it (PQcancel).
//
//   dashboard_postgres [CONNINFO]   (default: $SETTLE_PG_CONNINFO; see scripts/postgres.sh)
#include <settle/settle.hpp>

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using result = std::unique_ptr<PGresult, decltype(&PQclear)>;

struct db_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A tiny connection pool: n connections opened up front, each lent to one task at a time.
class pool {
 public:
  pool(const std::string& conninfo, std::size_t n) {
    // Defaults first: what the connection string sets overrides them.
    const char* keys[] = {"connect_timeout", "options", "dbname", nullptr};
    const char* values[] = {"5", "-c client_min_messages=warning", conninfo.c_str(), nullptr};
    for (std::size_t i = 0; i < n; ++i) {
      PGconn* c = all_.emplace_back(PQconnectdbParams(keys, values, 1), &PQfinish).get();
      if (PQstatus(c) != CONNECTION_OK) throw db_error(PQerrorMessage(c));
      idle_.push_back(c);
    }
  }
  struct lease {
    pool& p;
    PGconn* c;
    ~lease() { p.give_back(c); }
  };
  lease acquire() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    PGconn* c = idle_.back();
    idle_.pop_back();
    return {*this, c};
  }

 private:
  void give_back(PGconn* c) {
    std::lock_guard lock(m_);
    idle_.push_back(c);
    cv_.notify_one();
  }
  std::vector<std::unique_ptr<PGconn, decltype(&PQfinish)>> all_;
  std::vector<PGconn*> idle_;
  std::mutex m_;
  std::condition_variable cv_;
};

// Runs `sql` with $1 = user id on a pooled connection. Waits on the socket 10 ms at a time and
// looks at `stop` in between: once it is signalled, the server is asked to cancel the query,
// which then fails like any other, leaving the connection idle for its next user.
result query(pool& db, std::stop_token stop, const char* sql, int user_id) {
  auto conn = db.acquire();
  const std::string id = std::to_string(user_id);
  const char* params[] = {id.c_str()};
  if (!PQsendQueryParams(conn.c, sql, 1, nullptr, params, nullptr, nullptr, 0)) {
    throw db_error(PQerrorMessage(conn.c));
  }
  for (bool cancel_sent = false; PQisBusy(conn.c);) {
    if (stop.stop_requested() && !cancel_sent) {
      std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn.c), &PQfreeCancel);
      char why[256];
      cancel_sent = true;
      if (!cancel || !PQcancel(cancel.get(), why, sizeof why)) throw db_error(why);
    }
    pollfd p{PQsocket(conn.c), POLLIN, 0};
    if (::poll(&p, 1, 10) > 0 && !PQconsumeInput(conn.c)) throw db_error(PQerrorMessage(conn.c));
  }
  result r(PQgetResult(conn.c), &PQclear);
  while (PGresult* rest = PQgetResult(conn.c)) PQclear(rest);  // drained: the connection is idle
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    throw db_error(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY));
  }
  return r;
}

// Runs `sql` (no parameters, possibly several statements) to its end: setup and checks.
result exec(pool& db, const char* sql) {
  auto conn = db.acquire();
  result r(PQexec(conn.c, sql), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    throw db_error(PQerrorMessage(conn.c));
  }
  return r;
}

int main(int argc, char** argv) {
  const char* conninfo = argc > 1 ? argv[1] : std::getenv("SETTLE_PG_CONNINFO");
  if (conninfo == nullptr || *conninfo == '\0') {
    std::cerr << "usage: dashboard_postgres CONNINFO (or set SETTLE_PG_CONNINFO); a throwaway\n"
                 "server: export SETTLE_PG_CONNINFO=$(scripts/postgres.sh start)\n";
    return 2;
  }
  try {
    pool db(conninfo, 5);
    (void)exec(
        db,
        "DROP SCHEMA IF EXISTS settle_demo CASCADE;"
        "CREATE SCHEMA settle_demo;"
        "CREATE TABLE settle_demo.users (id int PRIMARY KEY, name text, email text);"
        "CREATE TABLE settle_demo.orders (id int PRIMARY KEY, user_id int, total numeric);"
        "CREATE TABLE settle_demo.notifications (user_id int, body text, read bool);"
        "INSERT INTO settle_demo.users VALUES (42, 'Ada Lovelace', 'ada@example.com');"
        "INSERT INTO settle_demo.orders VALUES (1001, 42, 19.90), (1002, 7, 5), (1003, 42, 42.5);"
        "INSERT INTO settle_demo.notifications VALUES (42, 'shipped', false), (42, 'hi', true),"
        "                                             (42, 'sale', false);");

    // Each part waits on the server (pg_sleep) as a real query on a loaded database would.
    const int id = 42;
    auto profile = [&](std::stop_token s) {
      auto r = query(db, s,
                     "SELECT name, email FROM pg_sleep(0.03), settle_demo.users "
                     "WHERE id = $1",
                     id);
      return std::string(PQgetvalue(r.get(), 0, 0)) + " <" + PQgetvalue(r.get(), 0, 1) + ">";
    };
    auto orders = [&](std::stop_token s) {
      auto r = query(db, s,
                     "SELECT count(*) || ' orders, latest #' || max(id) FROM "
                     "pg_sleep(0.06), settle_demo.orders WHERE user_id = $1",
                     id);
      return std::string(PQgetvalue(r.get(), 0, 0));
    };
    auto notifications = [&](std::stop_token s) {
      auto r = query(db, s,
                     "SELECT count(*) FROM pg_sleep(0.04), settle_demo.notifications "
                     "WHERE user_id = $1 AND NOT read",
                     id);
      return std::string(PQgetvalue(r.get(), 0, 0)) + " unread";
    };
    auto preferences = [&](std::stop_token s) {  // the table was never created
      auto r =
          query(db, s, "SELECT theme FROM settle_demo.user_preferences WHERE user_id = $1", id);
      return std::string(PQgetvalue(r.get(), 0, 0));
    };
    std::string server_said;  // what the server answered the cancelled query
    auto activity = [&](std::stop_token s) {
      try {
        auto r = query(db, s,
                       "SELECT count(*) || ' orders this year' FROM pg_sleep(0.8), "
                       "settle_demo.orders WHERE user_id = $1",
                       id);
        return std::string(PQgetvalue(r.get(), 0, 0));
      } catch (const db_error& e) {
        if (s.stop_requested()) server_said = e.what();
        throw;
      }
    };

    auto t0 = std::chrono::steady_clock::now();
    auto seq = settle::all_settled(settle::inline_executor{}, profile, orders, notifications,
                                   preferences, activity);
    auto t1 = std::chrono::steady_clock::now();
    auto [user, order_list, unread, prefs, report] = settle::all_settled(
        settle::timeout(200ms), profile, orders, notifications, preferences, activity);
    auto t2 = std::chrono::steady_clock::now();

    auto ms = [](auto d) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    std::cout << "one after another: " << ms(t1 - t0) << " ms (activity: "
              << settle::get_settled_value(std::get<4>(seq), std::string("failed")) << ")\n"
              << "all_settled, 200 ms budget: " << ms(t2 - t1) << " ms\n";
    auto show = [](const char* what, const auto& part, const char* fallback) {
      std::cout << what << ": " << settle::get_settled_value(part, std::string(fallback));
      if (part.is_rejected()) std::cout << " (default: " << settle::describe(part.reason()) << ')';
      std::cout << '\n';
    };
    show("profile", user, "guest");
    show("orders", order_list, "none");
    show("notifications", unread, "0 unread");
    show("preferences", prefs, "light");
    show("activity", report, "not available");
    std::cout << "the server on the activity query: " << server_said << '\n';

    auto running = exec(db,
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                        "query LIKE '%pg_sleep(0.8)%' AND pid <> pg_backend_pid()");
    std::cout << "activity queries still running on the server: " << PQgetvalue(running.get(), 0, 0)
              << '\n'
              << "within the budget: " << (t2 - t1 < 200ms + 300ms ? "yes" : "NO") << '\n';
    (void)exec(db, "DROP SCHEMA settle_demo CASCADE");
  } catch (const db_error& e) {
    std::cerr << "dashboard_postgres: PostgreSQL at '" << conninfo << "': " << e.what()
              << "(is a server running? a throwaway one: scripts/postgres.sh start)\n";
    return 1;
  }
}
