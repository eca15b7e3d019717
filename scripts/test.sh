#!/usr/bin/env bash
# Installs what is missing, builds OneGrid (Release) and runs every test with ctest.
#
#   scripts/test.sh              all tests
#   scripts/test.sh -L spatial   only tests with a label (arguments go to ctest)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-deps.sh --postgres --browser
scripts/lib/web-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release "$@"
