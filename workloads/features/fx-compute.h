/* fx-compute.h - the compute stage: product, user and collection features, processed as
 * batches of B entities handed to W worker threads. Each batch first gathers the rows of its
 * entities into batch-local buffers (like a batch query's result set), so memory grows with
 * B x W and per-batch overhead shrinks with B. Definitions: docs/features.md.
 */
#ifndef PERFSWEEP_FX_COMPUTE_H
#define PERFSWEEP_FX_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include "fx-rows.h"

struct fx_compute_opts {
  size_t batch_size;  /* entities per batch, >= 1 */
  int workers;        /* worker threads, >= 1 */
  int fault_drop_row; /* test aid: drop the last entity of the first product batch */
};

struct fx_compute_stats {
  uint64_t source_rows;   /* order_items, events and collection_products rows gathered */
  uint64_t entities;      /* feature rows written */
  uint64_t batches;
  size_t peak_batch_bytes; /* sum over workers of their largest batch-buffer footprint */
  double worker_cpu_sum, worker_cpu_max; /* thread CPU seconds of all workers / the busiest */
};

/* Computes the features of the entities listed in todo[k] (n_todo[k] entity indices; todo[k]
 * NULL means all entities of kind k). out must have been prepared with fx_features_alloc();
 * rows of entities not listed are left untouched. Returns 0, or -1 when a thread or buffer
 * could not be created (out is then incomplete). ds must be indexed (fx_dataset_index). */
int fx_compute(const struct fx_dataset *ds, const struct fx_compute_opts *o,
               uint32_t *const todo[FX_KIND_COUNT], const size_t n_todo[FX_KIND_COUNT],
               struct fx_features *out, struct fx_compute_stats *st);

/* Allocates zeroed rows and written-counts for every entity of ds. Returns 0 or -1 (OOM). */
int fx_features_alloc(const struct fx_dataset *ds, struct fx_features *out);

/* Checks that every entity has exactly one row. Returns 0, or -1 with a sentence naming the
 * first entity without a row (or with two) and how many are affected in msg. */
int fx_features_check(const struct fx_dataset *ds, const struct fx_features *f, char *msg,
                      size_t msglen);

#endif
