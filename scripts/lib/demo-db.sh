#!/usr/bin/env bash
# Builds a OneGrid database for the demo district: the district, towns, communities and base grids
# (effective from 2026-01-01, Beijing time) and the reference data (departments, categories,
# routing rules, calendar). Written to a temporary name and renamed, so a failure leaves no file.
# With a plugin directory, the plugins' layers, categories and crosswalks are added too.
# usage: demo-db.sh ONEGRID_BINARY DISTRICT_GPKG REFERENCE_JSON OUT_DB [PLUGIN_DIR]
set -euo pipefail
onegrid="$1" district="$2" reference="$3" out="$4" plugins="${5:-}"
tmp="$out.building"
rm -rf "$tmp" "$tmp-wal" "$tmp-shm" "$tmp.media"
for layer in district towns communities grids; do
  "$onegrid" import --db "$tmp" --layer "$layer" --source "$district" --source-layer "$layer" \
    --effective-from 2026-01-01T00:00:00+08:00 --note "demo district" >/dev/null
done
"$onegrid" setup --db "$tmp" --reference "$reference" >/dev/null 2>&1
if [ -n "$plugins" ]; then
  "$onegrid" plugins --db "$tmp" --plugins "$plugins" --effective-from 2026-01-01T00:00:00+08:00 >/dev/null 2>&1
fi
rm -rf "$out" "$out-wal" "$out-shm" "$out.media"
[ ! -e "$tmp-wal" ] || { echo "demo-db.sh: $tmp-wal was left behind" >&2; exit 1; }
mv "$tmp" "$out"
[ -d "$tmp.media" ] && mv "$tmp.media" "$out.media"
echo "demo database: $out"
