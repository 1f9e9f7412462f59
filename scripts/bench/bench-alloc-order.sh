#!/usr/bin/env bash
# bench-alloc-order.sh - what the process-wide event order costs the exact recording: this build's
# probe (one `lock xadd` per event on a counter shared by all threads) against the same probe with
# that sequence number taken otherwise:
#   local   a per-thread counter: NO order between threads (not exact; the floor of the recording)
#   rdtsc   the time-stamp counter: a real-time order without a shared write, but not a causal one
#           (the CPU may read it before the load that handed the block over has completed)
#   fenced  lfence; rdtsc: the cheapest real-time order that is causal
# The variants are built from `git archive HEAD` in a temporary folder (nothing of the checkout
# changes) and exist only to measure; none is exact but the first column.
# Alternates untraced / exact / the variants for RUNS rounds on `alloc-truth bench N` and prints
# medians of wall and task-clock (all threads) with ratios, `uptime`, the per-event budget of the
# 2x target, and what each ordering primitive costs alone (scripts/bench/order-cost.c).
# Usage: scripts/bench/bench-alloc-order.sh [BUILD_DIR] [RUNS] [N_PER_THREAD]  (build, 7, 5000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-7}
n=${3:-5000000}
truth=$build/bin/alloc-truth
lib=$build/lib/libperfsweep-alloc.so
for f in "$truth" "$lib"; do
  [[ -e $f ]] || { echo "bench-alloc-order: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
command -v perf >/dev/null || { echo "bench-alloc-order: perf is missing (apt-get install linux-perf)" >&2; exit 4; }
work=$(mktemp -d /tmp/bench-alloc-order.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "bench-alloc-order: building the variants in $work (git archive HEAD)"
seq_expr='return __atomic_fetch_add(&ps_tw_seq\[0\], 1, __ATOMIC_RELAXED);'
declare -A body=(
  [local]='return ps_tw_local_seq++;'
  [rdtsc]='return __builtin_ia32_rdtsc();'
  [fenced]='__builtin_ia32_lfence(); return __builtin_ia32_rdtsc();'
)
variants=(local rdtsc fenced)
declare -A vlib
for v in "${variants[@]}"; do
  mkdir "$work/src-$v"
  (cd "$root" && git archive HEAD) | tar -x -C "$work/src-$v"
  hdr=$work/src-$v/probes/common/trace-writer.h
  grep -q "$seq_expr" "$hdr" || { echo "bench-alloc-order: ps_tw_next_seq changed; update this script" >&2; exit 4; }
  sed -i "s|$seq_expr|${body[$v]}|" "$hdr"
  if [[ $v == local ]]; then # one counter per thread, shared by every file of the probe
    sed -i 's|^static inline uint64_t ps_tw_next_seq(void)$|extern PS_TW_HIDDEN __thread uint64_t ps_tw_local_seq;\n&|' "$hdr"
    echo '__thread uint64_t ps_tw_local_seq;' >>"$work/src-$v/probes/common/trace-writer.c"
  fi
  cmake -S "$work/src-$v" -B "$work/b-$v" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$work/b-$v" --target perfsweep-alloc -j"$(nproc)" -- -s >/dev/null
  vlib[$v]=$work/b-$v/lib/libperfsweep-alloc.so
done
cc -O2 -o "$work/order-cost" "$root/scripts/bench/order-cost.c" -lpthread

# measure VARIANT: prints "wall cpu" (seconds) of one run
measure() {
  local out
  case $1 in
    untraced) out=$(perf stat -x, -e task-clock,duration_time "$truth" bench "$n" 2>&1 >/dev/null) ;;
    *) rm -rf "$work/t" && mkdir "$work/t"
       out=$(perf stat -x, -e task-clock,duration_time env PERFSWEEP_TRACE_DIR="$work/t" \
             PERFSWEEP_ALLOC=exact LD_PRELOAD="$2" "$truth" bench "$n" 2>&1 >/dev/null) ;;
  esac
  echo "$out" | awk -F, '/task-clock/ {c = $1 / 1000} /duration_time/ {w = $1 / 1e9} END {printf "%.4f %.4f\n", w, c}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "  load before: $(uptime)"
declare -A W C
for ((r = 1; r <= runs; r++)); do
  read -r w c < <(measure untraced); W[untraced]+="$w "; C[untraced]+="$c "
  read -r w c < <(measure exact "$lib"); W[exact]+="$w "; C[exact]+="$c "
  for v in "${variants[@]}"; do
    read -r w c < <(measure exact "${vlib[$v]}"); W[$v]+="$w "; C[$v]+="$c "
  done
done
echo "  load after:  $(uptime)"
# shellcheck disable=SC2086
uw=$(median ${W[untraced]}); uc=$(median ${C[untraced]})
printf '  medians of %d runs (wall s, cpu s, ratio to untraced wall, cpu):\n' "$runs"
printf '    %-9s %.3f %.3f\n' untraced "$uw" "$uc"
for v in exact "${variants[@]}"; do
  # shellcheck disable=SC2086
  w=$(median ${W[$v]}); c=$(median ${C[$v]})
  printf '    %-9s %.3f %.3f   %.2fx %.2fx\n' "$v" "$w" "$c" "$(echo "$w / $uw" | bc -l)" "$(echo "$c / $uc" | bc -l)"
done
# shellcheck disable=SC2086
ew=$(median ${W[exact]}); lw=$(median ${W[local]})
printf '  the order'"'"'s share of the exact recording: %.0f%% of its wall time\n' "$(echo "100 * ($ew - $lw) / $ew" | bc -l)"
printf '  the 2x budget: the untraced run'"'"'s time per event and thread, %.1f ns (%d events per thread)\n' \
  "$(echo "$uw * 1000000000 / (2 * $n)" | bc -l)" "$((2 * n))"
echo "  each ordering primitive alone (scripts/bench/order-cost.c):"
"$work/order-cost" 5
