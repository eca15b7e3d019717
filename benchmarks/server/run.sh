#!/usr/bin/env bash
# Server benchmark (issue 6, "Speed"): the onegrid server against nginx and PostGIS, on the same
# machine and the same data, in one run.
#
#   benchmarks/server/run.sh [BUILD_DIR]        (default build/release)
#
#   1. data: the demo database (district, reference data, plugin layers) with 1,000,000 incidents
#      from `onegrid demo-history` (cached in benchmarks/results/, git-ignored; made when missing,
#      ~10 min); every run works on a fresh copy of it.
#   2. a cached tile (grids,incidents, z14, the tile with ~5,000 incidents) over keep-alive,
#      against a private nginx serving the same bytes as a static file (keep-alive too);
#   3. OGC API items: bbox queries with limit=100, rotating over 8 bboxes that each hold >= 300
#      incidents (benchmarks/server/items.lua);
#   4. the same z14 tile of the incident layer alone, uncached (a second server started with
#      --tile-cache-mb 0: every request renders), against PostGIS ST_AsMVT on the same incidents
#      (benchmarks/peers/postgis_mvt.sh, pgbench); the points in the tile are counted three ways;
#   5. durable intake: POST /v1/incidents with a grid worker's token, 32 connections, a unique
#      client request id per request (benchmarks/server/intake.lua); last, as it changes the data.
#      Then: the incidents table grew by exactly the server's acknowledged intakes, every new row
#      carries this run's request ids, and wrk's 2xx answers are those minus at most one in flight per
#      connection when wrk stopped.
# Every server is started on a free port and waited for until its background loading is done (its
# CPU use falls); everything started is stopped on exit.
#
# Environment: DURATION (wrk and pgbench seconds per run, default 10), THREADS (wrk, default 2),
# CONNECTIONS (default 32), KEEP_WORK=1 keeps the working copy of the database.
# Output: a summary table on standard output and in benchmarks/results/server-<date>.md, the full
# log in benchmarks/results/server-<date>.log. The machine's load (uptime) is recorded with them:
# figures from a shared machine are low in absolute terms; ratios are measured in the same run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build/release}" && pwd)"
onegrid="$build/apps/onegrid"
plugins="$build/plugins"
demo_db="$build/demo-data/onegrid.db"
results="$root/benchmarks/results"
duration="${DURATION:-10}"
threads="${THREADS:-2}"
conns="${CONNECTIONS:-32}"
n_incidents=1000000
history_to="2026-11-29T12:00:00+08:00"
cache_db="$results/server-incidents-$n_incidents.db"

[ -x "$onegrid" ] || { echo "run.sh: build first: $onegrid not found" >&2; exit 1; }
[ -f "$demo_db" ] || { echo "run.sh: $demo_db not found (build the demo_db target)" >&2; exit 1; }
for tool in wrk nginx curl python3 sqlite3 psql pgbench xxd; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (scripts/install-deps.sh --bench --postgres)" >&2; exit 1; }
done

mkdir -p "$results"
stamp="$(date +%Y%m%d-%H%M%S)"
day="$(date +%F)"
log="$results/server-$day.log"
summary="$results/server-$day.md"
exec > >(tee "$log") 2>&1

work="$(mktemp -d /tmp/onegrid-server-bench.XXXXXX)"
chmod 755 "$work"
# The working copy of the database lives next to the results (same disk as the cached one; the
# intake test measures real syncs there, not a tmpfs).
db="$results/server-run-$stamp.db"
pids=()
nginx_pid=""
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  [ -z "$nginx_pid" ] || kill -QUIT "$nginx_pid" 2>/dev/null || true
  for p in "${pids[@]}" $nginx_pid; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$db" "$db-wal" "$db-shm" "$db.media" "$db".pre-v*; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$(date +%T) == $*"; }
