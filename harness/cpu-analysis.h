/* cpu-analysis.h - turns CPU sample traces (cpu.<pid>.pst) into answers.
 *
 * The summary is the "profile.cpu" object of docs/results-schema.md; cmd-profile,
 * cmd-analyze and the sweep runner (cmd-run) all go through this one entry point.
 */
#ifndef PERFSWEEP_CPU_ANALYSIS_H
#define PERFSWEEP_CPU_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct cpu_analysis_opts {
  const char *out_dir;   /* where folded, speedscope, pprof and flame graph files go; NULL = none */
  size_t top_n;          /* rows in the top table; 0 = default (20) */
  const char *diff_base; /* profile to diff against (differential flame graph); NULL = none */
};

/* Reads the traces, symbolizes offline, and returns a new JSON summary in *summary.
 * Returns 0, or a negative errno / -EINVAL for an unreadable or malformed trace (the message
 * has been printed with ps_error). */
int cpu_analyze(char *const *traces, size_t ntraces, const struct cpu_analysis_opts *opts,
                json_t **summary);

/* Prints the human summary (top table like perf report) of a cpu summary object. */
void cpu_print_summary(FILE *out, const json_t *summary);

#endif
