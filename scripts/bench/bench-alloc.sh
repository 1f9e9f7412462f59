#!/usr/bin/env bash
# bench-alloc.sh - the allocation tracer against heaptrack, same machine, same run.
# Alternates the variants (A B C ... A B C ...) for RUNS rounds and prints medians and ratios:
#   exact record+analysis vs heaptrack record+heaptrack_print (target <= 1/3)
#   exact recording vs untraced (target <= 2x)      sample recording vs untraced (target <= 1.05x)
#   the library loaded with tracing off vs untraced (the interposition alone: sample mode's floor)
#   trace size (profile, compressed by default: alloc.*.pst.zst) vs heaptrack's .zst (target <= 1x)
#   perfsweep analyze of that .pst.zst vs heaptrack_print of heaptrack's .zst
# Usage: scripts/bench/bench-alloc.sh [BUILD_DIR] [RUNS] [N_PER_THREAD]
#   (defaults: build, 5, 5000000 -> 2 threads x 5 M = 10 M allocations)
#   BASE_LIB=/path/libperfsweep-alloc.so (e.g. a copy from an older build): also records exact and
#   sample mode with that library in the same rounds and prints this build's recording times over
#   its (A/B).
#   BASE_PS=/path/perfsweep (e.g. an older build's): also runs its `profile --alloc` in the same
#   rounds and prints this build's end-to-end time over it (A/B).
#   With perf installed, the recordings' CPU time (task-clock) is measured too, and printed as
#   ratios beside the wall times.
#   TMPDIR=/dev/shm: every trace (perfsweep's and heaptrack's) in memory. On this VM the disk
#   writes of one variant (an exact trace is ~85 MB) slow the runs after it for seconds, even
#   after `sync`: the untraced program took 0.17 s alone and 0.22-0.34 s after an exact recording
#   to the disk. The default is /tmp.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-5}
n=${3:-5000000}
ps=$build/bin/perfsweep
lib=$build/lib/libperfsweep-alloc.so
truth=$build/bin/alloc-truth
[[ -z ${BASE_LIB:-} || -e $BASE_LIB ]] || { echo "bench-alloc: BASE_LIB $BASE_LIB is missing" >&2; exit 4; }
[[ -z ${BASE_PS:-} || -x $BASE_PS ]] || { echo "bench-alloc: BASE_PS $BASE_PS is missing" >&2; exit 4; }
for f in "$ps" "$lib" "$truth"; do
  [[ -e $f ]] || { echo "bench-alloc: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
have_ht=1
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null || have_ht=0
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-alloc.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
# before each timed command, outside its time: the dirty pages of the traces written so far go to
# disk, so that no variant pays for the writeback of the one before it (an exact trace is ~85 MB)
settle() { sync; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
have_perf=1
command -v perf >/dev/null || have_perf=0
# timed WALL CPU [VAR=VALUE...] CMD...: runs CMD (after settle), appends its wall time to the
# array named WALL and, with perf, its CPU time (task-clock of all its threads) to the array named
# CPU. CPU time does not double when the host takes one of the two cores away for a while, which
# wall time does on this VM (the untraced bench: 0.17 or 0.30-0.35 s from one run to the next).
timed() {
  local -n _w=$1 _c=$2
  shift 2
  settle
  if ((have_perf)); then
    perf stat -x, -o "$work/stat" -e task-clock,duration_time env "$@" >/dev/null 2>&1 || true
    _w+=("$(awk -F, '/duration_time/ {printf "%.6f", $1 / 1e9}' "$work/stat")")
    _c+=("$(awk -F, '/task-clock/ {printf "%.6f", $1 / 1000}' "$work/stat")")
  else
    local t
    t=$(now)
    env "$@" >/dev/null 2>&1 || true
    _w+=("$(elapsed "$t")")
    _c+=(0)
  fi
}

# bench_workload NAME CMD...: runs every variant RUNS times, alternating, then prints the table.
bench_workload() {
  local name=$1; shift
  local -a U=() E=() S=() O=() P=() H=() HP=() A=() SZ=() HSZ=() EB=() SB=() PB=()
  local -a UC=() EC=() SC=() OC=() EBC=() SBC=()
  echo "== $name: $*"
  echo "  load before: $(uptime)"
  for ((r = 1; r <= runs; r++)); do
    rm -rf "$work"/*
    local t
    timed U UC "$@"
    mkdir -p "$work/e"
    timed E EC PERFSWEEP_TRACE_DIR="$work/e" PERFSWEEP_ALLOC=exact LD_PRELOAD="$lib" "$@"
    if [[ -n ${BASE_LIB:-} ]]; then
      mkdir -p "$work/b"
      timed EB EBC PERFSWEEP_TRACE_DIR="$work/b" PERFSWEEP_ALLOC=exact LD_PRELOAD="$BASE_LIB" "$@"
    fi
    mkdir -p "$work/s"
    timed S SC PERFSWEEP_TRACE_DIR="$work/s" PERFSWEEP_ALLOC=sample LD_PRELOAD="$lib" "$@"
    if [[ -n ${BASE_LIB:-} ]]; then
      mkdir -p "$work/sb"
      timed SB SBC PERFSWEEP_TRACE_DIR="$work/sb" PERFSWEEP_ALLOC=sample LD_PRELOAD="$BASE_LIB" "$@"
    fi
    # the interposition alone (the library loaded, tracing off): sample mode's floor
    timed O OC PERFSWEEP_ALLOC=off LD_PRELOAD="$lib" "$@"
    # record + analysis + zstd compression of the trace (what stays on disk, like heaptrack's .zst)
    settle; t=$(now); "$ps" profile --alloc -o "$work/p" -- "$@" >/dev/null 2>&1 || true; P+=("$(elapsed "$t")")
    SZ+=("$(cat "$work"/p/alloc.*.pst.zst | wc -c)")
    if [[ -n ${BASE_PS:-} ]]; then
      settle; t=$(now); "$BASE_PS" profile --alloc -o "$work/pb" -- "$@" >/dev/null 2>&1 || true
      PB+=("$(elapsed "$t")")
    fi
    # analysis of the compressed trace, as heaptrack_print reads its .zst
    settle; t=$(now); "$ps" analyze --json "$work"/p/alloc.*.pst.zst >/dev/null 2>&1; A+=("$(elapsed "$t")")
    if ((have_ht)); then
      settle; t=$(now); (cd "$work" && heaptrack -o "$work/ht" "$@" >/dev/null 2>&1) || true; H+=("$(elapsed "$t")")
      local zst
      zst=$(ls "$work"/ht*.zst 2>/dev/null | head -1)
      HSZ+=("$(wc -c <"$zst")")
      settle; t=$(now); heaptrack_print -f "$zst" >/dev/null 2>&1; HP+=("$(elapsed "$t")")
    fi
  done
  local u e s p a sz
  u=$(median "${U[@]}"); e=$(median "${E[@]}"); s=$(median "${S[@]}"); p=$(median "${P[@]}")
  a=$(median "${A[@]}"); sz=$(median "${SZ[@]}")
  echo "  load after:  $(uptime)"
  printf '  medians of %d runs (s): untraced %.3f  exact record %.3f  sample record %.3f  profile (record+analysis) %.3f  analyze %.3f\n' \
    "$runs" "$u" "$e" "$s" "$p" "$a"
  local o uc ec sc oc
  o=$(median "${O[@]}")
  uc=$(median "${UC[@]}"); ec=$(median "${EC[@]}"); sc=$(median "${SC[@]}"); oc=$(median "${OC[@]}")
  printf '  exact recording / untraced        %6.2fx   (target <= 2x)\n' "$(ratio "$e" "$u")"
  printf '  sample recording / untraced       %6.3fx   (target <= 1.05x)\n' "$(ratio "$s" "$u")"
  printf '  tracing off / untraced            %6.3fx   (the interposition alone, %.3f s: sample mode'"'"'s floor)\n' \
    "$(ratio "$o" "$u")" "$o"
  if ((have_perf)); then
    printf '  CPU time (task-clock, all threads; s): untraced %.3f  exact %.3f  sample %.3f  tracing off %.3f\n' \
      "$uc" "$ec" "$sc" "$oc"
    printf '  CPU over untraced: exact %.2fx  sample %.3fx  tracing off %.3fx\n' \
      "$(ratio "$ec" "$uc")" "$(ratio "$sc" "$uc")" "$(ratio "$oc" "$uc")"
  fi
  if [[ -n ${BASE_LIB:-} ]]; then
    local eb
    eb=$(median "${EB[@]}")
    printf '  exact recording, BASE_LIB %.3f s: this build / BASE_LIB %6.3fx, BASE_LIB / untraced %6.2fx\n' \
      "$eb" "$(ratio "$e" "$eb")" "$(ratio "$eb" "$u")"
    ((have_perf)) && printf '    CPU: this build / BASE_LIB %6.3fx\n' "$(ratio "$ec" "$(median "${EBC[@]}")")"
    local sb
    sb=$(median "${SB[@]}")
    printf '  sample recording, BASE_LIB %.3f s: this build / BASE_LIB %6.3fx, BASE_LIB / untraced %6.3fx\n' \
      "$sb" "$(ratio "$s" "$sb")" "$(ratio "$sb" "$u")"
    ((have_perf)) && printf '    CPU: this build / BASE_LIB %6.3fx\n' "$(ratio "$sc" "$(median "${SBC[@]}")")"
  fi
  if [[ -n ${BASE_PS:-} ]]; then
    local pb
    pb=$(median "${PB[@]}")
    printf '  profile, BASE_PS %.3f s: this build / BASE_PS %6.3fx\n' "$pb" "$(ratio "$p" "$pb")"
  fi
  if ((have_ht)); then
    local h hp hsz
    h=$(median "${H[@]}"); hp=$(median "${HP[@]}"); hsz=$(median "${HSZ[@]}")
    printf '  heaptrack (s): record %.3f  heaptrack_print %.3f;  trace .pst.zst %s B vs heaptrack .zst %s B\n' "$h" "$hp" "$sz" "$hsz"
    printf '  profile / (heaptrack + print)     %6.3fx   (target <= 0.333)\n' "$(ratio "$p" "$(echo "$h + $hp" | bc -l)")"
    printf '  exact recording / heaptrack rec.  %6.3fx\n' "$(ratio "$e" "$h")"
    printf '  trace size / heaptrack .zst       %6.3fx   (target <= 1x)\n' "$(ratio "$sz" "$hsz")"
    printf '  analyze / heaptrack_print         %6.3fx   (target < 1x)\n' "$(ratio "$a" "$hp")"
  else
    echo "  heaptrack is not installed: no peer ratios (apt-get install heaptrack)"
  fi
}

bench_workload "2-thread allocation-heavy program ($((2 * n)) allocations)" "$truth" bench "$n"
features=$build/bin/perfsweep-features
if [[ -x $features ]]; then
  bench_workload "feature workload" "$features" run --source gen:small --workers 2
else
  echo "== feature workload: skipped ($features is not built yet)"
fi
