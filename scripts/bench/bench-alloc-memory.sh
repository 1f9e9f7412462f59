#!/usr/bin/env bash
# bench-alloc-memory.sh - the allocation analysis's memory on a trace of about 100 million events
# (the issue's bound: well under 2 GiB): records `alloc-truth bench N` (2 threads x N allocations
# and N frees; N = 25000000 gives ~100 M events, a ~425 MB raw trace), then reports the peak
# resident memory (GNU time's %M) of
#   perfsweep analyze of the raw trace, of the packed .pst.zst, and
#   perfsweep profile --alloc of the same command (record + analysis + compression), with its
#   peak anonymous memory read from /proc every 0.1 s (%M there also counts the pages of the raw
#   trace that the packer has mapped and not yet dropped: page cache, shared with the file).
# The folder is TMPDIR's (default /tmp): put it where 1 GB fits.
# Usage: scripts/bench/bench-alloc-memory.sh [BUILD_DIR] [N_PER_THREAD]  (build, 25000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-25000000}
ps=$build/bin/perfsweep
lib=$build/lib/libperfsweep-alloc.so
truth=$build/bin/alloc-truth
for f in "$ps" "$lib" "$truth"; do
  [[ -e $f ]] || { echo "bench-alloc-memory: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
[[ -x /usr/bin/time ]] || { echo "bench-alloc-memory: /usr/bin/time is missing (apt-get install time)" >&2; exit 4; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-alloc-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
events() { python3 -c 'import json,sys; a=json.load(sys.stdin)["alloc"]; print(a["events"], a["unmatched_frees"], a["lost"])'; }

echo "== alloc-truth bench $n, in $work; load: $(uptime)"
mkdir "$work/raw"
PERFSWEEP_TRACE_DIR=$work/raw PERFSWEEP_ALLOC=exact LD_PRELOAD=$lib "$truth" bench "$n" >/dev/null
raw=$(ls "$work"/raw/alloc.*.pst)
echo "  raw trace: $(wc -c <"$raw") bytes"
read -r ev um lost < <(/usr/bin/time -o "$work/t1" -f '%M %e' "$ps" analyze --json "$raw" | events)
read -r kb s <"$work/t1"
printf '  analyze, raw trace:      %8d kB peak RSS, %6.2f s; %d events, %d unmatched frees, %d lost\n' "$kb" "$s" "$ev" "$um" "$lost"

/usr/bin/time -o "$work/t2" -f '%M %e' "$ps" profile --alloc -o "$work/p" -- "$truth" bench "$n" >/dev/null 2>&1 &
tpid=$!
anon=0
while kill -0 "$tpid" 2>/dev/null; do
  for pid in $(pgrep -P "$tpid" -x perfsweep || true); do
    a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n $a && $a -gt $anon ]] && anon=$a
  done
  sleep 0.1
done
wait "$tpid"
read -r kb s <"$work/t2"
printf '  profile --alloc:         %8d kB peak RSS (%d kB anonymous), %6.2f s\n' "$kb" "$anon" "$s"
zst=$(ls "$work"/p/alloc.*.pst.zst)
read -r ev um lost < <(/usr/bin/time -o "$work/t3" -f '%M %e' "$ps" analyze --json "$zst" | events)
read -r kb s <"$work/t3"
printf '  analyze, packed .zst:    %8d kB peak RSS, %6.2f s; %d events, %d unmatched frees, %d lost (%d bytes)\n' \
  "$kb" "$s" "$ev" "$um" "$lost" "$(wc -c <"$zst")"
