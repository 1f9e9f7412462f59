/* sweep-plan.h - what one sweep will do: the command template, the axes, repeats, timeout,
 * seed, shard and profiling choices. Built from the command line, a spec file (--spec) or a
 * results file being resumed, and stored in results.json ("workload" and "sweep") so that
 * --resume and merge rebuild exactly the same plan.
 */
#ifndef PERFSWEEP_SWEEP_PLAN_H
#define PERFSWEEP_SWEEP_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "sweep.h"

struct ps_plan {
  char *kind;     /* "features", "batch" or "command" */
  char **argv;    /* command template, NULL-terminated; with shell: one word, the script */
  size_t argc;
  int shell;
  struct ps_sweep sweep;
  unsigned runs, warmup, max_runs;
  double min_time, timeout, poll_interval;
  uint64_t seed;
  unsigned shard_k, shard_n;
  int prof_cpu, prof_alloc;
  unsigned profile_runs; /* profiled runs per cell (0 = none) */
  char *jemalloc;        /* resolved libjemalloc path when an allocator axis names it */
};

/* Defaults: 5 runs, 1 warm-up, no min time, 600 s timeout, 10 ms polling, cpu+alloc, 1 profile
 * run, shard 1/1, max 1000 runs per cell. */
void ps_plan_init(struct ps_plan *p);
void ps_plan_release(struct ps_plan *p);
void ps_plan_set_argv(struct ps_plan *p, char *const *argv, size_t argc);

/* Parses "cpu,alloc", "cpu", "alloc", "none". Returns 0 or -1 with err. */
int ps_plan_set_profile(struct ps_plan *p, const char *spec, char *err, size_t errlen);

/* Reads a --spec JSON file into p (see docs/cli.md): command, shell, params, env, allocator,
 * runs, warmup, min_time, timeout, seed, profile. Returns 0 or a PS_EXIT_* code with err. */
int ps_plan_load_spec(struct ps_plan *p, const char *path, char *err, size_t errlen);

/* Validates before anything is written: placeholders name axes, the command exists for every
 * cell (no shell), jemalloc is found when asked for. Returns 0 or PS_EXIT_USAGE /
 * PS_EXIT_ENVIRONMENT with err. */
int ps_plan_check(struct ps_plan *p, char *err, size_t errlen);

/* The "workload" and "sweep" objects of results.json (new references). */
json_t *ps_plan_workload_json(const struct ps_plan *p);
json_t *ps_plan_sweep_json(const struct ps_plan *p);
/* Rebuilds a plan from a results document. Returns 0 or PS_EXIT_USAGE with err. */
int ps_plan_from_results(struct ps_plan *p, const json_t *root, char *err, size_t errlen);
/* Whether two results documents describe the same sweep (shard index aside): same workload,
 * axes, runs, warm-ups, seed and shard count. 1 yes; 0 with the difference in err. */
int ps_plan_same_sweep(const json_t *a, const json_t *b, char *err, size_t errlen);

/* The argv of one cell (placeholders replaced, the command resolved on PATH; with shell:
 * /bin/sh -c SCRIPT), malloc'd and NULL-terminated; free with ps_argv_free. */
char **ps_plan_cell_argv(const struct ps_plan *p, size_t cell);
void ps_argv_free(char **argv);
/* The environment of one cell: environ plus the env axes, PERFSWEEP_METRICS=metrics and the
 * allocator preload; with probes on (trace_dir set) through ps_probe_env. Returns a malloc'd
 * array (ps_env_free) or NULL with *missing naming the probe library not found. */
char **ps_plan_cell_env(const struct ps_plan *p, size_t cell, const char *metrics,
                        const char *trace_dir, const char **missing);
/* The value of the allocator axis in a cell ("glibc" when there is none). */
const char *ps_plan_cell_allocator(const struct ps_plan *p, size_t cell);

/* Path of libjemalloc.so.2 on this machine, malloc'd, or NULL. */
char *ps_find_jemalloc(void);

#endif
