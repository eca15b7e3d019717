#!/usr/bin/env bash
# Planning figures (issue 7), in one run:
#   1. `onegrid validate` of the demo district's 1,115-grid layer (the CLI's own timing, 3 runs);
#   2. bench_planning: validation in a loop, and Planner::publish over ~100,000 open cases, for a
#      split of one grid and for a re-coding of every grid (every open case moves);
#   3. the peer: the same re-coding's re-assignment in PostGIS on the same cases and grids
#      (new grid version inserted, indexed ST_Covers join of the open cases, UPDATE of the moved
#      cases and INSERT of one event each, one transaction, durable commit) and the ratio.
#
#   benchmarks/planning/run.sh [BUILD_DIR]      (default build/release; needs ONEGRID_BUILD_BENCHMARKS=ON)
#
# The database with the cases is benchmarks/results/planning-N.db (made by bench_planning on its
# first run). PostgreSQL 15 + PostGIS run as a private cluster in a temporary directory, on one core
# (max_parallel_workers_per_gather = 0); OneGrid's publish is single-threaded too.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build/release}" && pwd)"
onegrid="$build/apps/onegrid"
bench="$build/benchmarks/bench_planning"
demo_db="$build/demo-data/onegrid.db"
n="${ONEGRID_BENCH_PLANNING_INCIDENTS:-111000}"
cases_db="$root/benchmarks/results/planning-$n.db"
[ -x "$onegrid" ] || { echo "build first: $onegrid not found" >&2; exit 1; }
[ -x "$bench" ] || { echo "build bench_planning first (cmake -DONEGRID_BUILD_BENCHMARKS=ON; target bench_planning)" >&2; exit 1; }
[ -f "$demo_db" ] || { echo "build the demo database first (target demo_db)" >&2; exit 1; }

echo "$(date +%T) == onegrid validate, the 1,115-grid demo layer (3 runs)"
for _ in 1 2 3; do "$onegrid" validate --db "$demo_db" --show 0 | tail -n 1; done

echo "$(date +%T) == bench_planning"
json="$(mktemp /tmp/onegrid-bench-planning.XXXXXX.json)"
ONEGRID_BENCH_PLANNING_INCIDENTS="$n" "$bench" --benchmark_out="$json" --benchmark_out_format=json
og_recode_ms=$(python3 - "$json" <<'PY'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if "recode_every_grid" in b["name"]:
        print(f'{b["real_time"]:.0f} {b["moved"]:.0f} {b["validation_s"]*1000:.0f}')
PY
)
read -r og_ms og_moved og_validation_ms <<<"$og_recode_ms"
rm -f "$json"

