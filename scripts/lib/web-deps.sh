#!/usr/bin/env bash
# Installs the front-end packages (server/web/package-lock.json) from npm when they are missing or
# out of date: MapLibre GL JS, Terra Draw, ECharts for the pages; @mapbox/vector-tile and
# playwright-core for the tests. The browser itself is Debian's chromium, never a download.
set -euo pipefail
web="$(cd "$(dirname "$0")/../../server/web" && pwd)"
stamp="$web/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ "$stamp" -nt "$web/package-lock.json" ]; then exit 0; fi
echo "installing front-end packages (npm ci in server/web)"
cd "$web"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
