#!/usr/bin/env bash
# Peer benchmark for the store: the same workloads on PostgreSQL 15 / PostGIS 3 and on OneGrid's
# SpatiaLite store, in the same run, with the ratios.
#
#   1. durable single-row intake: 32 clients (and 1), INSERT ... COMMIT, synchronous_commit = on
#   2. bbox query returning ~1,000 of 1,000,000 points (GiST index)
#
# The 32-client intake runs in ROUNDS rounds (default 3), PostgreSQL then OneGrid in each, and is
# reported per round and as medians: on a shared machine the disk and CPUs speed up and slow down
# from one minute to the next, and alternating keeps both sides in the same minutes.
#
#   benchmarks/peers/postgres_store.sh [BUILD_DIR]      (ROUNDS=n, PG_SECONDS=s per PostgreSQL run)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
bench="$build/benchmarks/bench_store"
secs="${PG_SECONDS:-10}"
rounds="${ROUNDS:-3}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive whole number, not '$rounds'" >&2; exit 2; }
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "PG_SECONDS must be a positive whole number, not '$secs'" >&2; exit 2; }
[ -x "$bench" ] || { echo "build first: $bench not found" >&2; exit 1; }
"$root/scripts/install-deps.sh" --postgres >/dev/null
# shellcheck source=../../scripts/lib/pg_private.sh
source "$root/scripts/lib/pg_private.sh"
work="$(mktemp -d /tmp/onegrid-pg-store.XXXXXX)"
chmod 755 "$work"
cleanup() { pg_private_stop; rm -rf "$work"; }
trap cleanup EXIT
pg_private_start "$work/pg"
trap cleanup EXIT
pgbench="$PG_PRIVATE_BIN/pgbench"

echo "$(date +%T) == PostgreSQL: schema like OneGrid's incidents table (same indexes)"
psql -q -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -q -d bench <<'SQL' >/dev/null
CREATE EXTENSION postgis;
CREATE TABLE incidents (
  id bigserial PRIMARY KEY, request_id text UNIQUE, source text NOT NULL, category text NOT NULL,
  description text, address text, lon float8 NOT NULL, lat float8 NOT NULL, grid text, community text, town text,
  department text, status text NOT NULL, reporter_id text, reported_at bigint NOT NULL, updated_at bigint NOT NULL,
  geom geometry(Point, 4490) NOT NULL) WITH (autovacuum_enabled = off);
CREATE INDEX ON incidents (status);
CREATE INDEX ON incidents (grid);
CREATE INDEX ON incidents (department, status);
CREATE INDEX ON incidents (reported_at);
CREATE INDEX ON incidents USING gist (geom);
SHOW synchronous_commit;
SQL
cat >"$work/insert.sql" <<'SQL'
\set x random(0, 1000000000)
INSERT INTO incidents (request_id, source, category, description, address, lon, lat, grid, community, town, department,
  status, reporter_id, reported_at, updated_at, geom)
VALUES (md5(random()::text || :client_id || :x), 'grid_worker', '0101', '道路破损，影响通行', '登州街道钟楼社区',
  120.55 + random() * 0.3, 37.5 + random() * 0.3, '370614001001' || (100 + :x % 900), '370614001001', '370614001', '',
  'reported', 'gw1', extract(epoch from now())::bigint * 1000, extract(epoch from now())::bigint * 1000,
  ST_SetSRID(ST_MakePoint(120.55 + random() * 0.3, 37.5 + random() * 0.3), 4490));
SQL
tps_of() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1; }
# Each side starts on a quiet disk: PostgreSQL's dirty pages are written out before OneGrid runs
# (its autovacuum is off for the intake table, which would otherwise visit it in OneGrid's time).
quiet() { psql -q -d bench -c "CHECKPOINT" >/dev/null; sync; }
og_run() {  # FILTER OUT: bench_store rows matching FILTER, JSON to OUT
  "$bench" --benchmark_filter="$1" --benchmark_format=json --benchmark_out="$2" >/dev/null 2>"$work/onegrid.err" \
    || { cat "$work/onegrid.err" >&2; exit 1; }
}
pg32=()
for r in $(seq "$rounds"); do
  quiet
  echo "$(date +%T) == round $r/$rounds: PostgreSQL, durable intake, 32 clients, ${secs}s"
  pg32+=("$("$pgbench" -n -c 32 -j 2 -T "$secs" -f "$work/insert.sql" bench 2>/dev/null | tps_of)")
  quiet
  echo "$(date +%T) == round $r/$rounds: OneGrid, durable intake, 32 callers"
  og_run 'Durable_32Callers' "$work/onegrid32-$r.json"
