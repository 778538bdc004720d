#!/usr/bin/env bash
# The README's run command: installs what is missing, builds parley and starts
# the live server with the embedded engines and SQLite (parley-data/parley.db).
# It prints the speaker page's URL. Extra arguments go to `parley serve`
# (e.g. --port 9000); see `build/release/src/parley serve --help`.
#
# On a network others can reach, require an operator key to create sessions
# (the speaker page asks for it once and remembers it on that device):
#   PARLEY_API_KEYS="$(openssl rand -hex 16)" scripts/run.sh
# or put `api-keys = KEY1, KEY2` in a file given with --config FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building parley (release; the tests are built by scripts/test.sh)"
bash scripts/build.sh release parley
if [ -z "${PARLEY_API_KEYS:-}" ]; then
  echo "note: anyone who can reach this server may create sessions; set PARLEY_API_KEYS to require an operator key"
fi
exec ./build/release/src/parley serve "$@"
