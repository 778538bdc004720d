#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release), or only the
# named targets of it. Usage: scripts/build.sh [debug|release|asan|tsan] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" -j "$jobs" --target "$@"
else
  cmake --build --preset "$preset" -j "$jobs"
fi
