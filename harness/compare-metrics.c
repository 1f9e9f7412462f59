/* compare-metrics.c - reads the metrics of one cell of a perfsweep.results/1 file: per-run
 * samples (wall, cpu, peak RSS, throughput, stage times) and per-cell values (allocation calls
 * and bytes from profile.alloc, error rate, CPU percent). Tolerates absent fields; never prints.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"
#include "util.h"

static const struct {
  const char *name;
  struct compare_metric_info info;
} compare_known[] = {
  {"wall", {"s", 0, 0, 0.001}},
  {"cpu", {"s", 0, 0, 0.001}},
  {"user", {"s", 0, 0, 0.001}},
  {"sys", {"s", 0, 0, 0.001}},
  {"max_rss_kb", {"KiB", 0, 0, 64}},
  {"throughput", {"rec/s", 1, 0, 0}},
  {"alloc.calls", {"calls", 0, 1, 0}},
  {"alloc.bytes", {"bytes", 0, 1, 65536}},
  {"alloc.peak_heap", {"bytes", 0, 1, 65536}},
  {"error_rate", {"", 0, 1, 0}},
  {"cpu_pct", {"%", 0, 0, 1}},
  {"alloc_calls_per_record", {"calls", 0, 1, 0}},
};

void compare_metric_info(const char *metric, struct compare_metric_info *info)
{
  for (size_t i = 0; i < PS_ARRAY_SIZE(compare_known); i++)
    if (!strcmp(metric, compare_known[i].name)) {
      *info = compare_known[i].info;
      return;
    }
  /* stage.<name>.seconds and anything else: a time in seconds. */
  *info = (struct compare_metric_info){"s", 0, 0, 0.001};
}

/* A run counts when it is not a warm-up and its status is "ok" (or absent). */
static int compare_run_counts(json_t *run)
{
  if (json_is_true(json_object_get(run, "warmup")))
    return 0;
  json_t *st = json_object_get(run, "status");
  return !json_is_string(st) || !strcmp(json_string_value(st), "ok");
}

static int compare_run_value(json_t *run, const char *metric, double *out)
{
  json_t *v = NULL;
  if (!strncmp(metric, "stage.", 6)) {
    const char *name = metric + 6, *dot = strrchr(name, '.');
    if (!dot || strcmp(dot, ".seconds"))
      return -ENOENT;
    size_t len = (size_t)(dot - name), i;
    json_t *st;
    json_array_foreach(json_object_get(run, "stages"), i, st) {
      const char *s = json_string_value(json_object_get(st, "stage"));
      if (s && strlen(s) == len && !strncmp(s, name, len)) {
        v = json_object_get(st, "seconds");
        break;
      }
    }
  } else if (!strcmp(metric, "max_rss_kb")) {
    v = json_object_get(run, "max_rss_kb");
    if (!json_is_number(v))
      v = json_object_get(json_object_get(run, "mem"), "peak_rss_kb");
  } else if (!strcmp(metric, "cpu")) {
    v = json_object_get(run, "cpu");
    if (!json_is_number(v)) {
      json_t *u = json_object_get(run, "user"), *s = json_object_get(run, "sys");
      if (json_is_number(u) && json_is_number(s)) {
        *out = json_number_value(u) + json_number_value(s);
        return 0;
      }
    }
  } else if (!strcmp(metric, "cpu_pct")) {
    v = json_object_get(json_object_get(run, "cpu_pct"), "avg");
  } else {
    v = json_object_get(run, metric);
  }
  if (!json_is_number(v))
    return -ENOENT;
  *out = json_number_value(v);
  return isfinite(*out) ? 0 : -ENOENT;
}

size_t compare_cell_samples(json_t *cell, const char *metric, double **vals)
{
  json_t *runs = json_object_get(cell, "runs"), *run;
  size_t i, n = 0;
  *vals = NULL;
  if (!json_is_array(runs) || json_array_size(runs) == 0)
    return 0;
  *vals = ps_xmalloc(json_array_size(runs) * sizeof(double));
  json_array_foreach(runs, i, run) {
    double x;
    if (compare_run_counts(run) && compare_run_value(run, metric, &x) == 0)
      (*vals)[n++] = x;
  }
  if (n == 0) {
    free(*vals);
    *vals = NULL;
  }
  return n;
}

static int compare_num(json_t *v, double *out)
{
  if (!json_is_number(v))
    return -ENOENT;
  *out = json_number_value(v);
  return 0;
}

