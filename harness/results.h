/* results.h - the perfsweep.results/1 file (docs/results-schema.md): load with validation,
 * write atomically, and the JSON form of a statistics summary.
 *
 * Every later stage (report, compare, history, export, merge) reads results through
 * ps_results_load, so a file of another version is refused the same way everywhere.
 */
#ifndef PERFSWEEP_RESULTS_H
#define PERFSWEEP_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "exit-codes.h"
#include "stats.h"

#define PS_RESULTS_SCHEMA "perfsweep.results/1"
#define PS_RESULTS_FILE "results.json"

/* Loads a results file. `path` is a results.json file or a folder holding one.
 * Checks: readable, complete JSON (a truncated file is refused), an object whose "schema" is
 * exactly perfsweep.results/1, and a "cells" array whose members have "id" (string), "params"
 * (object) and "runs" (array).
 * Returns 0 and a new reference in *out (the caller json_decref's it), or PS_EXIT_USAGE (missing
 * or unreadable file, not JSON, truncated, another schema, malformed) / PS_EXIT_IO (the disk
 * failed while reading); then *out is NULL and
 * err (when not NULL) holds a sentence naming the file and the fix. Never prints. */
int ps_results_load(const char *path, json_t **out, char *err, size_t errlen);

/* Formats a sentence into err (when err is not NULL) and returns code: the error convention of
 * the loaders here and of the sweep plan. */
int ps_results_errf(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ps_results_load, printing the error with ps_error. Same returns. */
int ps_results_load_or_report(const char *path, json_t **out);

/* Validates an already parsed document (as ps_results_load does); `name` names it in err.
 * Returns 0 or PS_EXIT_USAGE. */
int ps_results_validate(const json_t *root, const char *name, char *err, size_t errlen);

/* Writes root as indented JSON to path atomically (temporary file, fsync, rename).
 * Returns 0 or a negative errno; on failure the old file is untouched. */
int ps_results_write(const char *path, const json_t *root);
/* The same without fsync: still all-or-nothing for readers and against a crash of the writer,
 * not against a power loss; for files rewritten often (the sweep's plan and run files).
 * compact = 1 writes one line. Same returns. */
int ps_results_write_nosync(const char *path, const json_t *root, int compact);

/* The "stats.<metric>" object of a summary: n, mean, median, stddev, mad, min, max, p90, p99,
 * cv, ci95_mean, ci95_median, outliers[{index, value, zscore, tukey}]. NAN becomes null.
 * Returns a new reference (never NULL). */
json_t *ps_results_stats_json(const struct ps_summary *s);

/* A number, or null when x is not finite. New reference. */
json_t *ps_json_num(double x);

/* The cell of root whose "id" equals id, or NULL (borrowed reference). */
json_t *ps_results_find_cell(const json_t *root, const char *id);

#endif
