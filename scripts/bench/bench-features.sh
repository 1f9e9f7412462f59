#!/usr/bin/env bash
# bench-features.sh - benchmark of perfsweep-features (issue 2). Measures, at small and medium,
# with 1 and 2 workers: records/s of each stage, compute-stage source rows per CPU second (per
# core), the 2-worker speedup of the compute stage, the whole pipeline against merely parsing the
# JSON input (parse-only, same files, streamed the same way), compute-stage batch memory against
# batch size x workers, and the collect read buffer and peak RSS (streaming: not the dataset).
# Peers alternate A B A B within one script run; figures are medians of RUNS (>= 5) runs.
# Usage: scripts/bench/bench-features.sh [BUILD_DIR]   (env: RUNS=5 SCALES="small medium")
# Prints a markdown section for docs/performance.md ("Feature pipeline").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
fx=$build/bin/perfsweep-features
runs=${RUNS:-5}
scales=${SCALES:-small medium}
[ -x "$fx" ] || { echo "bench-features.sh: $fx not found; build first (scripts/build.sh $build)" >&2; exit 4; }
[ "$runs" -ge 5 ] || { echo "bench-features.sh: RUNS must be at least 5" >&2; exit 3; }
command -v python3 >/dev/null || { echo "bench-features.sh: needs python3 for the statistics" >&2; exit 4; }
work=$(mktemp -d /tmp/bench-features.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "# generating datasets into $work" >&2
for s in $scales; do "$fx" generate --scale "$s" --seed 1 --out "$work/$s" >&2; done

# One JSON object per line in $work/results.jsonl: {"kind":..., "scale":..., ...run output}
run_pipeline() { # scale workers batch tag
  local out
  out=$("$fx" run --source "jsonl:$work/$1" --batch-size "$3" --workers "$2" --json)
  echo "{\"kind\":\"$4\",\"scale\":\"$1\",\"workers\":$2,\"batch\":$3,\"r\":$out}" >>"$work/results.jsonl"
}
run_parse() { # scale
  local out
  out=$("$fx" parse-only --source "jsonl:$work/$1" --json)
  echo "{\"kind\":\"parse\",\"scale\":\"$1\",\"r\":$out}" >>"$work/results.jsonl"
}

for s in $scales; do
  for i in $(seq "$runs"); do          # A B C A B C ...: 1 worker, 2 workers, parse-only
    echo "# $s run $i/$runs" >&2
    run_pipeline "$s" 1 1000 pipe
    run_pipeline "$s" 2 1000 pipe
    run_parse "$s"
  done
done
last=${scales##* }
for b in 10 100 1000 10000; do         # batch memory: deterministic, one run per cell
  for w in 1 2; do run_pipeline "$last" "$w" "$b" mem; done
done

python3 - "$work/results.jsonl" "$runs" "$(nproc)" "$(uptime | sed 's/.*load average: //')" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs, cores, load = sys.argv[2], sys.argv[3], sys.argv[4]
med = statistics.median
def stages(r): return {s["stage"]: s for s in r["r"]["stages"]}
print(f"Measured by `scripts/bench/bench-features.sh` ({runs} runs per cell, medians, peers alternated;")
print(f"{cores} cores shared with other work, load average at the end {load}). Wall figures on a")
print("busy shared machine are noisy; CPU-second figures (process CPU time) are the per-core rates.\n")
print("| scale | workers | stage | records in | median s | median records/s | median CPU s | records per CPU s |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
scales = []
for r in rows:
    if r["kind"] == "pipe" and r["scale"] not in scales: scales.append(r["scale"])
summary = {}
for sc in scales:
    for w in (1, 2):
        rs = [stages(r) for r in rows if r["kind"] == "pipe" and r["scale"] == sc and r["workers"] == w]
        for st in ("collect", "normalize", "compute", "sink", "total"):
            n = rs[0][st]["records_in"]
            secs = med([x[st]["seconds"] for x in rs]); cpu = med([x[st]["cpu_seconds"] for x in rs])
            rate = f"{n / secs:,.0f}" if secs >= 1e-4 else "-"   # sink none: nothing to time
            crate = f"{n / cpu:,.0f}" if cpu >= 1e-3 else "-"
            summary[(sc, w, st)] = (secs, cpu, n)
            print(f"| {sc} | {w} | {st} | {n} | {secs:.4f} | {rate} | {cpu:.4f} | {crate} |")
print()
for sc in scales:
    s1, c1, n = summary[(sc, 1, "compute")]
    s2, c2, _ = summary[(sc, 2, "compute")]
    r2 = [stages(r)["compute"] for r in rows if r["kind"] == "pipe" and r["scale"] == sc and r["workers"] == 2]
    crit = med([x.get("worker_cpu_max_seconds", 0) for x in r2])
    print(f"- {sc}: compute-stage source rows per CPU second (per core): {n / c1:,.0f} with 1 worker, "
          f"{n / c2:,.0f} with 2 (target >= 5,000,000); 2-worker compute speedup (wall, medians): "
          f"{s1 / s2:.2f}x (target >= 1.7x at medium); CPU critical-path speedup (1-worker compute "
          f"CPU / busiest of 2 workers' thread CPU, what 2 idle cores would give): {c1 / crit if crit else 0:.2f}x")
    ps = [r["r"] for r in rows if r["kind"] == "parse" and r["scale"] == sc]
    pw = med([p["seconds"] for p in ps]); pc = med([p["cpu_seconds"] for p in ps])
    tw, tc, _ = summary[(sc, 1, "total")]
    cw, cc, _ = summary[(sc, 1, "collect")]
    print(f"- {sc}: whole pipeline (1 worker) vs parse-only of the same files: wall {tw:.3f} s vs "
          f"{pw + cw:.3f} s (read {cw:.3f} + parse {pw:.3f}) = {tw / (pw + cw):.2f}x; CPU {tc:.3f} s vs "
          f"{pc + cc:.3f} s = {tc / (pc + cc):.2f}x (target <= 3x)")
mem = [r for r in rows if r["kind"] == "mem"]
if mem:
    print("\nCompute-stage batch memory (`batch_buffer_bytes`: sum over workers of each worker's largest "
          f"batch-local buffers) and process peak RSS, scale {mem[0]['scale']}:\n")
    print("| batch size | workers | batch buffer KiB | KiB per (batch x worker) | collect read buffer KiB | peak RSS after normalize KiB | peak RSS KiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in mem:
        st = stages(r); bb = st["compute"].get("batch_buffer_bytes", 0)
        rb = st["collect"].get("read_buffer_bytes", 0)   # absent before the streaming collect
        print(f"| {r['batch']} | {r['workers']} | {bb / 1024:,.0f} | {bb / 1024 / (r['batch'] * r['workers']):.2f} | "
              f"{rb / 1024:,.0f} | {st['normalize']['peak_rss_kb']:,} | {st['total']['peak_rss_kb']:,} |")
PY
