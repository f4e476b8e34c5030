#!/usr/bin/env bash
# Install (Debian's postgresql package) and start a throw-away PostgreSQL server on loopback
# for the persistence tests. Prints the shell line that exports its URL on stdout (all
# diagnostics go to stderr), so:
#
#   eval "$(.ci/postgres.sh)"     # sets DXSHARE_TEST_POSTGRES_URL
#   .ci/postgres.sh stop          # stops the server started here
#
# PGPORT (default 55432) and PGDATA_DIR (default a directory under ${TMPDIR:-/tmp}) may be set.
set -euo pipefail

PGPORT="${PGPORT:-55432}"
PGDATA_DIR="${PGDATA_DIR:-${TMPDIR:-/tmp}/dxshare-pg-${PGPORT}}"

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ]; then
        return 1
    fi
    echo "$dir"
}

run_as_postgres() {
    if [ "$(id -u)" = "0" ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

if [ "${1:-}" = "stop" ]; then
    BIN=$(pg_bin)
    run_as_postgres "$BIN/pg_ctl -D '$PGDATA_DIR' -m fast stop" >&2 || true
    exit 0
fi

if ! BIN=$(pg_bin); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN=$(pg_bin)
fi

if [ ! -s "$PGDATA_DIR/PG_VERSION" ]; then
    mkdir -p "$PGDATA_DIR"
    if [ "$(id -u)" = "0" ]; then chown postgres "$PGDATA_DIR"; fi
    run_as_postgres "$BIN/initdb -D '$PGDATA_DIR' -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null"
fi

if ! run_as_postgres "$BIN/pg_ctl -D '$PGDATA_DIR' status" >/dev/null 2>&1; then
    run_as_postgres "$BIN/pg_ctl -D '$PGDATA_DIR' -w -l '$PGDATA_DIR/server.log' \
        -o \"-c listen_addresses=127.0.0.1 -p $PGPORT -k '$PGDATA_DIR'\" start" >&2
fi

URL="postgresql+psycopg://postgres@127.0.0.1:${PGPORT}/postgres"
echo "PostgreSQL ready on 127.0.0.1:${PGPORT}" >&2
echo "export DXSHARE_TEST_POSTGRES_URL='${URL}'"