load_now() { uptime | sed 's/.*load average: //'; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wrk_rps ARGS...: runs wrk, keeps its output in $work/wrk.out, prints requests/s. Fails on socket
# errors or non-2xx answers (except for the intake script, which counts statuses itself).
wrk_run() {
  wrk "$@" >"$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; return 1; }
  sed 's/^/    /' "$work/wrk.out" >&2
  if grep -q "Non-2xx or 3xx responses" "$work/wrk.out"; then
    echo "run.sh: wrk saw error responses" >&2
    return 1
  fi
  sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$work/wrk.out"
}

# Mean latency reported by wrk, in milliseconds.
wrk_latency_ms() {
  awk '/^ *Latency/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
        printf "%.3f\n", v * f; exit }' "$work/wrk.out"
}

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }

# ---- environment ------------------------------------------------------------------------------

say "server benchmark, $(date -Is)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem/ {print $2}') GB"
load_start="$(load_now)"
echo "uptime: $(uptime)"
echo "load average before the run: $load_start (anything above ~0.3 means other work shares the cores)"
echo "build: $build; wrk -t$threads -c$conns -d${duration}s; $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1)"

# ---- 1. data ----------------------------------------------------------------------------------

if [ ! -f "$cache_db" ]; then
  say "generating $n_incidents incidents once (cached in $cache_db)"
  rm -rf "$cache_db.building" "$cache_db.building-wal" "$cache_db.building-shm" "$cache_db.building.media"
  cp "$demo_db" "$cache_db.building"
  [ ! -d "$demo_db.media" ] || cp -r "$demo_db.media" "$cache_db.building.media"
  start=$(date +%s)
  "$onegrid" demo-history --db "$cache_db.building" --incidents "$n_incidents" --to "$history_to"
  echo "generated in $(( $(date +%s) - start )) s"
  [ ! -e "$cache_db.building-wal" ] || { echo "run.sh: the generator left a WAL behind" >&2; exit 1; }
  rm -rf "$cache_db.media"
  [ ! -d "$cache_db.building.media" ] || mv "$cache_db.building.media" "$cache_db.media"
  mv "$cache_db.building" "$cache_db"
else
  say "reusing $cache_db"
fi
cp --reflink=auto "$cache_db" "$db"
[ ! -d "$cache_db.media" ] || cp -r "$cache_db.media" "$db.media"
total=$(sqlite3 -readonly "$db" "SELECT count(*) FROM incidents")
echo "working copy: $db ($total incidents, $(du -m "$db" | cut -f1) MB)"
[ "$total" -ge "$n_incidents" ] || { echo "run.sh: expected at least $n_incidents incidents" >&2; exit 1; }

eval "$(python3 "$root/benchmarks/server/pick.py" "$db")"
echo "tiles: centre z14 $busy_x/$busy_y ($busy_n incidents), ~5,000 points: z14 $dense_x/$dense_y ($dense_n incidents)"
echo "bboxes for the items query: $bboxes"
echo "  incidents in each (counted from the table): $bboxes_n"

worker_grid=$(sqlite3 -readonly "$db" "SELECT grid FROM incidents WHERE grid IS NOT NULL AND grid <> '' LIMIT 1")
token=$("$onegrid" token create --db "$db" --role grid_worker --grid "$worker_grid" --label "server benchmark")

# start_server NAME TILE_CACHE_MB: starts `onegrid serve` on a free port; sets <NAME>_port.
start_server() {
  local name="$1" mb="$2" port
  port=$(free_port)
  "$onegrid" serve --db "$db" --plugins "$plugins" --listen "127.0.0.1:$port" --access-log off \
    --tile-cache-mb "$mb" >"$work/$name.log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; echo "run.sh: server $name died" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "run.sh: server $name did not start" >&2; exit 1; }
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_pid" '%s' "$pid"
  settle "$pid"
}

# settle PID: waits (at most 5 minutes) until the server has finished its background loading (the
# case log of a million cases, the scheduler's first pass): its own CPU time grows by less than 5%
# of a core over two seconds. Other processes' load does not count.
settle() {
  local pid="$1" a b waited=0 hz
  hz=$(getconf CLK_TCK)
  while [ "$waited" -lt 300 ]; do
    a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    waited=$((waited + 2))
    if [ $(( (b - a) * 100 )) -lt $(( 5 * 2 * hz )) ]; then
      echo "server $pid settled after ${waited} s"
      return 0
    fi
  done
  echo "run.sh: server $pid still busy after 300 s; measuring anyway" >&2
}

