#!/usr/bin/env bash
# build.sh - configures and builds perfsweep into a build folder.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]   (default folder: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" -- --no-print-directory -s
