/* batch-model.h - the analytic model of perfsweep-batch (docs/workloads.md): predicted time
 * and memory for a batch size and worker count, and the fastest batch size under a memory
 * limit. Pure functions, so tests and the report's capacity plan can use the same formulas.
 */
#ifndef PERFSWEEP_BATCH_MODEL_H
#define PERFSWEEP_BATCH_MODEL_H

#include <stdint.h>

struct batch_params {
  uint64_t items;        /* N */
  uint64_t batch_size;   /* B >= 1 */
  uint64_t workers;      /* W >= 1 */
  uint64_t batch_cost_ns;/* F: fixed CPU cost per batch */
  uint64_t item_cost_ns; /* C: CPU cost per item */
  uint64_t item_bytes;   /* m: memory per item held while its batch runs */
};

/* Number of batches: ceil(N / B). */
uint64_t batch_model_batches(const struct batch_params *p);
/* Predicted wall seconds with W workers on at least W free cores: the busiest worker runs
 * ceil(batches / W) batches; every batch but the last has B items. */
double batch_model_seconds(const struct batch_params *p);
/* Predicted CPU seconds over all workers: batches * F + N * C (independent of W and of how
 * busy the machine is, so tests can check it on a noisy machine). */
double batch_model_cpu_seconds(const struct batch_params *p);
/* Predicted peak batch memory in bytes: W concurrent batches of min(B, N) items. */
uint64_t batch_model_peak_bytes(const struct batch_params *p);
/* The batch size of least predicted time whose peak memory W * B * m stays within
 * limit_bytes (the smallest such B on ties); about min(N, floor(limit / (W * m))) because time
 * falls as B grows. 0 when even B = 1 does not fit. */
uint64_t batch_model_best_batch(const struct batch_params *p, uint64_t limit_bytes);

#endif