stop_server() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

say "starting onegrid serve (tile cache 256 MB)"
t0=$(date +%s.%N)
start_server cached 256
echo "listening on 127.0.0.1:$cached_port after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
grep -h "scheduler:" "$work/cached.log" || true
ours="http://127.0.0.1:$cached_port"

# ---- 2. cached tile against nginx ---------------------------------------------------------------

say "2. cached tile over keep-alive: onegrid against nginx serving the same bytes (load $(load_now))"
tile_path="/tiles/grids,incidents/14/$dense_x/$dense_y.mvt"
mkdir -p "$work/nginx/root/tiles/grids,incidents/14/$dense_x" "$work/nginx/tmp"
curl -sf -o "$work/warm.mvt" "$ours$tile_path"
curl -sf -D "$work/ours.headers" -o "$work/nginx/root$tile_path" "$ours$tile_path"
cmp -s "$work/warm.mvt" "$work/nginx/root$tile_path" || { echo "run.sh: the cached tile differs from the first" >&2; exit 1; }
chmod -R a+rX "$work/nginx/root"
tile_bytes=$(stat -c %s "$work/nginx/root$tile_path")
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  types { application/vnd.mapbox-vector-tile mvt; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/root;
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port$tile_path" && break; sleep 0.1; done
curl -sf -D "$work/nginx.headers" -o "$work/nginx.mvt" "http://127.0.0.1:$nginx_port$tile_path"
cmp -s "$work/nginx.mvt" "$work/nginx/root$tile_path" || { echo "run.sh: nginx serves other bytes" >&2; exit 1; }
echo "tile $tile_path: $tile_bytes bytes, $dense_n incidents; both answer with the same bytes"
echo "  onegrid: $(grep -i '^content-type' "$work/ours.headers" | tr -d '\r'), $(wc -c <"$work/ours.headers") header bytes"
echo "  nginx:   $(grep -i '^content-type' "$work/nginx.headers" | tr -d '\r'), $(wc -c <"$work/nginx.headers") header bytes"
tile_ours=0 tile_nginx=0
for round in 1 2; do
  echo "  round $round: onegrid"
  r=$(wrk_run -t"$threads" -c"$conns" -d"${duration}s" "$ours$tile_path"); tile_ours=$(max "$tile_ours" "$r")
  echo "  round $round: nginx"
  r=$(wrk_run -t"$threads" -c"$conns" -d"${duration}s" "http://127.0.0.1:$nginx_port$tile_path"); tile_nginx=$(max "$tile_nginx" "$r")
done
kill -QUIT "$nginx_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=""
load_tile="$(load_now)"
echo "cached tile: onegrid $tile_ours req/s, nginx $tile_nginx req/s (better of two interleaved runs each)"

# ---- 3. OGC items bbox -------------------------------------------------------------------------

say "3. OGC API items: bbox with limit=100, rotating over $(wc -w <<<"$bboxes") bboxes (load $(load_now))"
items_min=""
items_max=0
items_bytes=0
for b in $bboxes; do
  curl -sf -o "$work/items.json" "$ours/collections/incidents/items?bbox=$b&limit=100"
  read -r m r < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["numberMatched"], d["numberReturned"])' "$work/items.json")
  echo "  bbox=$b: numberMatched $m, numberReturned $r, $(stat -c %s "$work/items.json") bytes"
  [ "$r" = 100 ] && [ "$m" -ge 100 ] || { echo "run.sh: bbox $b does not return 100 of >= 100 incidents" >&2; exit 1; }
  [ -n "$items_min" ] && [ "$items_min" -le "$m" ] || items_min=$m
  [ "$items_max" -ge "$m" ] || items_max=$m
  items_bytes=$(max "$items_bytes" "$(stat -c %s "$work/items.json")")
