#!/usr/bin/env bash
# bench-pg.sh - benchmark of the PostgreSQL source and sink (issue 8), on a private throwaway
# cluster (scripts/pg-start.sh, removed at exit):
#  1. the engine's compute stage from memory against PostgreSQL computing the same features with
#     the documented SQL of docs/features.md on the same data (verify's sql_seconds; verify also
#     proves the rows equal), per scale; target: the engine at least 10x faster;
#  2. the batch-size sweep of the PostgreSQL mode (run --source postgres --sink postgres, W=2):
#     pages, round trips and seconds of the pg_collect and pg_sink stages per batch size, to show
#     where round-trip cost stops mattering.
# Peers alternate A B A B within one script run (the sweep's order is reversed every other
# round); figures are medians of RUNS (>= 5) runs.
# Usage: scripts/bench/bench-pg.sh [BUILD_DIR]  (env: RUNS=5 SCALES="tiny small"
#        BATCHES="10 100 1000 10000" SWEEP_SCALE=small)
# Prints a markdown section for docs/performance.md ("PostgreSQL").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
fx=$build/bin/perfsweep-features
runs=${RUNS:-5}
scales=${SCALES:-tiny small}
batches=${BATCHES:-10 100 1000 10000}
sweep_scale=${SWEEP_SCALE:-small}
[ -x "$fx" ] || { echo "bench-pg.sh: $fx not found; build first (scripts/build.sh $build)" >&2; exit 4; }
[ "$runs" -ge 5 ] || { echo "bench-pg.sh: RUNS must be at least 5" >&2; exit 3; }
command -v python3 >/dev/null || { echo "bench-pg.sh: needs python3 for the statistics" >&2; exit 4; }

work=$(mktemp -d /tmp/bench-pg.XXXXXX)
pgdir=
cleanup() {
  [ -n "$pgdir" ] && "$root/scripts/pg-stop.sh" "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
env_lines=$(env -u PERFSWEEP_PG_DIR "$root/scripts/pg-start.sh")
pgdir=$(printf '%s\n' "$env_lines" | sed -n "s/^export PERFSWEEP_PG_DIR='\(.*\)'$/\1/p")
dsn=$(printf '%s\n' "$env_lines" | sed -n "s/^export PERFSWEEP_TEST_DSN='\(.*\)'$/\1/p")
[ -n "$dsn" ] || { echo "bench-pg.sh: pg-start.sh printed no DSN" >&2; exit 4; }

res=$work/results.jsonl
record() { echo "$1" >>"$res"; }

for s in $scales; do
  echo "# $s: generate and load" >&2
  "$fx" generate --scale "$s" --seed 1 --out "$work/$s" >&2
  "$fx" load --dsn "$dsn" --from "jsonl:$work/$s" >&2
  "$fx" run --source "jsonl:$work/$s" --sink "postgres:$dsn" >/dev/null
  for i in $(seq "$runs"); do        # A B A B: engine compute from memory, documented SQL in PostgreSQL
    echo "# $s: engine vs SQL, run $i/$runs" >&2
    record "{\"kind\":\"engine\",\"scale\":\"$s\",\"r\":$("$fx" run --source "jsonl:$work/$s" --workers 1 --json)}"
    record "{\"kind\":\"sql\",\"scale\":\"$s\",\"r\":$("$fx" verify --dsn "$dsn" --json)}"
  done
  if [ "$s" = "$sweep_scale" ]; then
    order=$batches
    for i in $(seq "$runs"); do
      echo "# $s: batch sweep round $i/$runs ($order)" >&2
      for b in $order; do
        m=$work/m-$b-$i.jsonl
        PERFSWEEP_METRICS=$m "$fx" run --source "postgres:$dsn" --sink "postgres:$dsn" \
          --batch-size "$b" --workers 2 >/dev/null
        while IFS= read -r line; do
          record "{\"kind\":\"sweep\",\"scale\":\"$s\",\"batch\":$b,\"m\":$line}"
        done <"$m"
      done
      order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')   # reverse: no order bias
    done
  fi
done

python3 - "$res" "$runs" "$(nproc)" "$(uptime | sed 's/.*load average: //')" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs, cores, load = sys.argv[2], sys.argv[3], sys.argv[4]
med = statistics.median
print(f"Measured by `scripts/bench/bench-pg.sh` ({runs} runs per cell, medians, peers alternated;")
print(f"{cores} cores shared with other work, load average at the end {load}; PostgreSQL 15 on a")
print("throwaway cluster on the same machine, fsync off).\n")
print("Engine compute stage (from memory, 1 worker) against PostgreSQL running the documented SQL of")
print("the three feature tables (`verify`'s `sql_seconds`: the three statements, their rows fetched):\n")
print("| scale | feature rows | engine compute s | engine CPU s | SQL s | SQL / engine | rows agree |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
scales = []
for r in rows:
    if r["scale"] not in scales: scales.append(r["scale"])
for sc in scales:
    eng = [{s["stage"]: s for s in r["r"]["stages"]}["compute"] for r in rows
           if r["kind"] == "engine" and r["scale"] == sc]
    sql = [r["r"] for r in rows if r["kind"] == "sql" and r["scale"] == sc]
    if not eng or not sql: continue
    es = med([e["seconds"] for e in eng]); ec = med([e.get("cpu_seconds", 0) for e in eng])
    ss = med([q["sql_seconds"] for q in sql])
    n = eng[0]["records_out"]
    agree = all(q["agree"] for q in sql)
    print(f"| {sc} | {n} | {es:.4f} | {ec:.4f} | {ss:.4f} | {ss / es:.0f}x | {'yes' if agree else 'NO'} |")
sweep = [r for r in rows if r["kind"] == "sweep"]
if sweep:
    sc = sweep[0]["scale"]
    bs = sorted({r["batch"] for r in sweep})
    print(f"\nBatch-size sweep of the PostgreSQL mode at {sc} (`run --source postgres --sink postgres "
          "--workers 2`), medians:\n")
    print("| batch | collect pages | collect round trips | collect s | ms per page | sink batches "
          "| sink round trips | sink s | total s | total vs best |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cells = {}
    for b in bs:
        def stage(name):
            return [r["m"] for r in sweep if r["batch"] == b and r["m"]["stage"] == name]
        col, snk, tot = stage("pg_collect"), stage("pg_sink"), stage("total")
        cells[b] = dict(
            col_s=med([m["seconds"] for m in col]), col_rt=med([m["db"]["round_trips"] for m in col]),
            snk_s=med([m["seconds"] for m in snk]), snk_rt=med([m["db"]["round_trips"] for m in snk]),
            tot_s=med([m["seconds"] for m in tot]),
            pages_=med([m["db"]["latency"].get("read_rows", {}).get("count", 0) for m in col]),
            batches=med([m["db"]["latency"].get("upsert", {}).get("count", 0) for m in snk]))
    best = min(c["tot_s"] for c in cells.values())
    for b in bs:
        c = cells[b]
        print(f"| {b} | {c['pages_']:.0f} | {c['col_rt']:.0f} | {c['col_s']:.3f} | "
              f"{1000 * c['col_s'] / max(c['pages_'], 1):.2f} | {c['batches']:.0f} | {c['snk_rt']:.0f} | "
              f"{c['snk_s']:.3f} | {c['tot_s']:.3f} | {c['tot_s'] / best:.2f}x |")
    knee = next(b for b in bs if cells[b]["tot_s"] <= 1.10 * best)
    print(f"\nRound-trip cost stops mattering at batch size {knee}: the smallest batch whose run is "
          "within 10% of the fastest.")
PY
