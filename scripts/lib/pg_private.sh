# Private PostgreSQL/PostGIS clusters for benchmarks and tests. Source this file.
#
#   pg_private_start DIR   initialises DIR/data and starts a server on a free port, listening only
#                          on a Unix socket in DIR; sets PGHOST, PGPORT, PGUSER and PG_PRIVATE_DIR.
#   pg_private_stop        stops it (also registered on EXIT by pg_private_start).
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the 'postgres' user.

pg_private_bindir() {
  local v
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then echo "/usr/lib/postgresql/$v/bin"; return 0; fi
  done
  return 1
}

pg_private_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_private_start() {
  local dir="$1"
  local bin
  bin="$(pg_private_bindir)" || { echo "PostgreSQL is not installed (scripts/install-deps.sh --postgres)" >&2; return 1; }
  mkdir -p "$dir"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
    as=(runuser -u postgres --)
  fi
  PG_PRIVATE_DIR="$dir"
  PGPORT="$(pg_private_free_port)"
  PGHOST="$dir"
  PGUSER=postgres
  export PGHOST PGPORT PGUSER PG_PRIVATE_DIR
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $PGPORT -k $dir -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c shared_buffers=512MB -c max_wal_size=4GB" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  PG_PRIVATE_AS="${as[*]}"
  PG_PRIVATE_BIN="$bin"
  export PG_PRIVATE_AS PG_PRIVATE_BIN
  trap pg_private_stop EXIT
}

pg_private_stop() {
  if [ -n "${PG_PRIVATE_DIR:-}" ] && [ -d "$PG_PRIVATE_DIR/data" ]; then
    # shellcheck disable=SC2086
    $PG_PRIVATE_AS "$PG_PRIVATE_BIN/pg_ctl" -D "$PG_PRIVATE_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
