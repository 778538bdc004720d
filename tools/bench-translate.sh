#!/usr/bin/env bash
# Runs `parley translate` on every LibriVox recording of pocketsphinx-testdata,
# pinned to one core, and prints each file's real-time factor and MT median
# from its report.json, then the medians over all files.
# Usage: tools/bench-translate.sh [build-dir]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/release}/src/parley"
dir=/usr/share/pocketsphinx/test/data/librivox
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-48s %8s %8s %10s\n' file audio_s rtf mt_med_ms
rtfs=()
for id in $(cat "$dir/fileids"); do
  taskset -c 0 "$bin" translate "$dir/$id.wav" --from en --to es,fr,pt --out "$out/$id" --quiet >/dev/null
  read -r audio rtf mt < <(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["audio_s"], t["real_time_factor"], t["mt_median_ms"])' "$out/$id/report.json")
  printf '%-48s %8s %8s %10s\n' "$id" "$audio" "$rtf" "$mt"
  rtfs+=("$rtf")
done
python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"median real-time factor {statistics.median(v):.3f}, max {max(v):.3f} (one core, es+fr+pt)")' "${rtfs[@]}"
