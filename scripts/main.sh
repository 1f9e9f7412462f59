#!/usr/bin/env bash
# main.sh - the README's main command: installs what is missing, builds, then generates the
# tiny dataset and runs the feature pipeline on it, printing its stage metrics.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/build.sh "$root/build"
out=${PERFSWEEP_OUT:-$root/out}
mkdir -p "$out"
build/bin/perfsweep-features generate --scale tiny --seed 1 --out "$out/data"
build/bin/perfsweep-features run --source "jsonl:$out/data" --batch-size 1000 --workers 2
