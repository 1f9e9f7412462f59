#!/usr/bin/env bash
# bench-trace-size.sh - the size of the allocation tracer's kept trace against heaptrack's .zst,
# and what the compression adds to `perfsweep profile --alloc` end to end. Per round, alternating:
#   P  perfsweep profile --alloc            (default: packed + zstd, alloc.*.pst.zst)
#   R  perfsweep profile --alloc --no-compress  (raw alloc.*.pst; plain `zstd -1` of it measured
#      too: the compressed form before packing)
#   H  heaptrack -o FILE CMD, then heaptrack_print of its .zst
# Prints medians of RUNS rounds and the ratios (trace size target: packed <= heaptrack .zst).
# PACK_STATS=1: also builds scripts/bench/pack-stats.c against BUILD_DIR's core library and
# prints where the packed bytes of the last raw trace of each workload go (per stream, modes).
# Usage: scripts/bench/bench-trace-size.sh [BUILD_DIR] [RUNS] [N_PER_THREAD]
#   (defaults: build, 5, 5000000 -> alloc-truth bench: 2 threads x 5 M = 10 M allocations)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-5}
n=${3:-5000000}
ps=$build/bin/perfsweep
for f in "$ps" "$build/lib/libperfsweep-alloc.so" "$build/bin/alloc-truth" "$build/bin/perfsweep-features"; do
  [[ -e $f ]] || { echo "bench-trace-size: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
have_ht=1
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null || have_ht=0
command -v zstd >/dev/null || { echo "bench-trace-size: the zstd program is missing (apt-get install zstd)" >&2; exit 4; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-trace-size.XXXXXX")
trap 'rm -rf "$work" "$work-pack-stats"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
bytes() { cat "$@" | wc -c; }

# bench_workload NAME CMD...: RUNS alternating rounds of P R H, then the table.
bench_workload() {
  local name=$1; shift
  local -a PT=() PS=() RT=() RS=() ZS=() HT=() HPT=() HS=()
  echo "== $name: $*"
  for ((r = 1; r <= runs; r++)); do
    rm -rf "${work:?}"/*
    local t
    t=$(now); (cd "$work" && "$ps" profile --alloc -o "$work/p" -- "$@" >/dev/null 2>&1) || true
    PT+=("$(elapsed "$t")"); PS+=("$(bytes "$work"/p/alloc.*.pst.zst)")
    t=$(now); (cd "$work" && "$ps" profile --alloc --no-compress -o "$work/r" -- "$@" >/dev/null 2>&1) || true
    RT+=("$(elapsed "$t")"); RS+=("$(bytes "$work"/r/alloc.*.pst)")
    local zs=0 f
    for f in "$work"/r/alloc.*.pst; do zs=$((zs + $(zstd -1 -T1 -q -c "$f" | wc -c))); done
    ZS+=("$zs")
    if ((have_ht)); then
      t=$(now); (cd "$work" && heaptrack -o "$work/ht" "$@" >/dev/null 2>&1) || true; HT+=("$(elapsed "$t")")
      local zst
      zst=$(ls "$work"/ht*.zst 2>/dev/null | head -1)
      HS+=("$(wc -c <"$zst")")
      t=$(now); heaptrack_print -f "$zst" >/dev/null 2>&1; HPT+=("$(elapsed "$t")")
    fi
  done
  if [[ ${PACK_STATS:-0} == 1 ]]; then
    local f
    for f in "$work"/r/alloc.*.pst; do "$work-pack-stats" "$f" | sed 's/^/  pack-stats: /'; done
  fi
  local pt ps_ rt rs zs
  pt=$(median "${PT[@]}"); ps_=$(median "${PS[@]}"); rt=$(median "${RT[@]}"); rs=$(median "${RS[@]}")
  zs=$(median "${ZS[@]}")
  printf '  medians of %d rounds: trace raw %s B, plain zstd -1 %s B, packed .pst.zst %s B (%.2f B/raw B)\n' \
    "$runs" "$rs" "$zs" "$ps_" "$(ratio "$ps_" "$rs")"
  printf '  profile --alloc (packed, compressed) %.3f s; --no-compress %.3f s; compression adds %+.3f s\n' \
    "$pt" "$rt" "$(echo "$pt - $rt" | bc -l)"
  if ((have_ht)); then
    local ht hpt hs
    ht=$(median "${HT[@]}"); hpt=$(median "${HPT[@]}"); hs=$(median "${HS[@]}")
    printf '  heaptrack: record %.3f s, heaptrack_print %.3f s, .zst %s B\n' "$ht" "$hpt" "$hs"
    printf '  packed .pst.zst / heaptrack .zst      %6.3fx   (target <= 1x)\n' "$(ratio "$ps_" "$hs")"
    printf '  plain zstd -1 of raw / heaptrack .zst %6.3fx   (before packing)\n' "$(ratio "$zs" "$hs")"
    printf '  raw .pst / heaptrack .zst             %6.3fx\n' "$(ratio "$rs" "$hs")"
    printf '  profile (compressed) / (heaptrack + print)   %6.3fx   (target <= 0.333)\n' \
      "$(ratio "$pt" "$(echo "$ht + $hpt" | bc -l)")"
    printf '  profile --no-compress / (heaptrack + print)  %6.3fx\n' \
      "$(ratio "$rt" "$(echo "$ht + $hpt" | bc -l)")"
  else
    echo "  heaptrack is not installed: no peer ratios (apt-get install heaptrack)"
  fi
}

if [[ ${PACK_STATS:-0} == 1 ]]; then
  cc -O2 -std=gnu11 -I"$root/harness" -I"$root" -o "$work-pack-stats" "$root/scripts/bench/pack-stats.c" \
    "$build/lib/libperfsweep_core.a" -lzstd -lpthread -lm ||
    { echo "bench-trace-size: cannot build pack-stats" >&2; exit 4; }
fi
echo "bench-trace-size: $(uptime)"
bench_workload "2-thread allocation-heavy program ($((2 * n)) allocations)" "$build/bin/alloc-truth" bench "$n"
bench_workload "feature pipeline" "$build/bin/perfsweep-features" run --source gen:small --workers 2
echo "bench-trace-size: $(uptime)"
