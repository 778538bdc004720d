#!/usr/bin/env bash
# The README's run command: installs what is missing, builds parley and runs
# its main job. Until the live server lands, that is translating a real
# LibriVox recording (Debian's pocketsphinx-testdata) into Spanish, French and
# Portuguese. Extra arguments go to `parley translate` (e.g. --to ca,it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building (release)"
bash scripts/build.sh release
input="/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
out="${PARLEY_OUT:-parley-out}"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--to es,fr,pt)
echo "== translating $input"
./build/release/src/parley translate "$input" --from en "${args[@]}" --out "$out"
echo
echo "Captions (WebVTT), speech (WAV) and report.json are in: $(cd "$out" && pwd)"
