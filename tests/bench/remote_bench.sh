#!/usr/bin/env bash
# The latency the remote engine path adds per stage (docs/benchmarks.md):
# starts a parley engine node on 127.0.0.1, runs parley_remote_bench against
# it, stops it. Usage: tests/bench/remote_bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
bin=build/release/src/parley
bench=build/release/tests/bench/parley_remote_bench
[ -x "$bin" ] && [ -x "$bench" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
dir="$(mktemp -d)"
port=18231
"$bin" serve --host 127.0.0.1 --port "$port" --db "$dir/node.db" --rtc off > "$dir/node.out" 2> "$dir/node.err" &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do grep -q "serving on port" "$dir/node.out" 2>/dev/null && break; sleep 0.1; done
"$bench" --node "http://127.0.0.1:$port" --rounds "$rounds"
