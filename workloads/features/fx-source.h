/* fx-source.h - the source interface of perfsweep-features: where the normalized tables come
 * from. A source is selected by the scheme of --source SCHEME:ARG ("jsonl:DIR", "gen:SCALE",
 * later "postgres:DSN"). To add one, write a new file in workloads/features/ that defines
 *     const struct fx_source_ops fx_source_<scheme> = { "<scheme>", "<help>", <load> };
 * at the start of a line: the build scans for that line and registers it (fx-registry.c is
 * generated), so no existing file needs to change.
 */
#ifndef PERFSWEEP_FX_SOURCE_H
#define PERFSWEEP_FX_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "fx-metrics.h"
#include "fx-rows.h"

struct fx_source_params {
  size_t batch_size; /* records per collect page, >= 1 */
  uint64_t seed;     /* for generating sources */
  int workers;
  int retries;       /* network sources (postgres): reconnect-and-retry attempts (--retries) */
};

struct fx_source_ops {
  const char *scheme; /* "jsonl" */
  const char *help;   /* one line for --help: "jsonl:DIR  the folder written by generate" */
  /* Fills ds (zeroed by the caller, freed by the caller with fx_dataset_free even on error)
   * with the normalized tables, reference_time, records_in, rejects and newest, and fills the
   * collect and normalize stage metrics (seconds, records in/out, errors, batches). It must
   * not build the indexes (the pipeline calls fx_dataset_index). Returns 0, or a PS_EXIT_*
   * code with one sentence in err naming the input and the fix (PS_EXIT_USAGE for bad input,
   * PS_EXIT_ENVIRONMENT for an unreachable service). */
  int (*load)(const char *arg, const struct fx_source_params *p, struct fx_dataset *ds,
              struct fx_stage *collect, struct fx_stage *normalize, char *err, size_t errlen);
};

/* NULL-terminated list of every registered source (generated). */
extern const struct fx_source_ops *const fx_sources[];

/* Finds the source of spec "scheme:arg"; sets *arg to the text after the colon. NULL when no
 * source has that scheme. */
const struct fx_source_ops *fx_source_find(const char *spec, const char **arg);

#endif
