#!/usr/bin/env bash
# bench-run.sh - the sweep runner against hyperfine on the same machine, in the same script run:
#   1. overhead per run of `true`: measured median, tool wall time per run, and the tool's own
#      CPU time per run (perf stat --no-inherit task-clock: children excluded, so it does not
#      depend on how loaded the machine is),
#   1b. the marginal own CPU per run of `true`: (CPU of 230 runs - CPU of 30 runs) / 200, which
#      leaves out each tool's fixed start-up (dynamic loading, metadata, final statistics setup),
#   2. accuracy on `sleep 0.05` (measured median vs 50 ms, beside `sleep 0`: what starting and
#      ending the sleep program costs by itself on this machine), and for every command the floor:
#      what the least possible tool measures (scripts/bench/spawn-floor.c, in the same rounds),
#   3. the seconds a 3x3 sweep of the tiny features workload with profiling takes.
# Alternates A B A B, REPS rounds (default 5), prints medians and ratios against hyperfine.
# BASE=OTHER_BUILD_DIR adds that build's perfsweep to the own-CPU rounds of `true` (A B C A B C)
# and prints its figures and the ratio of this build to it.
# Usage: [TMPDIR=DIR] [BASE=DIR] scripts/bench/bench-run.sh [BUILD_DIR]   (default build/; outputs
# under TMPDIR, default /tmp, where the tools also run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
ps=$build/bin/perfsweep
base_ps=${BASE:+$(cd "$BASE" && pwd)/bin/perfsweep}
[ -z "$base_ps" ] || [ -x "$base_ps" ] || { echo "bench-run.sh: $base_ps is missing" >&2; exit 4; }
reps=${REPS:-5}
runs=${RUNS:-30}
command -v hyperfine >/dev/null || { echo "bench-run.sh: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 4; }
[ -x "$ps" ] || { echo "bench-run.sh: $ps is missing; build first (scripts/build.sh $build)" >&2; exit 4; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-run-XXXXXX") # TMPDIR=/dev/shm: outputs on tmpfs
trap 'rm -rf "$tmp"' EXIT
# the tools run in the temporary folder, outside any git work tree, so the figures do not depend
# on where the script is started: inside a work tree perfsweep also starts git once per sweep
# (the results' git_commit), a fixed cost that hyperfine has no counterpart for
cd "$tmp"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.9f\\n\", $1 }"; } # arithmetic without bc
have_perf=0
perf stat --no-inherit -e task-clock -x, -o /dev/null true 2>/dev/null && have_perf=1
# runs "$@" under perf stat (own CPU only) when available; appends ms per run to file $1, runs in $2
self_cpu() {
  local file=$1 n=$2; shift 2
  if [ $have_perf = 1 ]; then
    perf stat --no-inherit -e task-clock -x, -o "$tmp/stat" "$@"
    awk -F, -v n="$n" '/task-clock/ {print $1 / n}' "$tmp/stat" >>"$file"
  else
    "$@"
  fi
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# perfsweep: median wall of the timed runs of one sweep (from the CSV export)
ps_median() {
  "$ps" export "$1" --format csv | awk -F, 'NR==1 {for (i=1;i<=NF;i++) {if ($i=="warmup") w=i; if ($i=="status") s=i; if ($i=="wall") t=i}; next}
    $w=="false" && $s=="ok" {print $t}' | median
}

# the floor: what the least possible tool (clock, posix_spawn, blocking waitpid, clock) measures
floor_bin=$tmp/spawn-floor
cc -O2 -o "$floor_bin" "$root/scripts/bench/spawn-floor.c" 2>/dev/null || floor_bin=

bench_cmd() { # $1 label, $2... command words
  local label=$1; shift
  : >"$tmp/ps-med"; : >"$tmp/hf-med"; : >"$tmp/ps-per"; : >"$tmp/hf-per"; : >"$tmp/ps-cpu"; : >"$tmp/hf-cpu"
  : >"$tmp/base-cpu"; : >"$tmp/floor-med"
  for ((i = 0; i < reps; i++)); do
    if [ -n "$floor_bin" ]; then
      "$floor_bin" "$runs" "$(type -P "$1")" "${@:2}" >>"$tmp/floor-med"
    fi
    if [ -n "$base_ps" ] && [ "$label" = true ]; then
      self_cpu "$tmp/base-cpu" $((runs + 3)) "$base_ps" run -q --runs "$runs" --warmup 3 --profile none \
        --seed "$i" -o "$tmp/base-$label-$i" -- "$@" >/dev/null
    fi
    local t0 t1
    t0=$(now)
    self_cpu "$tmp/ps-cpu" $((runs + 3)) "$ps" run -q --runs "$runs" --warmup 3 --profile none --seed "$i" -o "$tmp/ps-$label-$i" -- "$@" >/dev/null
    t1=$(now)
    ps_median "$tmp/ps-$label-$i" >>"$tmp/ps-med"
    calc "($t1 - $t0) / ($runs + 3)" >>"$tmp/ps-per"
    t0=$(now)
    self_cpu "$tmp/hf-cpu" $((runs + 3)) hyperfine -N --runs "$runs" --warmup 3 --style none --export-csv "$tmp/hf.csv" -- "$*" >/dev/null 2>&1
    t1=$(now)
    awk -F, 'NR==2 {print $4}' "$tmp/hf.csv" >>"$tmp/hf-med"
    calc "($t1 - $t0) / ($runs + 3)" >>"$tmp/hf-per"
  done
  local pm hm pp hp
  pm=$(median <"$tmp/ps-med"); hm=$(median <"$tmp/hf-med")
  pp=$(median <"$tmp/ps-per"); hp=$(median <"$tmp/hf-per")
  printf '%-12s measured median: perfsweep %.3f ms, hyperfine %.3f ms, ratio %.3f\n' "$label" \
    "$(calc "$pm*1000")" "$(calc "$hm*1000")" "$(calc "$pm/$hm")"
  if [ -s "$tmp/floor-med" ]; then
    local fm
    fm=$(median <"$tmp/floor-med")
    printf '%-12s the floor (scripts/bench/spawn-floor.c: clock, posix_spawn, waitpid, clock): %.3f ms; perfsweep - floor %+.3f ms\n' \
      "$label" "$(calc "$fm*1000")" "$(calc "($pm-$fm)*1000")"
  fi
  printf '%-12s tool wall per run: perfsweep %.3f ms, hyperfine %.3f ms, ratio %.3f\n' "$label" \
    "$(calc "$pp*1000")" "$(calc "$hp*1000")" "$(calc "$pp/$hp")"
  if [ $have_perf = 1 ]; then
    local pc hc
    pc=$(median <"$tmp/ps-cpu"); hc=$(median <"$tmp/hf-cpu")
    printf '%-12s own CPU per run:   perfsweep %.3f ms, hyperfine %.3f ms, ratio %.3f\n' "$label" \
      "$pc" "$hc" "$(calc "$pc/$hc")"
    if [ -s "$tmp/base-cpu" ]; then
      local bc
      bc=$(median <"$tmp/base-cpu")
      printf '%-12s own CPU per run:   base %.3f ms (ratio to hyperfine %.3f); this build / base %.3f\n' \
        "$label" "$bc" "$(calc "$bc/$hc")" "$(calc "$pc/$bc")"
    fi
  fi
  echo "$pm" >"$tmp/last-ps-median"
}

echo "bench-run.sh: $(uptime), $(nproc) cores"
echo "bench-run.sh: $reps rounds alternating perfsweep / hyperfine -N, $runs runs + 3 warm-ups each"
bench_cmd true true
# own CPU (ms) of one invocation with $1 timed runs of `true`: perfsweep or hyperfine ($2); round $i
cpu_of() {
  local n=$1 tool=$2
  if [ "$tool" = ps ] || [ "$tool" = base ]; then
    local bin=$ps
    [ "$tool" = base ] && bin=$base_ps
    perf stat --no-inherit -e task-clock -x, -o "$tmp/stat" "$bin" run -q --runs "$n" --warmup 3 \
      --profile none -o "$tmp/marg-$tool-$n-$i" -- true >/dev/null
  else
    perf stat --no-inherit -e task-clock -x, -o "$tmp/stat" hyperfine -N --runs "$n" --warmup 3 \
      --style none -- true >/dev/null 2>&1
  fi
  awk -F, '/task-clock/ {print $1}' "$tmp/stat"
}
if [ $have_perf = 1 ]; then
  : >"$tmp/ps-marg"; : >"$tmp/hf-marg"; : >"$tmp/base-marg"
  for ((i = 0; i < reps; i++)); do
    if [ -n "$base_ps" ]; then
      a=$(cpu_of 30 base); b=$(cpu_of 230 base); calc "($b - $a) / 200" >>"$tmp/base-marg"
    fi
    a=$(cpu_of 30 ps); b=$(cpu_of 230 ps); calc "($b - $a) / 200" >>"$tmp/ps-marg"
    a=$(cpu_of 30 hf); b=$(cpu_of 230 hf); calc "($b - $a) / 200" >>"$tmp/hf-marg"
  done
  pc=$(median <"$tmp/ps-marg"); hc=$(median <"$tmp/hf-marg")
  printf '%-12s marginal own CPU per run (230 vs 30 runs): perfsweep %.3f ms, hyperfine %.3f ms, ratio %.3f\n' \
    true "$pc" "$hc" "$(calc "$pc/$hc")"
  if [ -s "$tmp/base-marg" ]; then
    bc=$(median <"$tmp/base-marg")
    printf '%-12s marginal own CPU per run: base %.3f ms (ratio to hyperfine %.3f); this build / base %.3f\n' \
      true "$bc" "$(calc "$bc/$hc")" "$(calc "$pc/$bc")"
  fi
fi
bench_cmd sleep0 sleep 0
p0=$(cat "$tmp/last-ps-median")
bench_cmd sleep0.05 sleep 0.05
pm=$(cat "$tmp/last-ps-median")
printf 'sleep 0.05   perfsweep median - 50 ms = %+.3f ms (target: within 1 ms); `sleep 0` alone (start, exec, exit of sleep) measures %.3f ms, so %+.3f ms is left for the 50 ms sleep itself\n' \
  "$(calc "($pm-0.05)*1000")" "$(calc "$p0*1000")" "$(calc "($pm-0.05-$p0)*1000")"

if [ -x "$build/bin/perfsweep-features" ]; then
  : >"$tmp/sweep"
  for ((i = 0; i < reps; i++)); do
    t0=$(now)
    "$ps" run features --batch-sizes 100,1000,10000 --workers 1,2,4 --scale tiny --runs 3 \
      --seed "$i" -q -o "$tmp/sweep-$i" >/dev/null
    t1=$(now)
    calc "$t1 - $t0" >>"$tmp/sweep"
  done
  printf '3x3 tiny features sweep, 1 warm-up + 3 runs + 1 profiled run per cell: median %.1f s (min %.1f, max %.1f)\n' \
    "$(median <"$tmp/sweep")" "$(sort -g "$tmp/sweep" | head -1)" "$(sort -g "$tmp/sweep" | tail -1)"
else
  echo "perfsweep-features not built: the sweep figure is skipped"
fi
echo "bench-run.sh: done, $(uptime)"
