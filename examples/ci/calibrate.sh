#!/usr/bin/env bash
# calibrate.sh - how often does the gate cry wolf on THIS machine? Runs TRIALS (default 5) A/A and
# A/B (3x the work) comparisons of a busy-loop workload, both as sequential sweeps (base, then
# change: alternating A B A B) and as interleaved sweeps (compare --ab), and prints how many were
# flagged (exit 1) and the median B/A ratio of wall medians. Use it to pick --threshold and the
# gate's mode for a runner class.
# Usage: PERFSWEEP=build/bin/perfsweep examples/ci/calibrate.sh [TRIALS] [THRESHOLD_PCT]
set -uo pipefail
P=${PERFSWEEP:-build/bin/perfsweep}
[ -x "$P" ] || { echo "calibrate: no perfsweep at $P; set PERFSWEEP" >&2; exit 4; }
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
trials=${1:-5}
thr=${2:-5}
work=$(mktemp -d /tmp/perfsweep-calibrate-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
for v in a:12000 a2:12000 b:36000; do
  echo "i=0; while [ \$i -lt ${v#*:} ]; do i=\$((i+1)); done" > "${v%%:*}.sh"
done
run() { "$P" run -q --runs 7 --warmup 1 --profile none --seed "$2" -o "$1" "${@:3}" >/dev/null 2>&1; }
verdict() { NO_COLOR=1 "$P" compare --threshold "$thr" --json "$@" > v.json; echo $?; }
ratio() { python3 -c 'import json; d=json.load(open("v.json")); print(1 + d["cells"][0]["metrics"][0]["change"])' 2>/dev/null || echo nan; }
seq_aa=0 seq_ab=0 int_aa=0 int_ab=0 seq_r=() int_r=()
for t in $(seq 1 "$trials"); do
  # sequential: A, A again, B (alternating A B A B across trials)
  run sa$t $t --param v=x -- sh a.sh {v}
  run sa2$t $t --param v=x -- sh a2.sh {v}
  run sb$t $t --param v=x -- sh b.sh {v}
  [ "$(verdict sa$t sa2$t)" = 1 ] && seq_aa=$((seq_aa + 1))
  [ "$(verdict sa$t sb$t)" = 1 ] && seq_ab=$((seq_ab + 1)); seq_r+=("$(ratio)")
  # interleaved: one shuffled sweep of the three variants
  run i$t $t --param side=a,a2,b -- sh {side}.sh
  [ "$(verdict --ab side=a,a2 i$t)" = 1 ] && int_aa=$((int_aa + 1))
  [ "$(verdict --ab side=a,b i$t)" = 1 ] && int_ab=$((int_ab + 1)); int_r+=("$(ratio)")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "threshold ${thr}%, $trials trials, 7 runs per side, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sequential:  A/A flagged $seq_aa/$trials   A/B (3x work) flagged $seq_ab/$trials   median B/A wall ratio $(med "${seq_r[@]}")"
echo "interleaved: A/A flagged $int_aa/$trials   A/B (3x work) flagged $int_ab/$trials   median B/A wall ratio $(med "${int_r[@]}")"
