#!/usr/bin/env bash
# perf-gate.sh - the CI performance gate, the same steps on GitHub Actions, GitLab CI and a laptop:
# sweep the base and the change, compare, write the reports, record history, fail on regression.
#
# Environment (all optional except one of BASE_DIR / BASE_RESULTS):
#   BASE_DIR        checkout of the base commit, built (its perfsweep runs the base sweep there)
#   BASE_RESULTS    base results fetched instead (an artifact, or exported from history)
#   BASE_COMMIT     fetch the base from HISTORY_STORE instead: the latest recorded run of this
#                   commit ('perfsweep history export'); compare warns when its machine differs
#   NEW_DIR         checkout of the change, built (default: .)
#   PERFSWEEP_BASE  perfsweep of the base  (default: $BASE_DIR/build/bin/perfsweep)
#   PERFSWEEP_NEW   perfsweep of the change (default: $NEW_DIR/build/bin/perfsweep)
#   SWEEP_ARGS      arguments of 'perfsweep run' (word-split; default: the features workload)
#   AB_CMD          interleaved mode (recommended on noisy runners): the command to time, with
#                   {side} naming the checkout ("./{side}/build/bin/prog --batch {batch}"); base
#                   and change then run in ONE shuffled sweep (perfsweep run --param
#                   side=base,new $SWEEP_ARGS -- $AB_CMD) and are compared with --ab side=base,new
#   COMPARE_ARGS    extra arguments of 'perfsweep compare' (e.g. --threshold wall=3 --budget b.txt)
#   OUT             report folder (default: perf-report); gets base/ new/ (or ab/) report.md
#                   compare.json junit.xml report.txt
#   HISTORY_STORE   when set, 'perfsweep history add' the new results there (FILE.jsonl or DSN)
#   COMMIT, BRANCH  recorded with the history (default: git rev-parse in NEW_DIR)
# Exit: the exit code of 'perfsweep compare' (0 ok, 1 regression/budget, 2 inconclusive with
# --fail-on-inconclusive, 3 bad input); 4 when the gate itself is misconfigured.
set -uo pipefail

NEW_DIR=$(cd "${NEW_DIR:-.}" && pwd)
OUT=$(mkdir -p "${OUT:-perf-report}" && cd "${OUT:-perf-report}" && pwd)
PERFSWEEP_NEW=${PERFSWEEP_NEW:-$NEW_DIR/build/bin/perfsweep}
SWEEP_ARGS=${SWEEP_ARGS:-features --batch-sizes 100,1000 --workers 1,2 --scale tiny --runs 7 --seed 42}
COMPARE_ARGS=${COMPARE_ARGS:-}

fail() { echo "perf-gate: $*" >&2; exit 4; }
[ -x "$PERFSWEEP_NEW" ] || fail "no perfsweep at $PERFSWEEP_NEW; build the change first (scripts/build.sh) or set PERFSWEEP_NEW"

sweep() { # sweep DIR PERFSWEEP OUTDIR
  (cd "$1" && "$2" run -q -o "$3" $SWEEP_ARGS >"$3.log" 2>&1)
  local rc=$?
  # exit 5 = some run failed; the results are still written and compare reports it
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then
    cat "$3.log" >&2
    fail "the sweep in $1 failed (exit $rc)"
  fi
}

rm -rf "$OUT/base" "$OUT/new" "$OUT/ab" "$OUT/ab-work"
if [ -n "${AB_CMD:-}" ]; then
  [ -n "${BASE_DIR:-}" ] || fail "AB_CMD (interleaved mode) needs BASE_DIR, a built checkout of the base"
  mkdir -p "$OUT/ab-work"
  ln -s "$(cd "$BASE_DIR" && pwd)" "$OUT/ab-work/base"
  ln -s "$NEW_DIR" "$OUT/ab-work/new"
  (cd "$OUT/ab-work" && "$PERFSWEEP_NEW" run -q -o "$OUT/ab" --param side=base,new $SWEEP_ARGS \
     -- $AB_CMD >"$OUT/ab.log" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then
    cat "$OUT/ab.log" >&2
    fail "the interleaved sweep failed (exit $rc)"
  fi
  compare_inputs=(--ab side=base,new "$OUT/ab")
  new_results=$OUT/ab
  select=(--select side=new)
elif [ -z "${BASE_DIR:-}" ] && [ -z "${BASE_RESULTS:-}" ] && [ -n "${BASE_COMMIT:-}" ]; then
  [ -n "${HISTORY_STORE:-}" ] || fail "BASE_COMMIT needs HISTORY_STORE, the store to fetch it from"
  "$PERFSWEEP_NEW" history export --store "$HISTORY_STORE" --commit "$BASE_COMMIT" \
    -o "$OUT/base.json" || fail "could not fetch the base commit $BASE_COMMIT from the history"
  base=$OUT/base.json
elif [ -n "${BASE_RESULTS:-}" ]; then
  [ -e "$BASE_RESULTS" ] || fail "BASE_RESULTS=$BASE_RESULTS does not exist"
  base=$BASE_RESULTS
elif [ -n "${BASE_DIR:-}" ]; then
  BASE_DIR=$(cd "$BASE_DIR" && pwd)
  PERFSWEEP_BASE=${PERFSWEEP_BASE:-$BASE_DIR/build/bin/perfsweep}
  [ -x "$PERFSWEEP_BASE" ] || fail "no perfsweep at $PERFSWEEP_BASE; build the base checkout first"
  sweep "$BASE_DIR" "$PERFSWEEP_BASE" "$OUT/base"
  base=$OUT/base
else
  fail "set BASE_DIR (a built checkout of the base), BASE_RESULTS (fetched base results) or BASE_COMMIT (with HISTORY_STORE)"
fi
if [ -z "${AB_CMD:-}" ]; then
  sweep "$NEW_DIR" "$PERFSWEEP_NEW" "$OUT/new"
  compare_inputs=("$base" "$OUT/new")
  new_results=$OUT/new
  select=()
fi

NO_COLOR=1 "$PERFSWEEP_NEW" compare "${compare_inputs[@]}" $COMPARE_ARGS \
  --save-markdown "$OUT/report.md" --save-json "$OUT/compare.json" \
  --save-junit "$OUT/junit.xml" --diff-dir "$OUT/flamegraphs" | tee "$OUT/report.txt"
verdict=${PIPESTATUS[0]}

if [ -n "${HISTORY_STORE:-}" ] && [ "$verdict" -ne 3 ]; then
  commit=${COMMIT:-$(git -C "$NEW_DIR" rev-parse HEAD 2>/dev/null || echo unknown)}
  branch=${BRANCH:-$(git -C "$NEW_DIR" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}
  "$PERFSWEEP_NEW" history add "$new_results" "${select[@]}" --store "$HISTORY_STORE" \
    --commit "$commit" --branch "$branch" || echo "perf-gate: warning: could not record the history" >&2
fi
exit "$verdict"
