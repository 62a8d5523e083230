#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: `.ci/postgres.sh start|stop|status`.
#
# Runs as the unprivileged `postgres` system user (initdb refuses root) with
# its data under /tmp/tessera-ci-pg, listens on 127.0.0.1:55432 only (the
# socket stays inside the data directory), trusts every local connection and
# has a superuser role `tessera`. Durability is off (fsync, synchronous
# commit, full-page writes): nothing here is worth keeping.
#
# `start` is idempotent, waits until the server accepts connections and prints
# the line to eval:
#   eval "$(.ci/postgres.sh start)"   # sets TESSERA_TEST_POSTGRES
set -euo pipefail

PGDATA_DIR=${TESSERA_CI_PGDATA:-/tmp/tessera-ci-pg}
PORT=${TESSERA_CI_PGPORT:-55432}
RUN_AS=postgres
URL="postgres://tessera@127.0.0.1:${PORT}/postgres"

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

# Runs a command as the unprivileged user (or as ourselves if we are not root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$RUN_AS" -- "$@"
  else
    "$@"
  fi
}

ready() {
  as_pg "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U tessera
}

BIN=$(bindir)

case "${1:-}" in
  start)
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
      rm -rf "$PGDATA_DIR"
      mkdir -p "$PGDATA_DIR"
      [ "$(id -u)" -eq 0 ] && chown "$RUN_AS": "$PGDATA_DIR"
      chmod 700 "$PGDATA_DIR"
      as_pg "$BIN/initdb" -D "$PGDATA_DIR" --auth=trust --username=tessera --encoding=UTF8 --locale=C.UTF-8 \
        >"$PGDATA_DIR.initdb.log" 2>&1 || { cat "$PGDATA_DIR.initdb.log" >&2; exit 1; }
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
      as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDATA_DIR \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
        || { tail -n 20 "$PGDATA_DIR/server.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 60); do
      ready && break
      sleep 0.5
    done
    ready || { echo "PostgreSQL did not become ready on 127.0.0.1:$PORT" >&2; exit 1; }
    echo "export TESSERA_TEST_POSTGRES=$URL"
    ;;
  stop)
    if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
      as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$PGDATA_DIR" "$PGDATA_DIR.initdb.log"
    fi
    ;;
  status)
    if ready; then echo "running: $URL"; else echo "not running"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
