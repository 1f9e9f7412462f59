#!/usr/bin/env bash
# bench-cpu.sh - the CPU profiler against `perf record --call-graph dwarf` on the same CPU-bound
# program at 999 Hz, alternating (untraced, perfsweep, perf) N times, medians, ratios:
#   CPU time of the target with our profiler / untraced            (target <= 1.03)
#   end of run -> finished report: perfsweep analyze / perf report  (target <= 1/3)
#   profile size: cpu.*.pst / perf.data (DWARF call graphs)         (target <= 1/10)
# CPU time is `perf stat -e task-clock` over the whole command (profiler included).
# Usage: scripts/bench/bench-cpu.sh [BUILD_DIR] [RUNS] [SCALE]   (defaults: build 5 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
scale=${3:-20}
prog=$build/bin/cpu-split-nofp
lib=$build/lib/libperfsweep-cpu.so
ps=$build/bin/perfsweep
for f in "$prog" "$lib" "$ps"; do
  [[ -e $f ]] || { echo "bench-cpu: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
command -v perf >/dev/null || { echo "bench-cpu: perf is not installed (Debian: linux-perf)" >&2; exit 4; }
work=$(mktemp -d /tmp/bench-cpu-XXXXXX)
trap 'rm -rf "$work"' EXIT

# task-clock (ms) of a command and its children
cpu_ms() { perf stat -x, -e task-clock -o "$work/stat" -- "$@" >/dev/null 2>&1; awk -F, '/task-clock/ {print $1}' "$work/stat"; }
# wall seconds of a command
wall_s() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

: >"$work/base"; : >"$work/ours"; : >"$work/perf"; : >"$work/ours_rep"; : >"$work/perf_rep"
: >"$work/ours_size"; : >"$work/perf_size"
for i in $(seq 1 "$runs"); do
  cpu_ms "$prog" "$scale" >>"$work/base"
  rm -rf "$work/t"; mkdir "$work/t"
  cpu_ms env PERFSWEEP_CPU=cpu-clock PERFSWEEP_CPU_FREQ=999 PERFSWEEP_TRACE_DIR="$work/t" \
    LD_PRELOAD="$lib" "$prog" "$scale" >>"$work/ours"
  wall_s "$ps" analyze -o "$work/t/out" "$work/t" >>"$work/ours_rep"
  du -cb "$work"/t/cpu.*.pst | awk '/total/ {print $1}' >>"$work/ours_size"
  cpu_ms perf record -q -F 999 -e cpu-clock --call-graph dwarf -o "$work/perf.data" -- "$prog" "$scale" >>"$work/perf"
  wall_s perf report -i "$work/perf.data" --stdio >>"$work/perf_rep"
  stat -c %s "$work/perf.data" >>"$work/perf_size"
  echo "run $i/$runs done" >&2
done

b=$(median <"$work/base"); o=$(median <"$work/ours"); p=$(median <"$work/perf")
orp=$(median <"$work/ours_rep"); prp=$(median <"$work/perf_rep")
os=$(median <"$work/ours_size"); pz=$(median <"$work/perf_size")
printf 'CPU profiler benchmark: %s %s, 999 Hz, %d runs alternating, medians\n' "$(basename "$prog")" "$scale" "$runs"
printf '  CPU time   untraced %.0f ms | perfsweep %.0f ms (%.3fx) | perf record dwarf %.0f ms (%.3fx)\n' \
  "$b" "$o" "$(echo "$o/$b" | bc -l)" "$p" "$(echo "$p/$b" | bc -l)"
printf '  report     perfsweep analyze %.3f s | perf report %.3f s | ratio %.3f (target <= 0.333)\n' \
  "$orp" "$prp" "$(echo "$orp/$prp" | bc -l)"
printf '  size       cpu.*.pst %d B | perf.data %d B | ratio %.4f (target <= 0.1)\n' \
  "$os" "$pz" "$(echo "$os/$pz" | bc -l)"
