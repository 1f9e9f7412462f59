/* sweep-run.h - executes a sweep plan into an output folder: every run launched, measured and
 * written atomically as runs/<cell>-<index>.json before the next starts; profiled runs analysed
 * into runs/<cell>-profile.json; results.json rebuilt from those files (at the end, on
 * interruption, and by --resume and merge).
 */
#ifndef PERFSWEEP_SWEEP_RUN_H
#define PERFSWEEP_SWEEP_RUN_H

#include <jansson.h>
#include <signal.h>

#include "sweep-plan.h"

struct ps_runner_opts {
  const char *out;               /* the output folder; it exists and holds results.json */
  int quiet;                     /* no progress output */
  volatile sig_atomic_t *stop;   /* set by SIGINT/SIGTERM */
};

/* Runs every planned run of the plan's shard that is not yet in out/runs/, then the profiled
 * runs, then writes out/results.json from `header` (schema, argv, workload, sweep, machine;
 * borrowed) plus the cells. Returns PS_EXIT_OK (all runs ok), PS_EXIT_TARGET (some run failed,
 * crashed or timed out: all recorded), PS_EXIT_INTERRUPTED (stopped: what finished is kept and
 * results.json says "complete": false) or PS_EXIT_IO (an output could not be written; message
 * printed). When root_out is not NULL it receives the document written to results.json (a new
 * reference for the caller to release; NULL when results.json could not be written), so the
 * caller need not read the file back. */
int ps_runner_execute(struct ps_plan *p, const json_t *header, const struct ps_runner_opts *o,
                      json_t **root_out);

/* Builds the results document from header and the run files in out/runs/ (statistics computed
 * here). Returns a new reference. `complete` is stored in summary.complete. */
json_t *ps_runner_collect(struct ps_plan *p, const json_t *header, const char *out,
                          int complete, double duration);

/* Writes root to path as results.json is written (indented text, a final newline, all or
 * nothing: a temporary file renamed; fsync'd when sync), its text made by sweep-json.c (numbers
 * formatted by hand, the same values read back). Returns 0 or a negative errno; on failure the
 * old file is untouched. */
int ps_runner_write_results(const char *path, const json_t *root, int sync);

/* Statistics, rates and warnings of one cell object (its "runs"), stored into the cell.
 * Deterministic for a given seed. */
void ps_cell_finalize(json_t *cell, uint64_t seed);

#endif