echo "$(date +%T) == PostGIS peer: the re-coding's re-assignment of the same cases"
"$root/scripts/install-deps.sh" --postgres >/dev/null
# shellcheck source=../../scripts/lib/pg_private.sh
source "$root/scripts/lib/pg_private.sh"
work="$(mktemp -d /tmp/onegrid-planning-peer.XXXXXX)"
chmod 755 "$work"
cleanup() { pg_private_stop; rm -rf "$work"; }
trap cleanup EXIT
"$onegrid" export --db "$cases_db" --layer grids --out "$work/grids.gpkg" >/dev/null
sqlite3 -csv "$cases_db" "SELECT id, status, grid, lon, lat, updated_at FROM incidents" >"$work/incidents.csv"
sqlite3 -csv "$cases_db" "SELECT incident, seq, at, actor, role, action, from_status, to_status, note, data FROM events" >"$work/events.csv"
chmod 644 "$work"/*
pg_private_start "$work/pg"
trap cleanup EXIT
psql -q -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -q -d bench -c "CREATE EXTENSION postgis" >/dev/null
ogr2ogr -f PostgreSQL "PG:host=$PGHOST port=$PGPORT user=postgres dbname=bench" "$work/grids.gpkg" \
  -nln grids_v1 -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=NONE
psql -q -d bench <<SQL >/dev/null
-- Grid versions side by side, like OneGrid's layer versions.
CREATE TABLE grids (version int NOT NULL, code text NOT NULL, geom geometry(MultiPolygon, 4490) NOT NULL, PRIMARY KEY (version, code));
INSERT INTO grids SELECT 1, code, ST_Multi(geom) FROM grids_v1;
CREATE INDEX grids_geom ON grids USING gist (geom);
CREATE TABLE incidents (id bigint PRIMARY KEY, status text NOT NULL, grid text, lon float8, lat float8, updated_at bigint,
                        geom geometry(Point, 4490));
\copy incidents (id, status, grid, lon, lat, updated_at) FROM '$work/incidents.csv' WITH (FORMAT csv)
UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4490);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_grid ON incidents (grid);
CREATE TABLE events (id bigserial PRIMARY KEY, incident bigint NOT NULL REFERENCES incidents (id), seq int NOT NULL, at bigint NOT NULL,
                     actor text, role text NOT NULL, action text NOT NULL, from_status text, to_status text, note text, data jsonb,
                     UNIQUE (incident, seq));
\copy events (incident, seq, at, actor, role, action, from_status, to_status, note, data) FROM '$work/events.csv' WITH (FORMAT csv)
CREATE INDEX events_at ON events (at);
VACUUM ANALYZE;
SQL
cat >"$work/reassign.sql" <<'SQL'
SET max_parallel_workers_per_gather = 0;
BEGIN;
-- The new version: every grid re-coded (same community, serial + 500).
INSERT INTO grids SELECT 2, substr(code, 1, 12) || (500 + substr(code, 13)::int)::text, geom FROM grids WHERE version = 1;
-- Open cases whose grid in the new version differs.
CREATE TEMP TABLE moves ON COMMIT DROP AS
  SELECT i.id, i.status, i.grid AS from_grid, g.code AS to_grid
  FROM incidents i JOIN grids g ON g.version = 2 AND ST_Covers(g.geom, i.geom)
  WHERE i.status IN ('reported', 'registered', 'dispatched', 'accepted', 'returned', 'handled', 'rework')
    AND i.grid IS DISTINCT FROM g.code;
UPDATE incidents i SET grid = m.to_grid, updated_at = (extract(epoch FROM now()) * 1000)::bigint FROM moves m WHERE i.id = m.id;
INSERT INTO events (incident, seq, at, actor, role, action, from_status, to_status, note, data)
  SELECT m.id, (SELECT max(seq) + 1 FROM events e WHERE e.incident = m.id), (extract(epoch FROM now()) * 1000)::bigint,
         'planner', 'system', 'reassign', m.status, m.status, 'grids version 2: ' || m.from_grid || ' → ' || m.to_grid,
         jsonb_build_object('layer', 'grids', 'version', 2, 'from', m.from_grid, 'to', m.to_grid)
  FROM moves m;
SELECT count(*) FROM moves;
COMMIT;
SQL
t0=$(date +%s.%N)
pg_moved=$(psql -q -At -d bench -f "$work/reassign.sql" | grep -E '^[0-9]+$' | tail -n 1)
t1=$(date +%s.%N)
pg_ms=$(python3 -c "print(round(($t1 - $t0) * 1000))")

echo
echo "re-coding every grid with $(sqlite3 "$cases_db" "SELECT count(*) FROM incidents WHERE status IN ('reported','registered','dispatched','accepted','returned','handled','rework')") open cases:"
echo "  OneGrid Planner::publish: ${og_ms} ms (of which validation ${og_validation_ms} ms), ${og_moved} cases moved"
echo "  PostGIS re-assignment:    ${pg_ms} ms (no coverage validation), ${pg_moved} cases moved"
python3 -c "print(f'  ratio PostGIS / OneGrid: {$pg_ms / $og_ms:.2f}')"
[ "$pg_moved" = "$og_moved" ] || echo "  NOTE: the moved counts differ (cases outside every grid are placed on the nearest grid by OneGrid only)"
