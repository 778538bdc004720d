#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, ASan + UBSan) and runs
# each for SECONDS (default 60), two at a time, from the seed corpus in
# tests/fuzz/corpus/<target> plus what earlier runs found (build/fuzz/corpus).
# Fails if any target crashes, leaks or trips a sanitizer; the input that did
# it is kept in test-artifacts/fuzz/ (turn it into a regression test).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
bash scripts/install-deps.sh >/dev/null
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc 2>/dev/null || echo 2)"
bin=build/fuzz/tests/fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/fuzz_*; do targets+=("$(basename "$f" | sed 's/^fuzz_//')"); done
fi
mkdir -p test-artifacts/fuzz
run_one() {
  local t=$1 found=build/fuzz/corpus/$1 log=test-artifacts/fuzz/$1.log
  mkdir -p "$found"
  if "$bin/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="test-artifacts/fuzz/$t-" "$found" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    echo "fuzz $t: $(grep -o 'number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') executions in ${seconds} s, no findings"
  else
    echo "fuzz $t: FAILED (see $log and test-artifacts/fuzz/$t-*)"
    grep -E "ERROR|SUMMARY" "$log" | head -5
    return 1
  fi
}
failed=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
echo "fuzz: ${#targets[@]} targets, $([ $failed -eq 0 ] && echo 'no findings' || echo 'FINDINGS')"
exit $failed
