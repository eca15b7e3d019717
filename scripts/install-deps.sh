#!/usr/bin/env bash
# Installs the Debian 12 packages OneGrid needs, only those missing.
#
#   scripts/install-deps.sh              build, test and run (compilers, GDAL, GEOS, PROJ, SpatiaLite, Boost 1.74, ...)
#   scripts/install-deps.sh --postgres   also PostgreSQL 15 + PostGIS 3 (peers, PostGIS tests)
#   scripts/install-deps.sh --browser    also Chromium and Node.js/npm (browser tests)
#   scripts/install-deps.sh --bench      also wrk, hyperfine and nginx (server benchmarks)
#   scripts/install-deps.sh --all        everything
#
# Never installs libboost1.81-dev: on Debian 12 it removes libgdal-dev.
set -euo pipefail

base=(build-essential cmake ninja-build ccache pkg-config git python3
      libgdal-dev gdal-bin libgeos-dev libproj-dev proj-bin proj-data
      libsqlite3-dev sqlite3 libspatialite-dev libsqlite3-mod-spatialite
      libboost-dev libboost-program-options-dev libprotozero-dev nlohmann-json3-dev zlib1g-dev
      libsodium-dev libmagic-dev libexif-dev libxlsxwriter-dev libgoogle-perftools-dev
      libgtest-dev libgmock-dev libbenchmark-dev)
postgres=(postgresql-15 postgresql-15-postgis-3 postgresql-client-15)
browser=(chromium nodejs npm)
bench=(wrk hyperfine nginx-light)

want=("${base[@]}")
for arg in "$@"; do
  case "$arg" in
    --postgres) want+=("${postgres[@]}") ;;
    --browser) want+=("${browser[@]}") ;;
    --bench) want+=("${bench[@]}") ;;
    --all) want+=("${postgres[@]}" "${browser[@]}" "${bench[@]}") ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  # node and npm may come from elsewhere (the machine image); accept a working binary.
  if [ "$pkg" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
