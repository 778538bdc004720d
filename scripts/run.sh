#!/usr/bin/env bash
# The README's run command: installs what is missing, builds parley and starts
# the live server with the embedded engines and SQLite (parley-data/parley.db).
# It prints the speaker page's URL. Extra arguments go to `parley serve`
# (e.g. --port 9000); see `build/release/src/parley serve --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building (release)"
bash scripts/build.sh release
exec ./build/release/src/parley serve "$@"
