#!/usr/bin/env bash
# Installs what is missing, builds OneGrid (Release), builds the demo district (synthetic, modelled
# on Penglai) with a year of cases, and starts the server on http://127.0.0.1:8080 with the three
# department plugins. Stop it with Ctrl-C.
#
#   scripts/demo.sh            (ONEGRID_LISTEN=127.0.0.1:9090 scripts/demo.sh to use another port)
#   scripts/demo.sh --fresh    rebuild the demo database from scratch
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
listen="${ONEGRID_LISTEN:-127.0.0.1:8080}"
scripts/install-deps.sh --browser
scripts/lib/web-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target onegrid plugins
onegrid="$root/build/release/apps/onegrid"
plugins="$root/build/release/plugins"
demo="$root/data/demo"
db="$demo/onegrid.db"
mkdir -p "$demo"
[ "${1:-}" = "--fresh" ] && rm -rf "$db" "$db-wal" "$db-shm" "$db.media" "$demo/tokens.txt"

if [ ! -f "$db" ]; then
  echo "== building the demo district and its database"
  "$onegrid" demo-district --out "$demo" --points 0 >/dev/null
  scripts/lib/demo-db.sh "$onegrid" "$demo/district.gpkg" data/reference/penglai.json "$db" "$plugins"
  echo "== a year of cases (synthetic)"
  "$onegrid" demo-history --db "$db" --incidents 30000 --to "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  {
    echo "# Demo tokens (Authorization: Bearer <token>); Open311 api_key: the citizen token"
    for role in citizen grid_worker hotline_operator town_officer planner command_centre admin; do
      extra=()
      case "$role" in
        grid_worker) extra=(--grid 370614001005021 --user gw-370614001005021) ;;
        town_officer) extra=(--town 370614001) ;;
      esac
      echo "$role=$("$onegrid" token create --db "$db" --role "$role" --label demo "${extra[@]}")"
    done
    echo "department_handler=$("$onegrid" token create --db "$db" --role department_handler --department cgj --label demo)"
  } > "$demo/tokens.txt"
fi

base="http://$listen"
cat <<MSG

== OneGrid demo district: $base
  OGC API Features   $base/                     (QGIS/GDAL: OAPIF:$base)
  Collections        $base/collections?f=html
  Vector tiles       $base/tiles/grids,incidents.json   (TileJSON for MapLibre)
  Open311            $base/open311/v2/services.json
  Workflow API       $base/v1/incidents          (bearer tokens in data/demo/tokens.txt)
  Planner            $base/planner/
  Command centre     $base/dashboard/
  Health, metrics    $base/healthz  $base/metrics
Tokens: $demo/tokens.txt     Stop: Ctrl-C

MSG
exec "$onegrid" serve --db "$db" --plugins "$plugins" --listen "$listen" \
  --web-root "$root/server/web" --vendor-root "$root/server/web/node_modules" --access-log "$demo/access.log"