int compare_cell_value(json_t *cell, const char *metric, double *out)
{
  json_t *alloc = json_object_get(json_object_get(cell, "profile"), "alloc");
  if (!strcmp(metric, "alloc.calls"))
    return compare_num(json_object_get(json_object_get(alloc, "calls"), "total"), out);
  if (!strcmp(metric, "alloc.bytes"))
    return compare_num(json_object_get(alloc, "bytes"), out);
  if (!strcmp(metric, "alloc.peak_heap"))
    return compare_num(json_object_get(alloc, "peak_heap"), out);
  if (!strcmp(metric, "error_rate")) {
    if (compare_num(json_object_get(cell, "error_rate"), out) == 0)
      return 0;
    json_t *runs = json_object_get(cell, "runs"), *run;
    size_t i, total = 0, bad = 0;
    json_array_foreach(runs, i, run) {
      if (json_is_true(json_object_get(run, "warmup")))
        continue;
      total++;
      json_t *st = json_object_get(run, "status");
      bad += json_is_string(st) && strcmp(json_string_value(st), "ok");
    }
    if (!total)
      return -ENOENT;
    *out = (double)bad / (double)total;
    return 0;
  }
  if (!strcmp(metric, "alloc_calls_per_record")) {
    double calls, records;
    double *rv;
    size_t n = compare_cell_samples(cell, "records", &rv);
    records = ps_stats_median(rv, n);
    free(rv);
    if (compare_num(json_object_get(json_object_get(alloc, "calls"), "total"), &calls) || !n ||
        records <= 0)
      return -ENOENT;
    *out = calls / records;
    return 0;
  }
  double *v;
  size_t n = compare_cell_samples(cell, metric, &v);
  if (!n)
    return -ENOENT;
  *out = ps_stats_median(v, n);
  free(v);
  return 0;
}

static int compare_has_metric(json_t *cell, const char *metric)
{
  struct compare_metric_info info;
  compare_metric_info(metric, &info);
  double x;
  if (info.deterministic)
    return compare_cell_value(cell, metric, &x) == 0;
  double *v;
  size_t n = compare_cell_samples(cell, metric, &v);
  free(v);
  return n > 0;
}

static void compare_push(char ***names, size_t *n, const char *s)
{
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*names)[i], s))
      return;
  *names = ps_xrealloc(*names, (*n + 1) * sizeof(char *));
  (*names)[(*n)++] = ps_xstrdup(s);
}

size_t compare_cell_metrics(json_t *a, json_t *b, char ***names)
{
  static const char *fixed[] = {"wall", "cpu", "max_rss_kb", "throughput"};
  static const char *tail[] = {"alloc.calls", "alloc.bytes"};
  size_t n = 0;
  *names = NULL;
  for (size_t i = 0; i < PS_ARRAY_SIZE(fixed); i++)
    if (compare_has_metric(a, fixed[i]) && compare_has_metric(b, fixed[i]))
      compare_push(names, &n, fixed[i]);
  /* Stage names in the order the first counted run of a lists them. */
  json_t *runs = json_object_get(a, "runs"), *run, *st;
  size_t i, j;
  json_array_foreach(runs, i, run) {
    if (!compare_run_counts(run))
      continue;
    json_array_foreach(json_object_get(run, "stages"), j, st) {
      const char *s = json_string_value(json_object_get(st, "stage"));
      if (!s)
        continue;
      char *m = ps_xasprintf("stage.%s.seconds", s);
      if (compare_has_metric(a, m) && compare_has_metric(b, m))
        compare_push(names, &n, m);
      free(m);
    }
    break;
  }
  for (size_t k = 0; k < PS_ARRAY_SIZE(tail); k++)
    if (compare_has_metric(a, tail[k]) && compare_has_metric(b, tail[k]))
      compare_push(names, &n, tail[k]);
  /* Failed runs matter only when there are some: then their share is compared exactly. */
  double ea, eb;
  if (compare_cell_value(a, "error_rate", &ea) == 0 && compare_cell_value(b, "error_rate", &eb) == 0 &&
      (ea > 0 || eb > 0))
    compare_push(names, &n, "error_rate");
  return n;
}

static int compare_str_cmp(const void *x, const void *y)
{
  return strcmp(*(char *const *)x, *(char *const *)y);
}

char *compare_cell_key(json_t *cell)
{
  json_t *params = json_object_get(cell, "params");
  if (!json_is_object(params) || json_object_size(params) == 0) {
    const char *id = json_string_value(json_object_get(cell, "id"));
    return ps_xstrdup(id ? id : "");
  }
  size_t n = json_object_size(params), k = 0, len = 1;
  char **parts = ps_xmalloc(n * sizeof(char *));
  const char *key;
  json_t *v;
  json_object_foreach(params, key, v) {
    if (json_is_string(v))
      parts[k] = ps_xasprintf("%s=%s", key, json_string_value(v));
    else {
      char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      parts[k] = ps_xasprintf("%s=%s", key, d ? d : "?");
      free(d);
    }
    len += strlen(parts[k]) + 1;
    k++;
  }
  qsort(parts, n, sizeof(char *), compare_str_cmp);
  char *out = ps_xmalloc(len);
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    if (i)
      strcat(out, ",");
    strcat(out, parts[i]);
    free(parts[i]);
  }
  free(parts);
  return out;
}
