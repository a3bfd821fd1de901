# Sourced by .ci/run (and usable by hand): installs PostgreSQL from Debian's packages when missing,
# starts a throw-away cluster on 127.0.0.1 and exports CAMPAIGNS_TEST_PG. `stop_postgres` ends it.

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    PG_BIN=$(find_pg_bin)
    if [ -z "$PG_BIN" ]; then
        echo "Installing PostgreSQL from Debian's packages..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN=$(find_pg_bin)
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql postgres
    fi
    PG_PORT=${PG_PORT:-54329}
    while (echo >"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do PG_PORT=$((PG_PORT + 1)); done
    PG_DATA=$(mktemp -d /tmp/campaigns-pg.XXXXXX)
    chmod 700 "$PG_DATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DATA"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 >/dev/null
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -o \
        "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
        start >/dev/null
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres campaigns_test
    export CAMPAIGNS_TEST_PG="postgresql://postgres@127.0.0.1:$PG_PORT/campaigns_test"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
    if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_DATA"
    fi
}
