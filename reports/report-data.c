/* report-data.c - builds the report's view of a results file (axes, cells, per-cell numbers).
 *
 * Reads only; never modifies the results. Missing statistics fall back to the raw runs, and a
 * workload that reports no records gets runs per second (1 / wall) as its throughput.
 */
#include "report-data.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats.h"
#include "util.h"

double report_num(const json_t *v)
{
  if (json_is_number(v))
    return json_number_value(v);
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    double x = strtod(s, &end);
    if (end != s && *end == '\0')
      return x;
  }
  return NAN;
}

const char *report_human(double v, char *buf, size_t len)
{
  static const char *unit[] = {"", " k", " M", " G", " T"};
  if (!isfinite(v)) {
    snprintf(buf, len, "–");
    return buf;
  }
  int u = 0;
  double a = fabs(v);
  while (a >= 1000 && u < 4)
    a /= 1000, v /= 1000, u++;
  snprintf(buf, len, a >= 100 ? "%.0f%s" : "%.3g%s", v, unit[u]);
  return buf;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (err)
    vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return PS_EXIT_USAGE;
}

static int measured_run(const json_t *run)
{
  const json_t *st = json_object_get(run, "status");
  return !json_is_true(json_object_get(run, "warmup")) &&
         (!json_is_string(st) || !strcmp(json_string_value(st), "ok"));
}

size_t report_run_values(const struct report_data *d, const struct report_cell *c,
                         const char *metric, double *out, size_t max)
{
  size_t n = 0, i;
  json_t *run;
  json_array_foreach(json_object_get(c->obj, "runs"), i, run) {
    if (n >= max || !measured_run(run))
      continue;
    double v = NAN, wall = report_num(json_object_get(run, "wall"));
    if (!strcmp(metric, "throughput")) {
      v = report_num(json_object_get(run, "throughput"));
      if (!isfinite(v) && d->thr_records)
        v = report_num(json_object_get(run, "records")) / wall;
      if (!d->thr_records)
        v = 1.0 / wall;
    } else if (!strcmp(metric, "avg_rss_kb")) {
      v = report_num(json_object_get(json_object_get(run, "mem"), "avg_rss_kb"));
    } else {
      v = report_num(json_object_get(run, metric));
    }
    if (isfinite(v))
      out[n++] = v;
  }
  return n;
}

/* stats.<key> median and CI; falls back to the runs' median without an interval. */
static struct report_stat cell_stat(const struct report_data *d, const struct report_cell *c,
                                    const char *key, const char *metric)
{
  struct report_stat s = {NAN, NAN, NAN};
  const json_t *st = json_object_get(json_object_get(c->obj, "stats"), key);
  if (st && (d->thr_records || strcmp(metric, "throughput"))) {
    s.med = report_num(json_object_get(st, "median"));
    const json_t *ci = json_object_get(st, "ci95_median");
    s.lo = report_num(json_array_get(ci, 0));
    s.hi = report_num(json_array_get(ci, 1));
  }
  if (!isfinite(s.med)) {
    size_t n = json_array_size(json_object_get(c->obj, "runs"));
    double v[n ? n : 1];
    size_t k = report_run_values(d, c, metric, v, n);
    s.med = ps_stats_median(v, k);
    if (k > 1)
      s.lo = ps_stats_min(v, k), s.hi = ps_stats_max(v, k);
  }
  return s;
}

static size_t find_value(char **vals, size_t n, const char *v)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(vals[i], v))
      return i;
  return (size_t)-1;
}

static char **axis_values(const json_t *axis, size_t *n)
{
  const json_t *vals = json_object_get(axis, "values");
  *n = json_array_size(vals);
  char **out = ps_xcalloc(*n ? *n : 1, sizeof(char *));
  for (size_t i = 0; i < *n; i++) {
    const json_t *v = json_array_get(vals, i);
    out[i] = json_is_string(v) ? ps_xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
    if (!out[i])
      out[i] = ps_xstrdup("?");
  }
  return out;
}

static int all_numeric(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char *end;
    strtod(v[i], &end);
    if (end == v[i] || *end)
      return 0;
  }
  return n > 0;
}

