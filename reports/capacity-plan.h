/* capacity-plan.h - the capacity plan: per-batch USL fits, a memory model, and the
 * recommended batch size and worker count under a memory limit and a target throughput,
 * beside what the rule of thumb (75 % of cores, 2 GiB per worker) would have picked.
 */
#ifndef PERFSWEEP_CAPACITY_PLAN_H
#define PERFSWEEP_CAPACITY_PLAN_H

#include <jansson.h>
#include <stddef.h>

#include "capacity-usl.h"

/* One measured run: batch size, worker count, throughput (records/s), peak RSS (bytes, NAN
 * when unknown). */
struct capacity_point {
  double batch, workers, throughput, peak_rss;
};

struct capacity_opts {
  double memory_limit;    /* bytes; 0 = none */
  double target_per_hour; /* records per hour; 0 = none */
  double dataset_size;    /* records; 0 = none */
  int cores;              /* of the measuring machine; 0 = unknown */
  double machine_memory;  /* bytes; 0 = unknown */
};

/* Peak RSS = a + c*W + b*B*W (terms that fit negative are dropped and the rest refitted). */
struct capacity_mem {
  int ok;
  double a, c, b; /* bytes, bytes per worker, bytes per (record of batch x worker) */
  double r2;
  size_t npoints;
};

struct capacity_choice {
  int ok;
  double batch, workers, throughput, memory; /* throughput records/s; memory bytes (NAN unknown) */
  int from_model;   /* 1: throughput from the USL fit; 0: measured median */
  double runtime;   /* seconds for opts.dataset_size; NAN when no dataset size */
};

struct capacity_plan {
  size_t nbatch;
  double *batches;            /* sorted distinct batch sizes */
  struct capacity_usl *usl;   /* one fit per batch size */
  struct capacity_mem mem;
  struct capacity_choice rec; /* the recommendation */
  struct capacity_choice rot; /* the rule of thumb */
  int meets_target;           /* 1 when rec reaches opts.target_per_hour (or no target) */
  char **notes;               /* plain sentences: poor fits, too few points, limits */
  size_t nnotes;
  struct capacity_opts opts;
};

/* Builds the plan from count measured runs. Returns 0, or -EINVAL when no point has a
 * positive throughput (plan is then empty but safe to free). The plan owns its memory:
 * release with capacity_plan_free (NULL-safe). */
int capacity_plan_build(const struct capacity_point *pts, size_t count,
                        const struct capacity_opts *opts, struct capacity_plan *plan);
void capacity_plan_free(struct capacity_plan *plan);

/* Predicted throughput (records/s) at batch b and w workers: the USL of that batch when it is
 * fitted and not poor, else the measured median; NAN when unknown. *from_model says which. */
double capacity_plan_predict(const struct capacity_plan *plan, const struct capacity_point *pts,
                             size_t count, double b, double w, int *from_model);

/* Predicted peak memory (bytes) at batch b and w workers from the memory model; NAN if none. */
double capacity_mem_predict(const struct capacity_mem *m, double b, double w);

/* The plan as a new JSON object (the "capacity" object of report --json). */
json_t *capacity_plan_json(const struct capacity_plan *plan);

#endif
