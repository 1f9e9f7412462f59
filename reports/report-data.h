/* report-data.h - the view of a results file that every part of the report draws from:
 * which axis is the x axis and which the series, the cells in axis order, and the numbers
 * (median and 95 % interval) of throughput, run time and memory per cell.
 */
#ifndef PERFSWEEP_REPORT_DATA_H
#define PERFSWEEP_REPORT_DATA_H

#include <jansson.h>
#include <stddef.h>

struct report_stat {
  double med, lo, hi; /* median and its 95 % interval; NAN when unknown */
};

struct report_cell {
  json_t *obj;          /* borrowed from the results */
  const char *id;
  const char *xval, *sval; /* values of the x and series axes ("" when there is no series) */
  double x, s;          /* the same parsed as numbers; NAN when not numeric */
  size_t xi, si;        /* index in the axis values */
  struct report_stat thr, wall, rss_kb, avg_rss_kb;
  double success_rate;
};

struct report_data {
  json_t *root;         /* owned: a reference taken by report_data_build */
  char *dir;            /* folder of the results file (profile paths are relative to it) */
  char *x_axis, *s_axis; /* s_axis NULL when the sweep has one axis */
  char **xvals, **svals;
  size_t nx, ns;
  struct report_cell *cells;
  size_t ncells;
  char *fixed;          /* "allocator=glibc" when other axes were held at one value; or NULL */
  int thr_records;      /* 1: throughput is records/s; 0: runs/s (1 / wall) */
  int x_numeric, s_numeric;
};

/* Builds the view. x_axis / s_axis choose the axes (NULL = "batch"/"workers" when present,
 * else the first and second axis). Returns 0, or PS_EXIT_USAGE with a sentence in err (an axis
 * that does not exist, no cells). Release with report_data_free (NULL-safe). */
int report_data_build(json_t *root, const char *results_path, const char *x_axis,
                      const char *s_axis, struct report_data *d, char *err, size_t errlen);
void report_data_free(struct report_data *d);

/* Values of one metric over the cell's measured runs (not warm-up, status ok): "wall",
 * "throughput", "max_rss_kb", "avg_rss_kb". Writes up to max values; returns how many. */
size_t report_run_values(const struct report_data *d, const struct report_cell *c,
                         const char *metric, double *out, size_t max);

/* The cell at axis indices (xi, si), or NULL when the sweep lacks it. */
const struct report_cell *report_cell_at(const struct report_data *d, size_t xi, size_t si);

/* A number from a JSON value (real, integer or numeric string); NAN otherwise. */
double report_num(const json_t *v);

/* "12.3 k", "4.56 M": a compact human number (static buffer per call site: pass buf). */
const char *report_human(double v, char *buf, size_t len);

#endif
