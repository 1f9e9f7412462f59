#!/usr/bin/env bash
# bench-alloc-order.sh - what the process-wide event order costs the exact recording: this build's
# probe against the same probe with the global sequence counter (one `lock xadd` per event, shared
# by all threads) replaced by a per-thread counter. That variant is NOT exact (events of different
# threads no longer merge in order): it exists here only to measure the counter. It is built from
# `git archive HEAD` in a temporary folder; nothing of the checkout changes.
# Alternates untraced / exact / exact-without-order for RUNS rounds on `alloc-truth bench N` and
# prints medians of wall and task-clock (all threads) with ratios, and `uptime`.
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

echo "bench-alloc-order: building the unordered variant in $work (git archive HEAD)"
mkdir "$work/src"
(cd "$root" && git archive HEAD) | tar -x -C "$work/src"
hdr=$work/src/probes/common/trace-writer.h
grep -q '__atomic_fetch_add(&ps_tw_seq\[0\], 1, __ATOMIC_RELAXED)' "$hdr" ||
  { echo "bench-alloc-order: ps_tw_next_seq changed; update this script" >&2; exit 4; }
sed -i 's|return __atomic_fetch_add(&ps_tw_seq\[0\], 1, __ATOMIC_RELAXED);|static __thread uint64_t local_seq; return local_seq++;|' "$hdr"
cmake -S "$work/src" -B "$work/b" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/b" --target perfsweep-alloc -j"$(nproc)" -- -s >/dev/null
unordered=$work/b/lib/libperfsweep-alloc.so

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
declare -a UW UC EW EC OW OC
for ((r = 1; r <= runs; r++)); do
  read -r w c < <(measure untraced); UW+=("$w"); UC+=("$c")
  read -r w c < <(measure exact "$lib"); EW+=("$w"); EC+=("$c")
  read -r w c < <(measure exact "$unordered"); OW+=("$w"); OC+=("$c")
done
echo "  load after:  $(uptime)"
uw=$(median "${UW[@]}"); uc=$(median "${UC[@]}")
ew=$(median "${EW[@]}"); ec=$(median "${EC[@]}")
ow=$(median "${OW[@]}"); oc=$(median "${OC[@]}")
printf '  medians of %d runs: untraced %.3f s wall %.3f s cpu; exact %.3f / %.3f; exact without the order %.3f / %.3f\n' \
  "$runs" "$uw" "$uc" "$ew" "$ec" "$ow" "$oc"
printf '  exact / untraced: %.2fx wall, %.2fx cpu;  without the order / untraced: %.2fx wall, %.2fx cpu\n' \
  "$(echo "$ew / $uw" | bc -l)" "$(echo "$ec / $uc" | bc -l)" "$(echo "$ow / $uw" | bc -l)" "$(echo "$oc / $uc" | bc -l)"
printf '  the order'"'"'s share of the exact recording: %.0f%% of its wall time\n' "$(echo "100 * ($ew - $ow) / $ew" | bc -l)"
