#!/usr/bin/env bash
# Runs one browser test against a private OneGrid server.
#
#   tests/e2e/run.sh BUILD_DIR TEST_NAME        e.g. tests/e2e/run.sh build/release smoke
#
# Builds a fresh database in a temporary directory (a copy of BUILD_DIR/demo-data/onegrid.db plus a
# few thousand generated cases), creates tokens, starts `onegrid serve` on a free 127.0.0.1 port
# with the web pages and the front-end packages, waits for /readyz, runs
# `node tests/e2e/TEST_NAME.mjs` and stops the server. Exits with the test's status.
#
# The test gets: ONEGRID_URL, ONEGRID_TOKEN_PLANNER, ONEGRID_TOKEN_ADMIN, ONEGRID_DB,
# ONEGRID_NODE_MODULES (server/web/node_modules), ONEGRID_ARTIFACTS (tests/e2e/artifacts),
# ONEGRID_CHROMIUM (/usr/bin/chromium unless set).
# Environment: ONEGRID_E2E_INCIDENTS (cases to generate, default 5000), ONEGRID_E2E_KEEP=1 keeps
# the temporary directory, ONEGRID_CHROMIUM overrides the browser binary.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR TEST_NAME" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
name="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
test_file="$here/$name.mjs"
onegrid="$build/apps/onegrid"
demo_db="$build/demo-data/onegrid.db"
plugins="$build/plugins"
node_modules="$root/server/web/node_modules"
artifacts="${ONEGRID_ARTIFACTS:-$here/artifacts}"
chromium="${ONEGRID_CHROMIUM:-/usr/bin/chromium}"

fail() { echo "e2e $name: $*" >&2; exit 1; }
[ -f "$test_file" ] || fail "no test $test_file"
[ -x "$onegrid" ] || fail "no onegrid binary at $onegrid (build the 'onegrid' target)"
[ -f "$demo_db" ] || fail "no demo database at $demo_db (build the 'demo_db' target)"
[ -d "$node_modules/playwright-core" ] || fail "playwright-core is missing: run npm ci in $root/server/web"
[ -d "$node_modules/maplibre-gl" ] || fail "maplibre-gl is missing: run npm ci in $root/server/web"
command -v node >/dev/null || fail "node is not installed (apt-get install nodejs)"
command -v curl >/dev/null || fail "curl is not installed (apt-get install curl)"
[ -x "$chromium" ] || fail "no browser at $chromium (apt-get install chromium)"
mkdir -p "$artifacts"

work="$(mktemp -d "${TMPDIR:-/tmp}/onegrid-e2e-$name.XXXXXX")"
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -f "$work/server.log" ]; then cp "$work/server.log" "$artifacts/$name-server.log" 2>/dev/null || true; fi
  if [ "${ONEGRID_E2E_KEEP:-0}" = "1" ]; then
    echo "e2e $name: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh database: the demo district and its reference data, plus generated cases.
db="$work/onegrid.db"
cp "$demo_db" "$db"
if [ -d "$demo_db.media" ]; then cp -r "$demo_db.media" "$db.media"; fi
"$onegrid" demo-history --db "$db" --incidents "${ONEGRID_E2E_INCIDENTS:-5000}" \
  --to 2026-11-29T12:00:00+08:00 >"$work/history.log" 2>&1 || { cat "$work/history.log" >&2; fail "demo-history failed"; }
token() { "$onegrid" token create --db "$db" --role "$1" 2>"$work/token.err" | tail -n 1 || { cat "$work/token.err" >&2; fail "token create --role $1 failed"; }; }
planner_token="$(token planner)"
admin_token="$(token admin)"
[ -n "$planner_token" ] && [ -n "$admin_token" ] || fail "could not create tokens"

# The server, on a port the kernel chooses; its first line names the URL.
"$onegrid" serve --db "$db" --plugins "$plugins" --listen 127.0.0.1:0 \
  --web-root "$root/server/web" --vendor-root "$node_modules" --access-log off >"$work/server.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server exited"; }
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/server.log" | head -n 1 || true)"
  if [ -n "$url" ] && curl -fsS --max-time 2 "$url/readyz" >/dev/null 2>&1; then break; fi
  url=""
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; fail "the server did not become ready in 30 s"; }
echo "e2e $name: server $url (pid $server_pid), database $db"

set +e
ONEGRID_URL="$url" \
ONEGRID_TOKEN_PLANNER="$planner_token" \
ONEGRID_TOKEN_ADMIN="$admin_token" \
ONEGRID_DB="$db" \
ONEGRID_NODE_MODULES="$node_modules" \
ONEGRID_ARTIFACTS="$artifacts" \
ONEGRID_CHROMIUM="$chromium" \
  node "$test_file"
status=$?
set -e
if [ "$status" -eq 0 ]; then echo "e2e $name: PASS"; else echo "e2e $name: FAIL (status $status)" >&2; fi
exit "$status"
