#!/usr/bin/env bash
# Runs fuzz targets for RUNS executions each (default 10,000,000), one after
# another, and prints a table of executions, seconds, corpus size and
# findings (the numbers in docs/reliability.md). Long: about an hour on one
# core for all of them; name targets to run some (two shells can share the
# work). FUZZ_MAX_SECONDS=S stops each target after S seconds whatever its
# count. Usage: tests/bench/fuzz_bench.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10000000}"
shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=build/fuzz/tests/fuzz
mkdir -p test-artifacts/fuzz-bench
printf '| target | executions | seconds | exec/s | corpus | findings |\n|---|---|---|---|---|---|\n'
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/fuzz_*; do targets+=("$(basename "$f" | sed 's/^fuzz_//')"); done
fi
for t in "${targets[@]}"; do
  f=$bin/fuzz_$t
  found=build/fuzz/corpus/$t
  mkdir -p "$found"
  log=test-artifacts/fuzz-bench/$t.log
  start=$(date +%s)
  if "$f" -runs="$runs" ${FUZZ_MAX_SECONDS:+-max_total_time=$FUZZ_MAX_SECONDS} -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="test-artifacts/fuzz-bench/$t-" "$found" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    findings=none
  else
    findings="$(grep -m1 -E 'ERROR: [A-Za-z]+' "$log" | sed 's/.*ERROR: //' | cut -c1-60)"
  fi
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" "$secs" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" \
    "$(ls "$found" | wc -l)" "$findings"
done
