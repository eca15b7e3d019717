#!/usr/bin/env bash
# Peer benchmark: grid assignment with PostGIS (indexed ST_Covers join) against `onegrid assign`
# on the same grids and the same 1,000,000 points, in the same run. Every point's grid is compared:
# the two must agree on every point that is not on a grid boundary.
#
#   benchmarks/peers/postgis_assign.sh [BUILD_DIR]     (default build/release)
#
# Installs PostgreSQL 15 + PostGIS 3 if missing and runs a private cluster in a temporary
# directory. Both sides run on one core (PostGIS: max_parallel_workers_per_gather = 0).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
onegrid="$build/apps/onegrid"
n_points="${N_POINTS:-1000000}"
[ -x "$onegrid" ] || { echo "build first: $onegrid not found" >&2; exit 1; }
"$root/scripts/install-deps.sh" --postgres >/dev/null
# shellcheck source=../../scripts/lib/pg_private.sh
source "$root/scripts/lib/pg_private.sh"

work="$(mktemp -d /tmp/onegrid-postgis-assign.XXXXXX)"
chmod 755 "$work"
cleanup() { pg_private_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "$(date +%T) == data: demo district + $n_points uniform points"
"$onegrid" demo-district --out "$work" --points 0 --uniform "$n_points" >/dev/null
pg_private_start "$work/pg"
trap cleanup EXIT
psql -q -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -q -d bench -c "CREATE EXTENSION postgis" >/dev/null
ogr2ogr -f PostgreSQL "PG:host=$PGHOST port=$PGPORT user=postgres dbname=bench" "$work/district.gpkg" grids \
  -nln grids -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST
psql -q -d bench <<SQL >/dev/null
CREATE TABLE pts (id text PRIMARY KEY, lon float8, lat float8);
\copy pts FROM '$work/uniform.csv' WITH (FORMAT csv, HEADER true)
ALTER TABLE pts ADD COLUMN geom geometry(Point, 4490);
UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4490);
VACUUM ANALYZE pts;
VACUUM ANALYZE grids;
SQL

echo "$(date +%T) == PostGIS: indexed ST_Covers join, one core"
pg_ms=$(psql -d bench -At <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
SET max_parallel_workers_per_gather = 0;
\timing on
CREATE TABLE assigned AS SELECT p.id, g.code FROM pts p LEFT JOIN grids g ON ST_Covers(g.geom, p.geom);
SQL
)
psql -q -d bench -c "\copy (SELECT id, coalesce(code, 'outside') FROM assigned ORDER BY id) TO '$work/postgis.csv' WITH (FORMAT csv)"

echo "$(date +%T) == OneGrid: onegrid assign, one thread"
"$onegrid" assign --grids "$work/district.gpkg" --grids-layer grids --points "$work/uniform.csv" \
  --out "$work/onegrid.csv" --threads 1 --no-nearest >"$work/onegrid.log"
og_s=$(sed -n 's/^speed: .*, \([0-9.]*\) s (assignment.*/\1/p' "$work/onegrid.log")
tail -n +2 "$work/onegrid.csv" | awk -F, '{print $1 "," ($2 == "" ? "outside" : $2)}' | LC_ALL=C sort -t, -k1,1 >"$work/onegrid_sorted.csv"
LC_ALL=C sort -t, -k1,1 "$work/postgis.csv" >"$work/postgis_sorted.csv"

echo "$(date +%T) == comparing every point"
join -t, -j1 "$work/onegrid_sorted.csv" "$work/postgis_sorted.csv" | awk -F, '$2 != $3 {print $1}' >"$work/differ.txt"
differ=$(wc -l <"$work/differ.txt")
on_boundary=0
if [ "$differ" -gt 0 ]; then
  psql -q -d bench -c "CREATE TABLE differ (id text)" -c "\copy differ FROM '$work/differ.txt'"
  on_boundary=$(psql -d bench -At -c "SELECT count(DISTINCT d.id) FROM differ d JOIN pts p USING (id)
      JOIN grids g ON ST_Intersects(ST_Boundary(g.geom), p.geom)")
fi
rows=$(wc -l <"$work/postgis_sorted.csv")
echo "points compared:            $rows"
echo "different answers:          $differ (of which on a grid boundary: $on_boundary)"
awk -v pg="$pg_ms" -v og="$og_s" -v n="$n_points" 'BEGIN {
  printf "PostGIS ST_Covers join:     %8.3f s  %12.0f points/s\n", pg / 1000, n / (pg / 1000);
  printf "onegrid assign (1 thread):  %8.3f s  %12.0f points/s\n", og, n / og;
  printf "ratio OneGrid / PostGIS:    %8.1fx\n", (pg / 1000) / og }'
if [ "$differ" -ne "$on_boundary" ]; then
  echo "FAIL: $((differ - on_boundary)) points off any boundary got different grids" >&2
  exit 1
fi
