#!/usr/bin/env bash
# Caption fan-out, side by side: parley, the minimal one-thread C++ sender and
# the Socket.IO room, each loaded by parley-load in the same way (N listeners
# in one session, 5 captions/s), each server started fresh, ROUNDS times in
# turn. Prints parley-load's table per run and writes every --json report
# to OUT (default: a temporary folder).
# Usage: tools/bench-fanout.sh [listeners=10000] [rounds=3] [duration_s=20] [out]
set -euo pipefail
cd "$(dirname "$0")/.."
listeners="${1:-10000}"
rounds="${2:-3}"
duration="${3:-20}"
out="${4:-$(mktemp -d)}"
bin=build/release
mkdir -p "$out"
[ -d tools/baseline/node_modules ] || (cd tools/baseline && npm ci --no-audit --no-fund --loglevel=error)
port=18300
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
start() {  # command… ; waits for the "port" line
  "$@" > "$out/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "port" "$out/server.log" 2>/dev/null && return; sleep 0.1; done
  echo "server did not start: $*" >&2; exit 1
}
for round in $(seq "$rounds"); do
  for target in parley minimal socketio; do
    port=$((port + 1))
    case $target in
      parley) db=$(mktemp -d); start "$bin/src/parley" serve --host 127.0.0.1 --port $port --db "$db/p.db" --log warn \
        --max-connections-per-address 0 --rate-join-per-min 0 ;;  # one address plays the whole audience
      minimal) start "$bin/tools/parley-minimal-sender" --port $port ;;
      socketio) start node tools/baseline/socketio-server.mjs --port $port ;;
    esac
    echo "== round $round: $target, $listeners listeners" >&2
    "$bin/tools/parley-load" captions --target $target --server 127.0.0.1:$port --listeners "$listeners" \
      --procs 4 --rate 5 --duration "$duration" --drain 3 --server-pid $pid --json 2>/dev/null \
      > "$out/$target-$round.json" || true
    kill $pid; wait $pid 2>/dev/null || true; pid=
  done
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
rows = {}
for f in sorted(glob.glob(sys.argv[1] + "/*-*.json")):
    r = json.load(open(f))
    rows.setdefault(r["target"], []).append(r)
print(f"{'target':9} {'runs':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'lost':>6} {'µs/delivery':>12} {'KB/listener':>12} {'load µs/msg':>12}")
for t, rs in rows.items():
    med = lambda f: statistics.median(f(r) for r in rs)
    print(f"{t:9} {len(rs):>4} {med(lambda r: r['delivery']['p50Ms']):8.1f} {med(lambda r: r['delivery']['p95Ms']):8.1f} "
          f"{med(lambda r: r['delivery']['p99Ms']):8.1f} {med(lambda r: r['lost']):6.0f} "
          f"{med(lambda r: r['server']['cpuMicrosecondsPerDelivery']):12.1f} {med(lambda r: r['server']['bytesPerListener']) / 1e3:12.1f} "
          f"{med(lambda r: r['loadGenerator']['cpuMicrosecondsPerDelivery']):12.1f}")
PY
echo "reports: $out"
