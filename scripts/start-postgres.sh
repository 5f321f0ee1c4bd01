#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the test suite and print the
# export line for GCDT_TEST_POSTGRES_URL. Installs Debian's server if it is missing.
# Usage: eval "$(bash scripts/start-postgres.sh)"
set -euo pipefail
log() { echo "start-postgres: $*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  log "installing Debian's postgresql"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN=$(pg_bin)
[ -n "$BIN" ] || { log "no PostgreSQL server binaries after install"; exit 1; }

DIR=$(mktemp -d /tmp/gcdt-pg.XXXXXX)
PORT=${GCDT_TEST_POSTGRES_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_pg() { "$@"; }
AS_PG=""
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: run the server as the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DIR"
  as_pg() { runuser -u postgres -- "$@"; }
  AS_PG="runuser -u postgres -- "  # pg_ctl stops only a server its own user runs
fi
as_pg "$BIN/initdb" -D "$DIR/data" -U gcdt -A trust --no-sync >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 \
  || { cat "$DIR/server.log" >&2; exit 1; }
log "PostgreSQL running on 127.0.0.1:$PORT (data in $DIR; stop: $AS_PG$BIN/pg_ctl -D $DIR/data stop)"
echo "export GCDT_TEST_POSTGRES_URL=postgresql+psycopg://gcdt@127.0.0.1:$PORT/postgres"
echo "export GCDT_TEST_POSTGRES_STOP='$AS_PG$BIN/pg_ctl -D $DIR/data -m fast stop'"