done
items_rps=0
for round in 1 2; do
  echo "  round $round"
  r=$(BBOXES="$bboxes" wrk_run -t"$threads" -c"$conns" -d"${duration}s" -s "$root/benchmarks/server/items.lua" "$ours")
  items_rps=$(max "$items_rps" "$r")
done
load_items="$(load_now)"
echo "OGC items: $items_rps req/s (better of two runs)"

# ---- 4. uncached tile against PostGIS ----------------------------------------------------------

say "4. uncached z14 incident tile (~5,000 points): onegrid --tile-cache-mb 0 against PostGIS ST_AsMVT (load $(load_now))"
start_server uncached 0
unc="http://127.0.0.1:$uncached_port"
dense_path="/tiles/incidents/14/$dense_x/$dense_y.mvt"
dense_bbox=$(python3 -c '
import math, sys
z, x, y = 14, int(sys.argv[1]), int(sys.argv[2])
n = 1 << z
lon = lambda x: x / n * 360 - 180
lat = lambda y: math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
print(f"{lon(x)!r},{lat(y + 1)!r},{lon(x + 1)!r},{lat(y)!r}")' "$dense_x" "$dense_y")
dense_api_n=$(curl -sf "$unc/collections/incidents/items?bbox=$dense_bbox&limit=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')
curl -sf -o "$work/dense.mvt" "$unc$dense_path"
dense_bytes=$(stat -c %s "$work/dense.mvt")
echo "tile $dense_path: $dense_api_n incidents in its bbox by the OGC API, $dense_bytes bytes (uncompressed MVT)"
misses_before=$(curl -sf "$unc/metrics" | awk '$1 == "onegrid_tile_cache_misses_total" {print $2}')
unc_c1=0 unc_c2=0 unc_lat1="" unc_lat2=""
for round in 1 2; do
  echo "  round $round: 1 connection"
  r=$(wrk_run -t1 -c1 -d"${duration}s" "$unc$dense_path")
  if awk -v a="$r" -v b="$unc_c1" 'BEGIN {exit !(a + 0 > b + 0)}'; then unc_c1=$r; unc_lat1=$(wrk_latency_ms); fi
  echo "  round $round: 2 connections"
  r=$(wrk_run -t2 -c2 -d"${duration}s" "$unc$dense_path")
  if awk -v a="$r" -v b="$unc_c2" 'BEGIN {exit !(a + 0 > b + 0)}'; then unc_c2=$r; unc_lat2=$(wrk_latency_ms); fi
done
metrics=$(curl -sf "$unc/metrics")
hits=$(awk '$1 == "onegrid_tile_cache_hits_total" {print $2}' <<<"$metrics")
misses=$(awk '$1 == "onegrid_tile_cache_misses_total" {print $2}' <<<"$metrics")
echo "uncached server: $((misses - misses_before)) tiles rendered during the runs, $hits served from a cache"
[ "$hits" = 0 ] || { echo "run.sh: the uncached server served tiles from its cache" >&2; exit 1; }
stop_server "$uncached_pid"
load_unc="$(load_now)"
echo "uncached tile: onegrid $unc_c1 tiles/s (mean latency $unc_lat1 ms) with 1 connection, $unc_c2 tiles/s ($unc_lat2 ms) with 2"

DURATION="$duration" "$root/benchmarks/peers/postgis_mvt.sh" "$db" 14 "$dense_x" "$dense_y" "$work" | tee "$work/postgis.out"
pg() { sed -n "s/^RESULT $1=//p" "$work/postgis.out"; }
pg_features=$(pg features) pg_bytes=$(pg bytes) pg_c1=$(pg tps_c1) pg_c2=$(pg tps_c2)
pg_lat1=$(pg latency_ms_c1) pg_lat2=$(pg latency_ms_c2) pg_version=$(pg version)
pg_mode1=$(pg mode_c1) pg_mode2=$(pg mode_c2)
[ -n "$pg_c1" ] && [ -n "$pg_c2" ] || { echo "run.sh: the PostGIS peer gave no figures" >&2; exit 1; }
echo "PostGIS ($pg_version): $pg_features incidents in the tile, $pg_bytes bytes; $pg_c1 tiles/s ($pg_lat1 ms, $pg_mode1) with 1 client, $pg_c2 tiles/s ($pg_lat2 ms, $pg_mode2) with 2"
if command -v ogrinfo >/dev/null; then
  # Both tiles decoded by GDAL's MVT driver: the same number of features.
  mkdir -p "$work/decode/ours/14/$dense_x" "$work/decode/pg/14/$dense_x"
  cp "$work/dense.mvt" "$work/decode/ours/14/$dense_x/$dense_y.pbf"
  cp "$work/postgis-14-$dense_x-$dense_y.mvt" "$work/decode/pg/14/$dense_x/$dense_y.pbf"
  ours_decoded=$(ogrinfo -ro -so "$work/decode/ours/14/$dense_x/$dense_y.pbf" incidents 2>/dev/null | sed -n 's/^Feature Count: //p')
  pg_decoded=$(ogrinfo -ro -so "$work/decode/pg/14/$dense_x/$dense_y.pbf" incidents 2>/dev/null | sed -n 's/^Feature Count: //p')
  echo "decoded by GDAL: onegrid tile $ours_decoded features, PostGIS tile $pg_decoded features"
fi
echo "points in tile 14/$dense_x/$dense_y: $dense_n by lon/lat from the table, $dense_api_n by the OGC API bbox, $pg_features by PostGIS (geom && ST_TileEnvelope, edges included)"

# ---- 5. intake ---------------------------------------------------------------------------------

say "5. durable intake: POST /v1/incidents, $conns connections (load $(load_now))"
run_tag="$stamp-$$-m"
acked() { curl -sf "$ours/metrics" | awk '$1 == "onegrid_intake_total" {print $2}'; }
# Warm-up (not counted): the first concurrent writes open the server's pool of read connections.
ONEGRID_TOKEN="$token" ONEGRID_RUN="$stamp-$$-w" wrk -t"$threads" -c"$conns" -d3s --timeout 10s \
  -s "$root/benchmarks/server/intake.lua" "$ours" >"$work/intake-warm.out" 2>&1 || true
echo "  warm-up: $(grep -E '^status' "$work/intake-warm.out" | tr '\n' ' ')"
sleep 2
before=$(sqlite3 -readonly "$db" "SELECT count(*) FROM incidents")
acked_before=$(acked)
ONEGRID_TOKEN="$token" ONEGRID_RUN="$run_tag" wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s -s "$root/benchmarks/server/intake.lua" "$ours" \
  >"$work/intake.out" 2>&1 || { cat "$work/intake.out" >&2; exit 1; }
sed 's/^/    /' "$work/intake.out"
load_intake="$(load_now)"
sleep 2  # requests wrk left in flight when it stopped finish on the server
after=$(sqlite3 -readonly "$db" "SELECT count(*) FROM incidents")
acked_after=$(acked)
tagged=$(sqlite3 -readonly "$db" "SELECT count(*) FROM incidents WHERE request_id LIKE 'bench-$run_tag-%'")
created=$(awk '$1 == "status" && $2 == "2xx" {print $3}' "$work/intake.out")
created=${created:-0}
others=$(awk '$1 == "status" && $2 == "other" {n += $3} END {print n + 0}' "$work/intake.out")
secs=$(sed -n 's/.* requests in \([0-9.]*\)\(m\?s\).*/\1 \2/p' "$work/intake.out" |
  awk '{print ($2 == "ms") ? $1 / 1000 : $1}')
intake_rate=$(awk -v n="$created" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
grew=$((after - before))
server_acked=$((acked_after - acked_before))
echo "intake: $created answered 2xx (201, new rows: checked below) to wrk in $secs s = $intake_rate incidents/s; $others other answers"
echo "incidents table: $before -> $after (grew by $grew); acknowledged by the server: $server_acked;" \
  "rows with this run's request ids: $tagged; 2xx wrk saw: $created (in flight when wrk stopped: $((grew - created)))"
intake_ok=yes
if [ "$others" -ne 0 ] || [ "$grew" -ne "$server_acked" ] || [ "$tagged" -ne "$grew" ] || [ "$grew" -lt "$created" ] ||
   [ $((grew - created)) -gt "$conns" ]; then
  intake_ok=no
  echo "run.sh: intake check FAILED (rows must equal the server's acknowledgements and carry this run's ids; every 201 must be in the table)" >&2
else
  echo "intake check passed: the table grew by exactly the acknowledged intakes, all with this run's request ids"
fi
stop_server "$cached_pid"
after_stop=$(sqlite3 -readonly "$db" "SELECT count(*) FROM incidents")
echo "after the server stopped: $after_stop incidents"
[ "$after_stop" -eq "$after" ] || { echo "run.sh: rows changed after the check" >&2; intake_ok=no; }

# ---- summary -----------------------------------------------------------------------------------

say "summary"
load_end="$(load_now)"
python3 - "$summary" <<PY
import sys
def f(v): return f"{float(v):,.0f}"
rows = []
def row(metric, ours, peer, ratio, target, met):
    rows.append((metric, ours, peer, ratio, target, "yes" if met else "NO"))
t_o, t_n = float("$tile_ours"), float("$tile_nginx")
row("cached tile z14 grids,incidents ($tile_bytes B), keep-alive, req/s", f(t_o), f(t_n) + " (nginx)",
    f"{100 * t_o / t_n:.0f}%", ">= 70% of nginx", t_o >= 0.7 * t_n)
i = float("$items_rps")
row("OGC items bbox, limit=100 (8 bboxes, $items_min-$items_max matched of 1,000,000), req/s", f(i), "-", "-",
    ">= 10,000 req/s", i >= 10000)
for c, o, p, lo, lp, m in (("1", "$unc_c1", "$pg_c1", "$unc_lat1", "$pg_lat1", "$pg_mode1"),
                           ("2", "$unc_c2", "$pg_c2", "$unc_lat2", "$pg_lat2", "$pg_mode2")):
    o, p = float(o), float(p)
    row(f"uncached tile z14 incidents ($dense_api_n points), {c} conn, tiles/s (mean ms)",
        f"{f(o)} ({float(lo):.2f} ms)", f"{p:,.1f} ({float(lp):.1f} ms) (PostGIS, {m})", f"{o / p:.1f}x", ">= 10x PostGIS", o >= 10 * p)
n = float("$intake_rate")
row("durable intake POST, $conns conn, unique request ids, incidents/s ($created created; check: $intake_ok)", f(n), "-", "-",
    ">= 5,000/s", n >= 5000 and "$intake_ok" == "yes")
head = ("metric", "ours", "peer", "ratio", "target", "met?")
w = [max(len(str(r[k])) for r in rows + [head]) for k in range(6)]
lines = ["| " + " | ".join(str(c).ljust(w[k]) for k, c in enumerate(r)) + " |" for r in [head] + rows]
lines.insert(1, "|" + "|".join("-" * (w[k] + 2) for k in range(6)) + "|")
out = "\n".join(lines)
print(out)
notes = [
    "",
    "Server benchmark $(date -Is) ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ', with uncommitted changes')), build $build.",
    "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), shared with other work.",
    "Load average (1, 5, 15 min): start $load_start; after the tile runs $load_tile; after items $load_items;",
    "after the uncached tiles $load_unc; after intake $load_intake; end $load_end.",
    "wrk -t$threads -c$conns -d${duration}s (uncached tiles: -t1 -c1 and -t2 -c2); req/s: the better of two runs; tile runs",
    "interleaved onegrid/nginx (nginx: $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(nproc) workers, sendfile, access log off).",
    "PostGIS ($pg_version): pgbench -M prepared -T $duration, the better of parallel workers on/off; connections excluded.",
    "Points in the uncached tile: $dense_n by lon/lat, $dense_api_n by our OGC API bbox, $pg_features by PostGIS (edges included).",
]
print("\n".join(notes))
with open(sys.argv[1], "w") as fh:
    fh.write(out + "\n" + "\n".join(notes) + "\n")
PY
echo "summary: $summary; log: $log"
