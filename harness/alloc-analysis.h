/* alloc-analysis.h - turns allocation traces (alloc.<pid>.pst) into answers.
 *
 * The summary is the "profile.alloc" object of docs/results-schema.md; cmd-profile,
 * cmd-analyze and the sweep runner (cmd-run) all go through this one entry point.
 */
#ifndef PERFSWEEP_ALLOC_ANALYSIS_H
#define PERFSWEEP_ALLOC_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct alloc_analysis_opts {
  const char *out_dir;   /* where folded stacks / flame graphs go; NULL = write none */
  size_t top_n;          /* rows in the top tables; 0 = default (20) */
  const char *diff_base; /* trace file or folder to diff against (--diff); NULL = none */
};

/* Reads the traces, symbolizes offline, and returns a new JSON summary in *summary.
 * Returns 0, or a negative errno / -EINVAL for an unreadable or malformed trace (the message
 * has been printed with ps_error). */
int alloc_analyze(char *const *traces, size_t ntraces, const struct alloc_analysis_opts *opts,
                  json_t **summary);

/* Prints the human summary of an alloc summary object. */
void alloc_print_summary(FILE *out, const json_t *summary);

#endif
