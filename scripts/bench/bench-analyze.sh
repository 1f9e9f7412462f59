#!/usr/bin/env bash
# bench-analyze.sh - `perfsweep analyze` of a compressed trace (.pst.zst) against heaptrack_print of
# heaptrack's .zst of the same kind of run (target < 1x), alternated A B [C] A B [C] for RUNS
# rounds; prints medians of wall and CPU (user+sys) seconds and the ratios, with uptime.
# Usage: scripts/bench/bench-analyze.sh [BUILD_DIR] [RUNS] [N_PER_THREAD]
#   PS_ZST=alloc.N.pst.zst HP_ZST=heaptrack.x.zst: use these traces (e.g. /work/quiet-trace's);
#   otherwise both are recorded once from `alloc-truth bench N_PER_THREAD` (default 5000000).
#   BASE_PS=/path/perfsweep (e.g. a copy from an older build): also times that binary (A/B).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-5}
n=${3:-5000000}
ps=$build/bin/perfsweep
for f in "$ps" "$build/bin/alloc-truth"; do
  [[ -e $f ]] || { echo "bench-analyze: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
command -v heaptrack_print >/dev/null || { echo "bench-analyze: heaptrack_print is not installed (apt-get install heaptrack)" >&2; exit 4; }
work=$(mktemp -d /tmp/bench-analyze.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [[ -z ${PS_ZST:-} || -z ${HP_ZST:-} ]]; then
  echo "recording alloc-truth bench $n with perfsweep and heaptrack..."
  "$ps" profile --alloc -o "$work/p" -- "$build/bin/alloc-truth" bench "$n" >/dev/null 2>&1
  (cd "$work" && heaptrack -o "$work/ht" "$build/bin/alloc-truth" bench "$n" >/dev/null 2>&1) || true
  PS_ZST=$(ls "$work"/p/alloc.*.pst.zst | head -1)
  HP_ZST=$(ls "$work"/ht*.zst | head -1)
fi
# the trace is copied under its profiler name, so the analysis reads it as it reads a profile's
cp "$PS_ZST" "$work/alloc.1.pst.zst"
echo "traces: $PS_ZST ($(wc -c <"$PS_ZST") B), $HP_ZST ($(wc -c <"$HP_ZST") B)"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
# timed OUT CMD...: appends "wall cpu" of one run to the file OUT
timed() {
  local out=$1; shift
  /usr/bin/time -f '%e %U %S' -o "$work/t" "$@" >/dev/null 2>&1 || true
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/t" >>"$out"
}

echo "load before: $(uptime)"
for ((r = 1; r <= runs; r++)); do
  timed "$work/A" "$ps" analyze --json "$work/alloc.1.pst.zst"
  timed "$work/H" heaptrack_print -f "$HP_ZST"
  [[ -z ${BASE_PS:-} ]] || timed "$work/B" "$BASE_PS" analyze --json "$work/alloc.1.pst.zst"
done
echo "load after:  $(uptime)"
col() { median $(awk -v c="$2" '{print $c}' "$work/$1"); }
aw=$(col A 1); ac=$(col A 2); hw=$(col H 1); hc=$(col H 2)
printf 'medians of %d alternated runs (s): analyze wall %.2f cpu %.2f;  heaptrack_print wall %.2f cpu %.2f\n' \
  "$runs" "$aw" "$ac" "$hw" "$hc"
printf '  analyze / heaptrack_print  wall %6.3fx  cpu %6.3fx   (target < 1x)\n' "$(ratio "$aw" "$hw")" "$(ratio "$ac" "$hc")"
echo "  analyze walls: $(awk '{printf "%s ", $1}' "$work/A")  heaptrack_print walls: $(awk '{printf "%s ", $1}' "$work/H")"
if [[ -n ${BASE_PS:-} ]]; then
  bw=$(col B 1); bc_=$(col B 2)
  printf '  base %s: wall %.2f cpu %.2f;  this / base wall %6.3fx  cpu %6.3fx\n' "$BASE_PS" "$bw" "$bc_" \
    "$(ratio "$aw" "$bw")" "$(ratio "$ac" "$bc_")"
fi
