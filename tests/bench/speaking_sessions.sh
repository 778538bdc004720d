#!/usr/bin/env bash
# K speaking sessions at once: a fresh `parley serve` on 127.0.0.1, then
# parley-load with K speakers streaming the LibriVox recordings in real time
# and N listeners (es, fr); prints end of speech → final caption and → first
# translated audio, the server's CPU and memory, and every drop.
# Usage: tests/bench/speaking_sessions.sh [SECONDS=180] [SPEAKERS=8] [LISTENERS=40]
# Run it with nothing else on the machine: speech needs the cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-180}" speakers="${2:-8}" listeners="${3:-40}"
port=18990
db=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$db"' EXIT
build/release/src/parley serve --host 127.0.0.1 --port $port --db "$db/p.db" --log warn \
  --max-connections-per-address 0 --rate-join-per-min 0 --rate-create-per-min 0 > "$db/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
  sleep 0.2
done
wavs=()
for f in /usr/share/pocketsphinx/test/data/librivox/*.wav; do wavs+=(--wav "$f"); done
build/release/tools/parley-load speech "${wavs[@]}" --server 127.0.0.1:$port --speakers "$speakers" \
  --listeners "$listeners" --languages es,fr --duration "$seconds" --drain 5 --server-pid "$pid"
# Load shedding (session/load_shedding.h): which steps fired and when, the
# gaps marked where audio was dropped, and how utterances ended.
echo
echo "load shedding, from /metrics:"
exec 3<> "/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
grep -E '^parley_(load_shed_total|transcript_gaps_total|audio_lost_seconds_total|audio_frames_dropped_total|utterance_ends_total|utterances_total)' <&3 || true
exec 3>&-
echo "shedding episodes in the server log (first 20):"
grep -E 'behind real time|caught up' "$db/log" | head -20 || true
