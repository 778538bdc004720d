#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release
# preset and runs every test (unit and integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building (release)"
bash scripts/build.sh release
echo "== running every test"
ctest --preset release -j "$(nproc 2>/dev/null || echo 2)"
