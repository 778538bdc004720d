#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Prints where the
# binary is. Usage: scripts/build.sh [debug|release|asan|tsan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