int report_data_build(json_t *root, const char *results_path, const char *x_axis,
                      const char *s_axis, struct report_data *d, char *err, size_t errlen)
{
  memset(d, 0, sizeof(*d));
  d->root = json_incref(root);
  struct stat st;
  if (stat(results_path, &st) == 0 && S_ISDIR(st.st_mode)) {
    d->dir = ps_xstrdup(results_path);
  } else {
    const char *slash = strrchr(results_path, '/');
    d->dir = slash ? ps_xasprintf("%.*s", (int)(slash - results_path), results_path)
                   : ps_xstrdup(".");
    if (!*d->dir) {
      free(d->dir);
      d->dir = ps_xstrdup("/");
    }
  }

  const json_t *axes = json_object_get(json_object_get(root, "sweep"), "axes");
  size_t naxes = json_array_size(axes), i;
  const json_t *ax = NULL, *as = NULL, *a;
  json_array_foreach(axes, i, a) {
    const char *name = json_string_value(json_object_get(a, "name"));
    if (!name)
      continue;
    if (x_axis ? !strcmp(name, x_axis) : !strcmp(name, "batch"))
      ax = a;
    if (s_axis ? !strcmp(name, s_axis) : !strcmp(name, "workers"))
      as = a;
  }
  if (x_axis && !ax)
    return fail(err, errlen, "%s has no sweep axis named '%s'; pick one of the axes in its "
                "\"sweep.axes\" with --x", results_path, x_axis);
  if (s_axis && !as)
    return fail(err, errlen, "%s has no sweep axis named '%s'; pick one of the axes in its "
                "\"sweep.axes\" with --series", results_path, s_axis);
  /* Defaults: the first axes not already used. */
  for (i = 0; i < naxes && !ax; i++)
    if (json_array_get(axes, i) != as)
      ax = json_array_get(axes, i);
  for (i = 0; i < naxes && !as && !s_axis; i++)
    if (json_array_get(axes, i) != ax)
      as = json_array_get(axes, i);
  if (!ax)
    return fail(err, errlen, "%s lists no sweep axes (\"sweep.axes\" is empty or missing); "
                "re-run the sweep with 'perfsweep run'", results_path);
  if (ax == as)
    return fail(err, errlen, "--x and --series name the same axis '%s'; choose two different "
                "axes", json_string_value(json_object_get(ax, "name")));
  d->x_axis = ps_xstrdup(json_string_value(json_object_get(ax, "name")));
  d->xvals = axis_values(ax, &d->nx);
  if (as) {
    d->s_axis = ps_xstrdup(json_string_value(json_object_get(as, "name")));
    d->svals = axis_values(as, &d->ns);
  } else {
    d->svals = ps_xcalloc(1, sizeof(char *));
    d->svals[0] = ps_xstrdup("");
    d->ns = 1;
  }
  d->x_numeric = all_numeric(d->xvals, d->nx);
  d->s_numeric = as && all_numeric(d->svals, d->ns);

  /* Other axes are held at their first value. */
  json_array_foreach(axes, i, a) {
    if (a == ax || a == as)
      continue;
    const char *name = json_string_value(json_object_get(a, "name"));
    const json_t *v0 = json_array_get(json_object_get(a, "values"), 0);
    if (!name || !json_is_string(v0))
      continue;
    char *prev = d->fixed;
    d->fixed = ps_xasprintf("%s%s%s=%s", prev ? prev : "", prev ? ", " : "", name,
                            json_string_value(v0));
    free(prev);
  }

  /* Does any run report records? */
  const json_t *cells = json_object_get(root, "cells"), *c;
  json_array_foreach(cells, i, c) {
    size_t j;
    json_t *run;
    json_array_foreach(json_object_get(c, "runs"), j, run)
      if (measured_run(run) && (isfinite(report_num(json_object_get(run, "throughput"))) ||
                                isfinite(report_num(json_object_get(run, "records")))))
        d->thr_records = 1;
  }

  d->cells = ps_xcalloc(json_array_size(cells) + 1, sizeof(*d->cells));
  json_array_foreach(cells, i, c) {
    const json_t *params = json_object_get(c, "params");
    const char *xv = json_string_value(json_object_get(params, d->x_axis));
    const char *sv = d->s_axis ? json_string_value(json_object_get(params, d->s_axis)) : "";
    if (!xv || !sv)
      continue;
    int keep = 1;
    size_t k;
    json_array_foreach(axes, k, a) {
      if (a == ax || a == as)
        continue;
      const char *name = json_string_value(json_object_get(a, "name"));
      const json_t *v0 = json_array_get(json_object_get(a, "values"), 0);
      const char *pv = name ? json_string_value(json_object_get(params, name)) : NULL;
      if (pv && json_is_string(v0) && strcmp(pv, json_string_value(v0)))
        keep = 0;
    }
    size_t xi = find_value(d->xvals, d->nx, xv), si = find_value(d->svals, d->ns, sv);
    if (!keep || xi == (size_t)-1 || si == (size_t)-1)
      continue;
    struct report_cell *rc = &d->cells[d->ncells++];
    rc->obj = (json_t *)c;
    rc->id = json_string_value(json_object_get(c, "id"));
    rc->xval = d->xvals[xi], rc->sval = d->svals[si];
    rc->xi = xi, rc->si = si;
    rc->x = d->x_numeric ? strtod(xv, NULL) : NAN;
    rc->s = d->s_numeric ? strtod(sv, NULL) : NAN;
    rc->thr = cell_stat(d, rc, "throughput", "throughput");
    rc->wall = cell_stat(d, rc, "wall", "wall");
    rc->rss_kb = cell_stat(d, rc, "max_rss_kb", "max_rss_kb");
    rc->avg_rss_kb = cell_stat(d, rc, "avg_rss_kb", "avg_rss_kb");
    double sr = report_num(json_object_get(c, "success_rate"));
    rc->success_rate = sr;
  }
  if (d->ncells == 0)
    return fail(err, errlen, "%s has no cells with the axes '%s'%s%s; run a sweep first or pick "
                "other axes with --x/--series", results_path, d->x_axis, d->s_axis ? " and " : "",
                d->s_axis ? d->s_axis : "");
  return 0;
}

const struct report_cell *report_cell_at(const struct report_data *d, size_t xi, size_t si)
{
  for (size_t i = 0; i < d->ncells; i++)
    if (d->cells[i].xi == xi && d->cells[i].si == si)
      return &d->cells[i];
  return NULL;
}

void report_data_free(struct report_data *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->nx; i++)
    free(d->xvals[i]);
  for (size_t i = 0; i < d->ns; i++)
    free(d->svals[i]);
  free(d->xvals);
  free(d->svals);
  free(d->x_axis);
  free(d->s_axis);
  free(d->fixed);
  free(d->cells);
  free(d->dir);
  json_decref(d->root);
  memset(d, 0, sizeof(*d));
}
