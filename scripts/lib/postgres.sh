# start_postgres — starts a throwaway PostgreSQL on a random loopback port (Debian's postgresql, installed when
# missing) and exports INTERCHANGE_TEST_POSTGRES_URL, so every PostgreSQL test variant runs (an inherited
# INTERCHANGE_SKIP_POSTGRES is cleared). It stops when this script exits, even if killed.
start_postgres() {
  apt_install postgresql
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
  PG_DIR=$(mktemp -d /tmp/interchange-pg.XXXXXX)
  local port; port=$(free_port)
  local user=postgres
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_DIR"
    run_pg() { su postgres -s /bin/sh -c "$*"; }
  else
    user=$(id -un)
    run_pg() { sh -c "$*"; }
  fi
  run_pg "$bin/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null
  run_pg "$bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -o \"-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500\" start" >/dev/null \
    || { cat "$PG_DIR/log" >&2; die "PostgreSQL did not start"; }
  export INTERCHANGE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  unset INTERCHANGE_SKIP_POSTGRES
  local stop="$bin/pg_ctl -D $PG_DIR/data -m immediate stop"
  if [ "$(id -u)" -eq 0 ]; then stop="su postgres -s /bin/sh -c '$stop'"; fi
  PG_STOP="$stop; rm -rf $PG_DIR"
  stop_with_parent $$ sh -c "$PG_STOP"
  trap 'sh -c "$PG_STOP" >/dev/null 2>&1' EXIT
  log "PostgreSQL is listening on 127.0.0.1:$port"
}
