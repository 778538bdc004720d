#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# WebRTC relay benchmark: for each player count, a fresh `parley serve` and
# parley-rtc-load inside a private network namespace (tests/tools/in-private-net).
# Usage: tools/bench-webrtc.sh [PLAYERS...]   (default: 25 50 100)
# Needs root (network namespace) and a release build (cmake --preset release && cmake --build build/release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" != "--inside" ]; then
  exec "$root/tests/tools/in-private-net" "$0" --inside "$@"
fi
shift
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(25 50 100)
bin="$root/build/release/src/parley"
load="$root/build/release/tools/parley-rtc-load"
[ -x "$bin" ] && [ -x "$load" ] || { echo "build first: cmake --preset release && cmake --build build/release" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for n in "${counts[@]}"; do
  "$bin" serve --host 0.0.0.0 --port 18181 --db "$work/bench-$n.db" --max-rtc-peers 2000 \
    --max-connections-per-address 0 --rate-join-per-min 0 > "$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/18181) 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "== $n WHEP players =="
  "$load" --server 127.0.0.1:18181 --players "$n" --probes 4 --duration 30 --baseline 10 --server-pid "$pid" || true
  kill "$pid"
  wait "$pid" || true
done
