#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL 15 cluster for the PostgreSQL tests and prints the one
# line that points them at it:
#
#   eval "$(.ci/postgres.sh)"        # starts the cluster if needed, exports PROCESSDSL_POSTGRES
#   .ci/postgres.sh stop             # stops it (the data directory is kept)
#   .ci/postgres.sh restart          # restarts it (fast shutdown) if running, else starts it
#   .ci/postgres.sh destroy          # stops it and deletes the data directory
#   .ci/postgres.sh status           # exits 0 when the cluster answers, 3 when it does not
#
# Only the export line goes to stdout; progress goes to stderr. Idempotent: running it again while
# the cluster is up just prints the line again. The cluster listens on 127.0.0.1 only, with trust
# authentication, default (durable) settings otherwise. initdb refuses to run as root, so as root
# the server runs as the `postgres` user.
#
# Settings (environment): PROCESSDSL_PG_BIN (default /usr/lib/postgresql/15/bin),
# PROCESSDSL_PG_PORT (55432), PROCESSDSL_PG_DATA (/tmp/processdsl-pg-<port>),
# PROCESSDSL_PG_DATABASE (processdsl_tests).
set -euo pipefail

bin="${PROCESSDSL_PG_BIN:-/usr/lib/postgresql/15/bin}"
port="${PROCESSDSL_PG_PORT:-55432}"
data="${PROCESSDSL_PG_DATA:-/tmp/processdsl-pg-$port}"
database="${PROCESSDSL_PG_DATABASE:-processdsl_tests}"
log="$data.log"

say() { echo "postgres.sh: $*" >&2; }

if [[ ! -x "$bin/pg_ctl" ]]; then
    say "no PostgreSQL binaries in $bin (set PROCESSDSL_PG_BIN)"
    exit 1
fi
if ! [[ "$database" =~ ^[a-z][a-z0-9_]*$ ]]; then
    say "database name '$database' must be lower-case letters, digits and underscores"
    exit 1
fi

# Run a PostgreSQL program as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; }

case "${1:-start}" in
    status)
        if ready; then exit 0; else exit 3; fi
        ;;
    stop)
        if [[ -f "$data/postmaster.pid" ]]; then
            as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2
        fi
        exit 0
        ;;
    destroy)
        if [[ -f "$data/postmaster.pid" ]]; then
            as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >&2 || true
        fi
        rm -rf "$data" "$log"
        exit 0
        ;;
    restart)
        if [[ -f "$data/postmaster.pid" ]]; then
            as_owner "$bin/pg_ctl" -D "$data" -l "$log" -m fast -w -t 60 restart >&2
            exit 0
        fi
        ;;
    start) ;;
    *)
        say "usage: $0 [start|stop|restart|destroy|status]"
        exit 2
        ;;
esac

if ! ready; then
    if [[ ! -s "$data/PG_VERSION" ]]; then
        say "creating a cluster in $data"
        rm -rf "$data"
        mkdir -p "$data"
        [[ "$(id -u)" == 0 ]] && chown postgres: "$data"
        chmod 700 "$data"
        as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            --no-instructions >&2
        cat >>"$data/postgresql.conf" <<EOF
# processdsl CI
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 300
EOF
    fi
    touch "$log"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$log"
    say "starting PostgreSQL on 127.0.0.1:$port (log: $log)"
    # A stale pid file from a killed server would stop pg_ctl: it checks and removes it itself.
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >&2
    for _ in $(seq 1 60); do
        ready && break
        sleep 1
    done
    if ! ready; then
        say "PostgreSQL did not become ready; last log lines:"
        tail -n 30 "$log" >&2
        exit 1
    fi
fi

exists="$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$database'")"
if [[ "$exists" != 1 ]]; then
    say "creating database $database"
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
fi

echo "export PROCESSDSL_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=$database'"
