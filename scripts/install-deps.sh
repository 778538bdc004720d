#!/usr/bin/env bash
# Installs every Debian package parley needs to build, run and test.
# Idempotent: packages already present are skipped quickly. Used by the README's
# run and test commands and by CI. Needs root (or sudo) on Debian 12.
set -euo pipefail

packages=(
  # toolchain and test frameworks
  build-essential cmake pkg-config git ca-certificates
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzers (the fuzz preset): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # audio in/out and resampling
  libsndfile1-dev libsoxr-dev
  # engines: VAD, STT, MT, TTS
  libwebrtc-audio-processing-dev
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  apertium apertium-eng-spa apertium-eng-cat apertium-en-gl
  apertium-fr-es apertium-es-pt apertium-spa-ita
  libespeak-ng-dev espeak-ng-data
  # JSON at the edges
  nlohmann-json3-dev
  # live server: HTTP/WebSocket, TLS, persistence, listener audio, QR codes
  libboost1.81-dev libssl-dev libsqlite3-dev libopus-dev libogg-dev libqrencode-dev
  # WebRTC (WHIP/WHEP): GStreamer's webrtcbin, libnice, Opus and RTP elements
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
  # WebRTC tests: a real WHIP publisher, and private network namespaces
  simple-whip-client iproute2 util-linux
  # TLS test certificates
  openssl
  # several nodes: Redis between them (the bus), nginx in front (the tests run both)
  libhiredis-dev redis-server nginx
  # ... and PostgreSQL as the store they share (the tests run a server of their own)
  libpq-dev postgresql
  # browser tests: Debian's Chromium, driven by playwright-core from npm
  chromium
  # real speech with reference transcripts, for tests and the demo run
  pocketsphinx-testdata
  # real noise (a city street's ambience) under real speech, for the endpointing tests
  btanks-data
)
# Node.js runs the browser tests. Use the machine's own when it has one:
# Debian's nodejs package conflicts with other installations of npm.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

sudo_cmd=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo_cmd=sudo; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
    sudo=sudo
  fi
  echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The browser tests' npm packages, exactly as package-lock.json pins them.
e2e="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e"
stamp="$e2e/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$e2e/package-lock.json" -nt "$stamp" ]; then
  echo "install-deps: installing the browser tests' npm packages (tests/e2e)"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "install-deps: browser test packages present"
fi

# Silero VAD's weights (MIT), the default voice activity detector: parley runs
# the network itself and reads only this file. npm's @ricky0123/vad-web ships
# them; fetch its package (not its dependencies), check the file, install it.
silero_dst=/usr/local/share/parley/silero_vad.onnx
silero_pkg="@ricky0123/vad-web@0.0.31"
silero_sha=1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3
if [ -f "$silero_dst" ] && echo "$silero_sha  $silero_dst" | sha256sum -c --status; then
  echo "install-deps: Silero VAD model present"
else
  if [ "$(id -u)" -ne 0 ] && [ -z "$sudo_cmd" ]; then
    echo "install-deps: installing $silero_dst needs root: run as root or install sudo" >&2
    exit 1
  fi
  echo "install-deps: installing the Silero VAD model ($silero_pkg) to $silero_dst"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --loglevel=error "$silero_pkg" >/dev/null && tar -xzf ./*.tgz package/dist/silero_vad_v6.onnx)
  if ! echo "$silero_sha  $tmp/package/dist/silero_vad_v6.onnx" | sha256sum -c --status; then
    echo "install-deps: the Silero VAD model from $silero_pkg has an unexpected SHA-256; not installed" >&2
    exit 1
  fi
  $sudo_cmd install -D -m 0644 "$tmp/package/dist/silero_vad_v6.onnx" "$silero_dst"
fi