done
quiet
echo "$(date +%T) == PostgreSQL: durable intake, 1 client, ${secs}s"
pg1=$("$pgbench" -n -c 1 -j 1 -T "$secs" -f "$work/insert.sql" bench 2>/dev/null | tps_of)
echo "$(date +%T) == PostGIS: 1,000,000 points, GiST index"
psql -q -d bench <<'SQL' >/dev/null
CREATE TABLE pts AS
  SELECT g AS id, ST_SetSRID(ST_MakePoint(120.55 + random() * 0.3, 37.5 + random() * 0.3), 4490) AS geom,
         'reported'::text AS status, '0101'::text AS category
  FROM generate_series(1, 1000000) g;
CREATE INDEX ON pts USING gist (geom);
VACUUM ANALYZE pts;
SQL
cat >"$work/bbox.sql" <<'SQL'
\set xi random(0, 290500)
\set yi random(0, 290500)
SELECT id, status, category, ST_X(geom), ST_Y(geom) FROM pts
 WHERE geom && ST_MakeEnvelope(120.55 + :xi / 1000000.0, 37.5 + :yi / 1000000.0,
                               120.55 + :xi / 1000000.0 + 0.0094868, 37.5 + :yi / 1000000.0 + 0.0094868, 4490);
SQL
echo "$(date +%T) == PostGIS: bbox query, 1 client, ${secs}s"
pgbbox=$("$pgbench" -n -c 1 -j 1 -T "$secs" -f "$work/bbox.sql" bench 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
rows=$(psql -d bench -At -c "SELECT count(*) FROM pts WHERE geom && ST_MakeEnvelope(120.7, 37.65, 120.7094868, 37.6594868, 4490)")
pg_private_stop
sync
echo "$(date +%T) == OneGrid: 1 caller and the bbox query"
og_run 'Durable_1Caller|BboxQuery' "$work/onegrid1.json"
python3 - "$work" "$rounds" "$pg1" "$pgbbox" "$rows" "${pg32[@]}" <<'PY'
import json, statistics, sys
work, rounds, pg1, pgq, rows = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
pg32 = [float(v) for v in sys.argv[6:]]
def rows_of(path):
    return {x["name"].split("/")[0]: x for x in json.load(open(path))["benchmarks"]}
og32, og32m = [], []
for r in range(1, rounds + 1):
    b = rows_of(f"{work}/onegrid32-{r}.json")
    og32.append(b["BM_Intake_Durable_32Callers"]["items_per_second"])
    og32m.append(b["BM_Intake_Durable_32Callers_2ClientThreads"]["items_per_second"])
b = rows_of(f"{work}/onegrid1.json")
og1 = b["BM_Intake_Durable_1Caller"]["items_per_second"]
ogq = b["BM_BboxQuery_1000of1M"]["real_time"]  # ms
returned = b["BM_BboxQuery_1000of1M"]["returned_avg"]
print("durable intake, 32 callers (acknowledged/s), PostgreSQL then OneGrid in each round:")
print(f"  {'round':>5} {'PostgreSQL':>11} {'OneGrid, thread per caller':>27} {'OneGrid, 2 client threads':>26}")
for r in range(rounds):
    print(f"  {r + 1:>5} {pg32[r]:11.0f} {og32[r]:20.0f} {og32[r] / pg32[r]:5.1f}x {og32m[r]:19.0f} {og32m[r] / pg32[r]:5.1f}x")
med = statistics.median
print(f"  {'median':>5} {med(pg32):11.0f} {med(og32):20.0f} {med(og32) / med(pg32):5.1f}x {med(og32m):19.0f} {med(og32m) / med(pg32):5.1f}x")
print()
print(f"{'workload':52} {'OneGrid':>12} {'PostgreSQL':>12} {'ratio':>7}")
print(f"{'durable intake, 32 callers, median (acknowledged/s)':52} {med(og32):12.0f} {med(pg32):12.0f} {med(og32)/med(pg32):6.1f}x")
print(f"{'  the same, 32 callers on 2 client threads':52} {med(og32m):12.0f} {med(pg32):12.0f} {med(og32m)/med(pg32):6.1f}x")
print(f"{'durable intake, 1 caller (acknowledged/s)':52} {og1:12.0f} {pg1:12.0f} {og1/pg1:6.1f}x")
print(f"{'bbox query, ~1,000 of 1,000,000 (ms, lower is better)':52} {ogq:12.2f} {pgq:12.2f} {pgq/ogq:6.1f}x")
print(f"  (PostgreSQL's 32 clients run on 2 client threads, pgbench -c 32 -j 2; OneGrid's first 32-caller")
print(f"   row has one thread per caller, its second 2 client threads with 16 callers each;")
print(f"   OneGrid returned {returned:.0f} rows on average; PostGIS sample box: {rows} rows;")
print(f"   OneGrid writes the incident, its business grids, first event and outbox message per intake,")
print(f"   PostgreSQL one row)")
PY
