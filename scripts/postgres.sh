#!/usr/bin/env bash
# A throwaway PostgreSQL server for the examples and benchmarks that talk to a real one.
#
#   export SETTLE_PG_CONNINFO=$(scripts/postgres.sh start)   # prints the connection string
#   build/dev/examples/dashboard_postgres                     # reads SETTLE_PG_CONNINFO
#   scripts/postgres.sh stop                                  # stops it and removes everything
#
# `start` makes a new cluster (initdb) in a fresh temporary directory and starts it (pg_ctl)
# listening on a Unix socket in that directory only: no TCP port (listen_addresses=''), trust
# authentication, nothing written outside the directory. It prints a libpq connection string
# ("host=<dir> port=5432 dbname=postgres user=<user>") on stdout; progress goes to stderr.
# If the server of a previous `start` is still running, it prints that one's string again.
# `stop` stops the server and deletes the directory.
#
# State: `start` records the cluster's directory in $SETTLE_PG_STATE_DIR/cluster and the
# connection string in $SETTLE_PG_STATE_DIR/conninfo, where `stop` (and CTest's tests) find
# them; both files are removed by `stop`.
#
# Environment:
#   SETTLE_PG_STATE_DIR  where the state files live (default: build/postgres in the source
#                        tree; CTest uses <build dir>/postgres)
#   SETTLE_PG_OS_USER    the unprivileged user that runs the server when this script runs as
#                        root, since initdb refuses to run as root (default: postgres, which
#                        Debian's postgresql package creates)
#   TMPDIR               where the temporary directory is made (default /tmp)
#
# Needs the server programs (Debian/Ubuntu: apt-get install postgresql); initdb and pg_ctl are
# taken from PATH, else from the newest /usr/lib/postgresql/<major>/bin.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

state_dir=${SETTLE_PG_STATE_DIR:-$settle_root/build/postgres}
port=5432 # the socket is /<dir>/.s.PGSQL.5432: no other server shares the directory

usage() { settle_die "usage: scripts/postgres.sh start|stop"; }

# Finds a PostgreSQL server program: PATH first, then Debian's versioned directories.
pg_program() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  local found
  found=$(printf '%s\n' /usr/lib/postgresql/*/bin/"$name" | sort -V -r | head -n 1)
  if [[ -x "$found" ]]; then # an unmatched glob stays as written, and is not executable
    echo "$found"
    return
  fi
  settle_die "$name was not found on PATH or under /usr/lib/postgresql/*/bin" \
    "(Debian/Ubuntu: apt-get install postgresql)"
}

# Runs a command as the user that owns the cluster: this user, or SETTLE_PG_OS_USER as root.
as_owner() {
  if [[ $(id -u) -ne 0 ]]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$os_user" -- "$@"
  else
    su -s /bin/sh "$os_user" -c "$(printf '%q ' "$@")"
  fi
}

owner_setup() {
  if [[ $(id -u) -eq 0 ]]; then
    os_user=${SETTLE_PG_OS_USER:-postgres}
    id -u "$os_user" >/dev/null 2>&1 ||
      settle_die "running as root, and initdb refuses to: the server needs an unprivileged user," \
        "but user '$os_user' does not exist (install postgresql, which creates 'postgres', or" \
        "set SETTLE_PG_OS_USER)"
  else
    os_user=$(id -un)
  fi
}

running() {
  [[ -f "$state_dir/cluster" ]] || return 1
  local dir
  dir=$(cat "$state_dir/cluster")
  [[ -d "$dir/data" ]] && as_owner "$pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

start() {
  owner_setup
  pg_ctl=$(pg_program pg_ctl)
  local initdb
  initdb=$(pg_program initdb)
  if running; then
    settle_log "a server started earlier is still running"
    cat "$state_dir/conninfo"
    return
  fi
  [[ -f "$state_dir/cluster" ]] && stop # a stale one: clean it up first

  mkdir -p "$state_dir"
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/settle-pg.XXXXXX")
  echo "$dir" >"$state_dir/cluster" # before anything can fail: `stop` removes what is left
  # The owner writes the directory; clients (any user) need to reach the socket in it.
  chmod 755 "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$os_user" "$dir"

  settle_log "initdb: a new cluster in $dir/data (owner $os_user)"
  # cd /: the server's user may not be allowed into the caller's working directory.
  (cd / && as_owner "$initdb" -D "$dir/data" -U "$os_user" --auth=trust --no-instructions \
    --locale=C --encoding=UTF8 >"$dir/initdb.log" 2>&1) ||
    settle_die "initdb failed (log below)"$'\n'"$(cat "$dir/initdb.log")"

  settle_log "pg_ctl start: Unix socket $dir/.s.PGSQL.$port, no TCP"
  # max_connections: settle_bench --io postgres opens one connection per operation, 100 at once.
  # fsync off: the cluster is thrown away, nothing in it has to survive a crash.
  (cd / && as_owner "$pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port" \
    -o "-c max_connections=200 -c fsync=off -c lc_messages=C" >/dev/null) ||
    settle_die "the server did not start (log below)"$'\n'"$(cat "$dir/server.log" 2>/dev/null)"

  echo "host=$dir port=$port dbname=postgres user=$os_user" >"$state_dir/conninfo"
  cat "$state_dir/conninfo"
}

stop() {
  if [[ ! -f "$state_dir/cluster" ]]; then
    settle_log "no server to stop ($state_dir/cluster does not exist)"
    return
  fi
  owner_setup
  local dir
  dir=$(cat "$state_dir/cluster")
  if [[ -d "$dir/data" ]]; then
    pg_ctl=${pg_ctl:-$(pg_program pg_ctl)}
    settle_log "pg_ctl stop: $dir"
    # Fast: roll back what is running and disconnect; a server that is already gone is fine.
    (cd / && as_owner "$pg_ctl" stop -w -t 60 -m fast -D "$dir/data" >/dev/null 2>&1) || true
  fi
  case "$dir" in
    */settle-pg.*) rm -rf "$dir" ;; # only ever what `start` made
    *) settle_die "refusing to remove '$dir': not a directory made by this script" ;;
  esac
  rm -f "$state_dir/cluster" "$state_dir/conninfo"
  settle_log "removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
