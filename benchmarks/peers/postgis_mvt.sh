#!/usr/bin/env bash
# Peer benchmark: one vector tile of the incident layer rendered by PostGIS (ST_AsMVT over
# ST_AsMVTGeom, GiST index) from the same incidents as a OneGrid database, timed with pgbench so
# that connection set-up is excluded.
#
#   benchmarks/peers/postgis_mvt.sh DB Z X Y [OUT_DIR]
#
# DB is a OneGrid database: the incidents table (id, lon, lat, category, status, grid, due_at,
# escalation_level) is exported with sqlite3 and loaded into a private PostgreSQL cluster (runs in
# a temporary directory, stopped on exit). Geometry is stored in EPSG:3857 (lon/lat taken as
# EPSG:4326 and transformed once at load), indexed with GiST, and the table is clustered on that
# index. The tile query has the same properties as OneGrid's incident layer: id (also the feature
# id), category, status, grid, overdue (computed at query time against now()) and escalation_level.
#
# Environment: DURATION (seconds per pgbench run, default 10), CLIENTS (default "1 2").
# pgbench runs with prepared statements, with and without parallel workers; the better counts.
# Prints "RESULT key=value" lines for benchmarks/server/run.sh; the tile is written to
# OUT_DIR/postgis-Z-X-Y.mvt.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 4 ] || { echo "usage: $0 DB Z X Y [OUT_DIR]" >&2; exit 2; }
db="$1" z="$2" x="$3" y="$4" out="${5:-.}"
duration="${DURATION:-10}"
clients="${CLIENTS:-1 2}"
[ -f "$db" ] || { echo "postgis_mvt.sh: no database $db" >&2; exit 1; }
for tool in sqlite3 psql pgbench; do
  command -v "$tool" >/dev/null || { echo "postgis_mvt.sh: $tool is missing (scripts/install-deps.sh --bench --postgres)" >&2; exit 1; }
done
# shellcheck source=../../scripts/lib/pg_private.sh
source "$root/scripts/lib/pg_private.sh"

work="$(mktemp -d /tmp/onegrid-postgis-mvt.XXXXXX)"
chmod 755 "$work"
cleanup() { pg_private_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$(date +%T) postgis: exporting incidents from $db"
sqlite3 -readonly -csv "$db" \
  "SELECT id, lon, lat, category, status, coalesce(grid, ''), due_at, escalation_level FROM incidents" >"$work/incidents.csv"
chmod 644 "$work/incidents.csv"
rows=$(wc -l <"$work/incidents.csv")

pg_private_start "$work/pg"
trap cleanup EXIT
echo "$(date +%T) postgis: loading $rows incidents (PostgreSQL $(psql -d postgres -Atc 'SHOW server_version'))"
psql -q -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -q -v ON_ERROR_STOP=1 -d bench <<SQL >/dev/null
CREATE EXTENSION postgis;
CREATE UNLOGGED TABLE staging (id bigint, lon float8, lat float8, category text, status text, grid text,
                               due_at bigint, escalation_level int);
\copy staging FROM '$work/incidents.csv' WITH (FORMAT csv)
CREATE TABLE incidents AS
  SELECT id, category, status, grid, due_at, escalation_level,
         ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857)::geometry(Point, 3857) AS geom
  FROM staging;
DROP TABLE staging;
ALTER TABLE incidents ADD PRIMARY KEY (id);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CLUSTER incidents USING incidents_geom;
VACUUM ANALYZE incidents;
SQL
echo "$(date +%T) postgis: PostGIS $(psql -d bench -Atc 'SELECT postgis_lib_version()'), table loaded and indexed"

envelope="ST_TileEnvelope($z, $x, $y)"
cat >"$work/tile.sql" <<SQL
SELECT ST_AsMVT(t, 'incidents', 4096, 'geom', 'fid') FROM (
  SELECT id AS fid, id, category, status, grid,
         (due_at IS NOT NULL AND due_at < (extract(epoch FROM now()) * 1000)::bigint
          AND status NOT IN ('voided', 'closed', 'rated', 'handled')) AS overdue,
         escalation_level,
         ST_AsMVTGeom(geom, $envelope, 4096, 256, true) AS geom
  FROM incidents
  WHERE geom && $envelope
) t;
SQL
features=$(psql -d bench -Atc "SELECT count(*) FROM incidents WHERE geom && $envelope")
mkdir -p "$out"
tile_file="$out/postgis-$z-$x-$y.mvt"
psql -d bench -Atc "SELECT encode(($(sed 's/;$//' "$work/tile.sql")), 'hex')" | xxd -r -p >"$tile_file"
bytes=$(stat -c %s "$tile_file")
echo "$(date +%T) postgis: tile $z/$x/$y holds $features incidents, $bytes bytes"
echo "RESULT features=$features"
echo "RESULT bytes=$bytes"
echo "RESULT version=PostgreSQL $(psql -d bench -Atc 'SHOW server_version') / PostGIS $(psql -d bench -Atc 'SELECT postgis_lib_version()')"
psql -d bench -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$work/tile.sql")" >"$work/explain.txt" 2>&1 || true
sed 's/^/  /' "$work/explain.txt" | head -20

# Timed with prepared statements (no planning per tile), once with PostgreSQL's default parallel
# plan and once with max_parallel_workers_per_gather = 0; the better of the two is the peer figure
# (on two busy cores starting parallel workers can cost more than it saves).
for c in $clients; do
  best_tps=0 best_lat="" best_mode=""
  for mode in parallel serial; do
    opts=""
    [ "$mode" = parallel ] || opts="-c max_parallel_workers_per_gather=0"
    echo "$(date +%T) postgis: pgbench -n -M prepared -f tile.sql -T $duration -c $c -j $c ($mode plan)"
    PGOPTIONS="$opts" pgbench -n -M prepared -f "$work/tile.sql" -T "$duration" -c "$c" -j "$c" bench >"$work/pgbench-$c-$mode.txt" 2>&1 \
      || { cat "$work/pgbench-$c-$mode.txt" >&2; exit 1; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$work/pgbench-$c-$mode.txt")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/pgbench-$c-$mode.txt")
    echo "  $c client(s), $mode plan: $tps tiles/s, latency average $lat ms"
    if awk -v a="$tps" -v b="$best_tps" 'BEGIN {exit !(a + 0 > b + 0)}'; then best_tps=$tps best_lat=$lat best_mode=$mode; fi
  done
  echo "RESULT tps_c$c=$best_tps"
  echo "RESULT latency_ms_c$c=$best_lat"
  echo "RESULT mode_c$c=$best_mode plan"
done
