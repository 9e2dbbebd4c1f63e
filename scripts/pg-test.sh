#!/usr/bin/env bash
# A throwaway PostgreSQL server for the catalog tests (Docs/catalog.md, "Stores").
#
#   scripts/pg-test.sh start DIR   initialise a cluster in DIR/data, start it on 127.0.0.1 at a
#                                  free port (trust auth, user tessera, fsync off) and print its
#                                  URL: postgres://tessera@127.0.0.1:PORT/
#   scripts/pg-test.sh stop DIR    stop it and remove what start wrote in DIR (DIR too, if empty)
#
# Run as root, initdb and the server run as the `postgres` user (PostgreSQL refuses root);
# otherwise as the caller. Needs PostgreSQL's server binaries (Debian: postgresql, installed
# by scripts/setup.sh).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$2

# initdb / pg_ctl: on PATH, else the newest Debian cluster's binaries.
bindir=""
if ! command -v initdb >/dev/null 2>&1; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$bindir" ] || { echo "pg-test.sh: no PostgreSQL server binaries (initdb) found; run scripts/setup.sh" >&2; exit 1; }
    bindir="$bindir/"
fi

as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ ! -e "$dir/data" ] || { echo "pg-test.sh: $dir/data exists; stop that server first" >&2; exit 1; }
    if [ "$(id -u)" -eq 0 ]; then
        # The server user must own its folder; only an empty folder is handed over.
        [ -z "$(ls -A "$dir")" ] || { echo "pg-test.sh: $dir is not empty" >&2; exit 1; }
        chown postgres "$dir"
    fi
    as_server "${bindir}initdb" -D "$dir/data" -A trust -U tessera --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; echo "pg-test.sh: initdb failed in $dir" >&2; exit 1; }
    # A free port can be taken between the probe and the bind: try a few.
    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if as_server "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            echo "$port" >"$dir/data/tessera-test-port"
            echo "postgres://tessera@127.0.0.1:$port/"
            return 0
        fi
    done
    cat "$dir/server.log" >&2 || true
    echo "pg-test.sh: the server in $dir did not start" >&2
    exit 1
}

stop() {
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_server "${bindir}pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        rm -rf "$dir/data"
    fi
    rm -f "$dir/initdb.log" "$dir/server.log"
    rmdir "$dir" 2>/dev/null || true
}

case "$action" in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
