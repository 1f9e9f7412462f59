#!/usr/bin/env bash
# main.sh - the README's main command: installs what is missing, builds, runs the feature
# pipeline once (printing its stage metrics), then the default profiled sweep of batch sizes x
# worker counts, then the report with charts, flame graphs and the capacity plan.
# Output folder: $PERFSWEEP_OUT (default ./out). Scale: $PERFSWEEP_SCALE (default small).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/build.sh "$root/build"

out=${PERFSWEEP_OUT:-$root/out}
scale=${PERFSWEEP_SCALE:-small}
bin=build/bin
mkdir -p "$out"

echo "== the feature pipeline once, at $scale =="
$bin/perfsweep-features run --source "gen:$scale" --batch-size 1000 --workers 2 --sink none

echo "== the default sweep: batch sizes x workers, timed runs plus one profiled run per cell =="
rm -rf "$out/sweep"
$bin/perfsweep run features --scale "$scale" --batch-sizes 100,1000,10000 --workers 1,2,4 \
  --runs 5 --warmup 1 -o "$out/sweep"

echo "== the report =="
$bin/perfsweep report "$out/sweep" --out "$out/sweep/report" --dataset-size 1000000
echo "open $out/sweep/report/report.html (markdown: $out/sweep/report/report.md)"
