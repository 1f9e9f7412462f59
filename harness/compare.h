/* compare.h - compares two perfsweep.results/1 files: cells matched by parameters, per metric a
 * relative change with a seeded 95% bootstrap CI and a Mann-Whitney U test, a verdict per metric,
 * per cell and overall, and where it got slower (functions, allocation sites, flame graph).
 *
 * The library never prints; cmd-compare.c and the writers in compare-output.c / junit.c do.
 */
#ifndef PERFSWEEP_COMPARE_H
#define PERFSWEEP_COMPARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "mannwhitney.h"

/* Ordered by how much they matter to a CI job: a later one wins when a cell is summarised. */
enum compare_verdict { CMP_UNCHANGED, CMP_INCONCLUSIVE, CMP_IMPROVED, CMP_REGRESSED };

const char *compare_verdict_name(enum compare_verdict v);

/* "METRIC=VALUE" settings from the command line (threshold in percent, floor in metric units). */
struct compare_setting {
  char *metric;
  double value;
};

struct compare_opts {
  double alpha;                 /* significance level; 0.05 */
  double threshold;             /* default noise threshold as a fraction; 0.05 */
  struct compare_setting *thresholds; /* per metric, as fractions */
  size_t nthresholds;
  struct compare_setting *floors; /* per metric absolute floors, in the metric's unit */
  size_t nfloors;
  unsigned long long seed;      /* bootstrap seed; results are deterministic for a seed */
  int resamples;                /* bootstrap resamples; 2000 */
  const char *diff_dir;         /* where differential flame graphs go; NULL = none */
  int holm;                     /* Holm-Bonferroni over all tested metrics of all cells */
};

/* Fills o with the defaults above. */
void compare_opts_init(struct compare_opts *o);

struct compare_metric {
  char *metric;                 /* "wall", "stage.compute.seconds", "alloc.calls", … */
  const char *unit;             /* "s", "KiB", "rec/s", "calls", "bytes" (static) */
  int higher_is_better;
  int deterministic;            /* compared exactly, no test */
  size_t n_base, n_new;
  double base_median, new_median;
  double change;                /* (new - base) / base; NAN when base is 0 */
  double ci_lo, ci_hi;          /* 95% bootstrap CI of change; NAN when not computed */
  int tested;                   /* mw holds a result */
  double p_used;                /* p the verdict used (Holm-adjusted with --holm); -1 if none */
  struct mw_result mw;
  double threshold, floor;      /* the ones applied */
  enum compare_verdict verdict;
  char *reason;                 /* one sentence */
};

/* A function or allocation site and how it grew (self share for functions, bytes for sites). */
struct compare_growth {
  char *name;
  double base, now, delta;
};

struct compare_cell {
  char *id;
  json_t *params;               /* borrowed from NEW */
  struct compare_metric *metrics;
  size_t nmetrics;
  enum compare_verdict verdict;
  struct compare_growth *functions; /* self share grew most first */
  size_t nfunctions;
  struct compare_growth *sites;     /* bytes grew most first */
  size_t nsites;
  char *flamegraph;             /* differential flame graph written, or NULL */
  char *flamegraph_note;        /* why not, or NULL */
};

struct compare_report {
  char *base_path, *new_path;
  struct compare_cell *cells;
  size_t ncells;
  char **base_only, **new_only; /* ids of unmatched cells */
  char *machine_note;           /* "base ran on X, new on Y: …" when they differ, else NULL */
  size_t nbase_only, nnew_only;
  enum compare_verdict verdict;
  size_t counts[4];             /* cells per verdict */
};

/* Decides one metric from raw samples. base/new are copied, never kept. Returns 0, or -EINVAL
 * for empty input. out->metric is strdup'd from metric; release with compare_metric_free. */
int compare_samples(const char *metric, const double *base, size_t nbase, const double *now,
                    size_t nnew, const struct compare_opts *o, struct compare_metric *out);
void compare_metric_free(struct compare_metric *m);

/* Loads results from a file or a folder holding results.json. Returns 0 and a new reference in
 * *root (and the resolved file path, malloc'd, in *file), or PS_EXIT_USAGE with a sentence in
 * *err (malloc'd) naming the file and the fix: missing, malformed, truncated, wrong schema. */
int compare_load(const char *path, json_t **root, char **file, char **err);

/* For an A/B comparison inside one interleaved sweep: a new results root holding only the cells
 * whose params[param] equals value, with that parameter removed and the id rebuilt from the
 * remaining ones, so the two sides match by their other parameters. Returns 0 and a new
 * reference in *out, or PS_EXIT_USAGE with *err when no cell has that value. */
int compare_split(json_t *root, const char *file, const char *param, const char *value,
                  json_t **out, char **err);

/* Compares two loaded results. Returns 0, or PS_EXIT_USAGE with *err when no cell matches.
 * The report borrows from both roots: keep them alive until compare_report_free. */
int compare_results(json_t *base, const char *base_file, json_t *now, const char *new_file,
                    const struct compare_opts *o, struct compare_report *r, char **err);
void compare_report_free(struct compare_report *r);

/* ---- metrics of a cell (compare-metrics.c) ---- */

/* Properties of a metric name; unknown names get time-like defaults. */
struct compare_metric_info {
  const char *unit;
  int higher_is_better;
  int deterministic;
  double floor;                 /* default absolute floor */
};
void compare_metric_info(const char *metric, struct compare_metric_info *info);

/* The per-run samples of metric in a cell (warm-up and failed runs excluded), malloc'd into
 * *vals. Returns the count (0 when the metric is absent). */
size_t compare_cell_samples(json_t *cell, const char *metric, double **vals);

/* A per-cell value: alloc.calls, alloc.bytes, alloc.peak_heap, error_rate, cpu_pct,
 * alloc_calls_per_record, or the median of a per-run metric. Returns 0 or -ENOENT. */
int compare_cell_value(json_t *cell, const char *metric, double *out);

/* Names of the metrics present in both cells, malloc'd array of malloc'd strings. */
size_t compare_cell_metrics(json_t *a, json_t *b, char ***names);

/* The canonical key of a cell: its params as sorted "k=v" joined by ",", or its id. malloc'd. */
char *compare_cell_key(json_t *cell);

/* ---- writers (compare-output.c, junit.c) ---- */
/* A value with its unit for people: "12.3 ms", "1.5 MiB", "20000 calls". NAN prints "-". */
void compare_fmt_value(char *buf, size_t len, double v, const char *unit);
json_t *compare_report_json(const struct compare_report *r);
void compare_print_table(FILE *out, const struct compare_report *r, int color);
void compare_print_markdown(FILE *out, const struct compare_report *r);

#endif
