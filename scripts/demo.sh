#!/usr/bin/env bash
# Installs what is missing, builds OneGrid (Release), generates the demo district (synthetic,
# modelled on Penglai) and runs the main job on it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target onegrid
onegrid="$root/build/release/apps/onegrid"
demo="$root/data/demo"
"$onegrid" demo-district --out "$demo"
echo
echo "== onegrid assign: every demo report to its grid"
"$onegrid" assign --grids "$demo/district.gpkg" --grids-layer grids --points "$demo/reports.csv" \
  --out "$demo/assigned.csv" --progress
