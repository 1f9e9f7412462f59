/* results-export.c - results.json as CSV, markdown or Prometheus text, and a checker of the Prometheus
 * text exposition format (used by the tests and by `perfsweep export` never emitting bad text).
 */
#include "results-export.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---------------------------------------------------------------- growing string */

struct sb {
  char *s;
  size_t n, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int need = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (b->s && (size_t)need < b->cap - b->n) {
      b->n += (size_t)need;
      return;
    }
    b->cap = (b->cap + (size_t)need + 1) * 2;
    b->s = ps_xrealloc(b->s, b->cap);
    if (b->n == 0)
      b->s[0] = '\0';
  }
}

static void sb_num(struct sb *b, const json_t *v)
{
  if (json_is_integer(v))
    sb_printf(b, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v))
    sb_printf(b, "%.9g", json_real_value(v));
}

static const char *str(const json_t *o, const char *k)
{
  return json_string_value(json_object_get(o, k)) ?: "";
}

/* ---------------------------------------------------------------- CSV */

static void csv_field(struct sb *b, const char *s)
{
  if (!strpbrk(s, ",\"\n\r")) {
    sb_printf(b, "%s", s);
    return;
  }
  sb_printf(b, "\"");
  for (; *s; s++)
    sb_printf(b, *s == '"' ? "\"\"" : "%c", *s);
  sb_printf(b, "\"");
}

static void export_csv(struct sb *b, const json_t *root)
{
  json_t *axes = json_object_get(json_object_get(root, "sweep"), "axes");
  sb_printf(b, "cell");
  size_t i, j;
  json_t *ax, *cell, *run;
  json_array_foreach(axes, i, ax) {
    sb_printf(b, ",");
    csv_field(b, str(ax, "name"));
  }
  static const char *cols[] = {"index", "warmup", "status", "exit_code", "signal", "wall",
                               "user", "sys", "max_rss_kb", "minor_faults", "major_faults",
                               "voluntary_cs", "involuntary_cs", "records", "throughput"};
  for (i = 0; i < PS_ARRAY_SIZE(cols); i++)
    sb_printf(b, ",%s", cols[i]);
  sb_printf(b, ",avg_rss_kb,peak_rss_kb,cpu_pct_avg,error\n");
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    json_array_foreach(json_object_get(cell, "runs"), j, run) {
      csv_field(b, str(cell, "id"));
      size_t a;
      json_array_foreach(axes, a, ax) {
        sb_printf(b, ",");
        csv_field(b, str(json_object_get(cell, "params"), str(ax, "name")));
      }
      for (size_t k = 0; k < PS_ARRAY_SIZE(cols); k++) {
        json_t *v = json_object_get(run, cols[k]);
        sb_printf(b, ",");
        if (json_is_boolean(v))
          sb_printf(b, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_string(v))
          csv_field(b, json_string_value(v));
        else
          sb_num(b, v);
      }
      sb_printf(b, ",");
      sb_num(b, json_object_get(json_object_get(run, "mem"), "avg_rss_kb"));
      sb_printf(b, ",");
      sb_num(b, json_object_get(json_object_get(run, "mem"), "peak_rss_kb"));
      sb_printf(b, ",");
      sb_num(b, json_object_get(json_object_get(run, "cpu_pct"), "avg"));
      sb_printf(b, ",");
      csv_field(b, str(run, "error"));
      sb_printf(b, "\n");
    }
  }
}

/* ---------------------------------------------------------------- markdown */

static void md_text(struct sb *b, const char *s)
{
  for (; *s; s++) {
    if (*s == '|' || *s == '\\' || *s == '<' || *s == '>' || *s == '*' || *s == '_' || *s == '`')
      sb_printf(b, "\\%c", *s);
    else if (*s == '\n')
      sb_printf(b, " ");
    else
      sb_printf(b, "%c", *s);
  }
}

static double num(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

static void export_markdown(struct sb *b, const json_t *root)
{
  sb_printf(b, "| cell | ok | median wall (s) | 95%% CI of median | cv | max RSS (MiB) | "
               "throughput (records/s) |\n|---|---:|---:|---|---:|---:|---:|\n");
  size_t i;
  json_t *cell;
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    json_t *st = json_object_get(cell, "stats"), *wall = json_object_get(st, "wall");
    sb_printf(b, "| ");
    md_text(b, str(cell, "id"));
    double sr = num(json_object_get(cell, "success_rate"));
    if (isfinite(sr))
      sb_printf(b, " | %.0f%% | ", sr * 100);
    else
      sb_printf(b, " | - | ");
    double med = num(json_object_get(wall, "median"));
    json_t *ci = json_object_get(wall, "ci95_median");
    double lo = num(json_array_get(ci, 0)), hi = num(json_array_get(ci, 1));
    double cv = num(json_object_get(wall, "cv"));
    double rss = num(json_object_get(json_object_get(st, "max_rss_kb"), "median"));
    double thr = num(json_object_get(json_object_get(st, "throughput"), "median"));
    if (isfinite(med))
      sb_printf(b, "%.4f", med);
    else
      sb_printf(b, "-");
    if (isfinite(lo))
      sb_printf(b, " | [%.4f, %.4f]", lo, hi);
    else
      sb_printf(b, " | -");
    if (isfinite(cv))
      sb_printf(b, " | %.1f%%", cv * 100);
    else
      sb_printf(b, " | -");
    if (isfinite(rss))
      sb_printf(b, " | %.1f", rss / 1024);
    else
      sb_printf(b, " | -");
    if (isfinite(thr))
      sb_printf(b, " | %.0f |\n", thr);
    else
      sb_printf(b, " | - |\n");
  }
  json_t *s = json_object_get(root, "summary");
  sb_printf(b, "\n%lld cells, %lld runs, %lld failed.\n",
            (long long)json_integer_value(json_object_get(s, "cells")),
            (long long)json_integer_value(json_object_get(s, "runs")),
            (long long)json_integer_value(json_object_get(s, "failed_runs")));
}

/* ---------------------------------------------------------------- prometheus */

static void prom_escape(struct sb *b, const char *s)
{
  for (; *s; s++) {
    if (*s == '\\')
      sb_printf(b, "\\\\");
    else if (*s == '"')
      sb_printf(b, "\\\"");
    else if (*s == '\n')
      sb_printf(b, "\\n");
    else
      sb_printf(b, "%c", *s);
  }
}

static void prom_value(struct sb *b, double v)
{
  if (isnan(v))
    sb_printf(b, "NaN");
  else if (isinf(v))
    sb_printf(b, v > 0 ? "+Inf" : "-Inf");
  else
    sb_printf(b, "%.17g", v);
}

static const char *reserved[] = {"cell", "status", "stat", "le", "quantile", "job", "instance"};

/* {cell="id",param="v",...<extra>} */
static void prom_labels(struct sb *b, const json_t *cell, const char *extra_k, const char *extra_v)
{
  sb_printf(b, "{cell=\"");
  prom_escape(b, str(cell, "id"));
  sb_printf(b, "\"");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)json_object_get(cell, "params"), k, v) {
    int clash = !strncmp(k, "__", 2);
    for (size_t i = 0; i < PS_ARRAY_SIZE(reserved); i++)
      clash |= !strcmp(k, reserved[i]);
    sb_printf(b, ",%s%s=\"", clash ? "param_" : "", k);
    prom_escape(b, json_string_value(v) ?: "");
    sb_printf(b, "\"");
  }
  if (extra_k) {
    sb_printf(b, ",%s=\"", extra_k);
    prom_escape(b, extra_v);
    sb_printf(b, "\"");
  }
  sb_printf(b, "}");
}

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                  1, 2.5, 5, 10, 30, 60, 120, 300, 600};

static void export_prometheus(struct sb *b, const json_t *root)
{
  json_t *cells = json_object_get(root, "cells");
  size_t i, j;
  json_t *cell, *run;
  sb_printf(b, "# HELP perfsweep_run_duration_seconds Wall time of the timed successful runs of a "
               "cell.\n# TYPE perfsweep_run_duration_seconds histogram\n");
  json_array_foreach(cells, i, cell) {
    size_t counts[PS_ARRAY_SIZE(buckets)] = {0}, n = 0;
    double sum = 0;
    json_array_foreach(json_object_get(cell, "runs"), j, run) {
      if (json_is_true(json_object_get(run, "warmup")) || strcmp(str(run, "status"), "ok"))
        continue;
      double w = num(json_object_get(run, "wall"));
      if (!isfinite(w))
        continue;
      n++;
      sum += w;
      for (size_t k = 0; k < PS_ARRAY_SIZE(buckets); k++)
        counts[k] += w <= buckets[k];
    }
    for (size_t k = 0; k < PS_ARRAY_SIZE(buckets); k++) {
      char le[32];
      snprintf(le, sizeof(le), "%g", buckets[k]);
      sb_printf(b, "perfsweep_run_duration_seconds_bucket");
      prom_labels(b, cell, "le", le);
      sb_printf(b, " %zu\n", counts[k]);
    }
    sb_printf(b, "perfsweep_run_duration_seconds_bucket");
    prom_labels(b, cell, "le", "+Inf");
    sb_printf(b, " %zu\nperfsweep_run_duration_seconds_sum", n);
    prom_labels(b, cell, NULL, NULL);
    sb_printf(b, " ");
    prom_value(b, sum);
    sb_printf(b, "\nperfsweep_run_duration_seconds_count");
    prom_labels(b, cell, NULL, NULL);
    sb_printf(b, " %zu\n", n);
  }

  static const char *statuses[] = {"ok", "failed", "crashed", "timeout", "error"};
  sb_printf(b, "# HELP perfsweep_runs_total Runs of a cell by status (warm-ups included).\n"
               "# TYPE perfsweep_runs_total counter\n");
  json_array_foreach(cells, i, cell) {
    for (size_t s = 0; s < PS_ARRAY_SIZE(statuses); s++) {
      size_t n = 0;
      json_array_foreach(json_object_get(cell, "runs"), j, run) n +=
          !strcmp(str(run, "status"), statuses[s]);
      sb_printf(b, "perfsweep_runs_total");
      prom_labels(b, cell, "status", statuses[s]);
      sb_printf(b, " %zu\n", n);
    }
  }

  static const char *stats[] = {"median", "mean", "min", "max", "stddev", "mad", "p90", "p99"};
  struct {
    const char *metric, *name, *help;
    double scale;
  } gauges[] = {
    {"wall", "perfsweep_cell_wall_seconds", "Wall time statistics of a cell", 1},
    {"cpu", "perfsweep_cell_cpu_seconds", "User plus system CPU time statistics of a cell", 1},
    {"max_rss_kb", "perfsweep_cell_max_rss_bytes", "Peak resident memory statistics of a cell",
     1024},
    {"throughput", "perfsweep_cell_throughput_records_per_second",
     "Records per second statistics of a cell", 1},
  };
  for (size_t g = 0; g < PS_ARRAY_SIZE(gauges); g++) {
    sb_printf(b, "# HELP %s %s (label stat).\n# TYPE %s gauge\n", gauges[g].name, gauges[g].help,
              gauges[g].name);
    json_array_foreach(cells, i, cell) {
      json_t *st = json_object_get(json_object_get(cell, "stats"), gauges[g].metric);
      if (!st)
        continue;
      for (size_t s = 0; s < PS_ARRAY_SIZE(stats); s++) {
        double v = num(json_object_get(st, stats[s]));
        if (!isfinite(v))
          continue;
        sb_printf(b, "%s", gauges[g].name);
        prom_labels(b, cell, "stat", stats[s]);
        sb_printf(b, " ");
        prom_value(b, v * gauges[g].scale);
        sb_printf(b, "\n");
      }
    }
  }
  sb_printf(b, "# HELP perfsweep_cell_success_ratio Share of timed runs that succeeded.\n"
               "# TYPE perfsweep_cell_success_ratio gauge\n");
  json_array_foreach(cells, i, cell) {
    double v = num(json_object_get(cell, "success_rate"));
    if (!isfinite(v))
      continue;
    sb_printf(b, "perfsweep_cell_success_ratio");
    prom_labels(b, cell, NULL, NULL);
    sb_printf(b, " ");
    prom_value(b, v);
    sb_printf(b, "\n");
  }
  json_t *m = json_object_get(root, "machine"), *s = json_object_get(root, "summary");
  sb_printf(b, "# HELP perfsweep_sweep_duration_seconds Duration of the whole sweep.\n"
               "# TYPE perfsweep_sweep_duration_seconds gauge\nperfsweep_sweep_duration_seconds ");
  prom_value(b, num(json_object_get(s, "duration")));
  sb_printf(b, "\n# HELP perfsweep_sweep_info The sweep's version, host and commit (value 1).\n"
               "# TYPE perfsweep_sweep_info gauge\nperfsweep_sweep_info{version=\"");
  prom_escape(b, str(root, "perfsweep_version"));
  sb_printf(b, "\",hostname=\"");
  prom_escape(b, str(m, "hostname"));
  sb_printf(b, "\",git_commit=\"");
  prom_escape(b, str(m, "git_commit"));
  sb_printf(b, "\"} 1\n");
}

char *ps_export(const json_t *root, enum ps_export_format format)
{
  struct sb b = {0};
  sb_printf(&b, "%s", "");
  if (format == PS_EXPORT_CSV)
    export_csv(&b, root);
  else if (format == PS_EXPORT_MARKDOWN)
    export_markdown(&b, root);
  else
    export_prometheus(&b, root);
  return b.s;
}

/* ---------------------------------------------------------------- prometheus checker */

static int perr(char *err, size_t errlen, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(char *err, size_t errlen, int line, const char *fmt, ...)
{
  int n = snprintf(err, errlen, "line %d: ", line);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < errlen)
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static size_t name_len(const char *p, int colon)
{
  size_t n = 0;
  if (!(isalpha((unsigned char)p[0]) || p[0] == '_' || (colon && p[0] == ':')))
    return 0;
  while (isalnum((unsigned char)p[n]) || p[n] == '_' || (colon && p[n] == ':'))
    n++;
  return n;
}

static int parse_value(const char *s, double *v)
{
  if (!strcmp(s, "NaN"))
    return *v = NAN, 0;
  if (!strcmp(s, "+Inf"))
    return *v = INFINITY, 0;
  if (!strcmp(s, "-Inf"))
    return *v = -INFINITY, 0;
  char *end;
  *v = strtod(s, &end);
  return (*s && !*end && !isspace((unsigned char)*s)) ? 0 : -1;
}

struct family {
  char name[128], type[16];
  int seen_samples, closed;
};

/* state for histogram checks of the current label set */
struct hist {
  char key[1024];
  double last_bucket, inf;
  int has_inf;
};

int ps_prometheus_check(const char *text, char *err, size_t errlen)
{
  struct family fams[64];
  size_t nf = 0, cur = SIZE_MAX;
  struct hist h = {.key = "", .last_bucket = -1};
  char **seen = NULL;
  size_t nseen = 0;
  int line = 0, rc = 0;
  char *copy = ps_xstrdup(text), *save = NULL;
  size_t tl = strlen(text);
  if (tl && text[tl - 1] != '\n')
    rc = perr(err, errlen, 0, "the text does not end with a newline");
  for (char *l = strtok_r(copy, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
    line++;
    if (!*l)
      continue;
    if (l[0] == '#') {
      char kw[8] = "", nm[128] = "";
      if (sscanf(l, "# %7s %127s", kw, nm) == 2 && (!strcmp(kw, "HELP") || !strcmp(kw, "TYPE"))) {
        if (name_len(nm, 1) != strlen(nm)) {
          rc = perr(err, errlen, line, "'%s' is not a valid metric name", nm);
          break;
        }
        if (!strcmp(kw, "TYPE")) {
          const char *t = l + 7 + strlen(nm);
          while (*t == ' ')
            t++;
          if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") &&
              strcmp(t, "summary") && strcmp(t, "untyped")) {
            rc = perr(err, errlen, line, "unknown metric type '%s'", t);
            break;
          }
          for (size_t i = 0; i < nf; i++)
            if (!strcmp(fams[i].name, nm)) {
              rc = perr(err, errlen, line, "a second TYPE line for %s", nm);
              break;
            }
          if (rc || nf == PS_ARRAY_SIZE(fams))
            break;
          if (cur != SIZE_MAX)
            fams[cur].closed = 1;
          snprintf(fams[nf].name, sizeof(fams[nf].name), "%s", nm);
          snprintf(fams[nf].type, sizeof(fams[nf].type), "%s", t);
          fams[nf].seen_samples = fams[nf].closed = 0;
          cur = nf++;
        }
      }
      continue;
    }
    /* sample: name[{labels}] value [timestamp] */
    size_t n = name_len(l, 1);
    if (!n) {
      rc = perr(err, errlen, line, "a sample must start with a metric name: '%s'", l);
      break;
    }
    char name[128];
    snprintf(name, sizeof(name), "%.*s", (int)n, l);
    const char *p = l + n;
    char labels[1024] = "", le[64] = "", key[1024] = "";
    if (*p == '{') {
      const char *start = ++p;
      while (*p != '}') {
        size_t ln = name_len(p, 0);
        if (!ln || p[ln] != '=' || p[ln + 1] != '"') {
          rc = perr(err, errlen, line, "bad label in '%s'", l);
          break;
        }
        int is_le = ln == 2 && !strncmp(p, "le", 2);
        const char *lname = p;
        p += ln + 2;
        char val[256];
        size_t vn = 0;
        while (*p && *p != '"') {
          if (*p == '\\') {
            if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
              rc = perr(err, errlen, line, "bad escape \\%c in a label value", p[1]);
              break;
            }
            p++;
          }
          if (vn + 1 < sizeof(val))
            val[vn++] = *p;
          p++;
        }
        val[vn] = '\0';
        if (rc)
          break;
        if (*p != '"') {
          rc = perr(err, errlen, line, "unterminated label value");
          break;
        }
        p++;
        if (is_le)
          snprintf(le, sizeof(le), "%s", val);
        else
          snprintf(key + strlen(key), sizeof(key) - strlen(key), "%.*s=%s;", (int)ln,
                   lname, val);
        if (*p == ',')
          p++;
        else if (*p != '}') {
          rc = perr(err, errlen, line, "expected , or } after a label");
          break;
        }
      }
      if (rc)
        break;
      snprintf(labels, sizeof(labels), "%.*s", (int)(p - start), start);
      p++;
    }
    if (*p != ' ') {
      rc = perr(err, errlen, line, "expected a space before the value");
      break;
    }
    while (*p == ' ')
      p++;
    char vbuf[64];
    size_t vl = strcspn(p, " ");
    snprintf(vbuf, sizeof(vbuf), "%.*s", (int)vl, p);
    double v;
    if (parse_value(vbuf, &v) < 0) {
      rc = perr(err, errlen, line, "'%s' is not a sample value", vbuf);
      break;
    }
    /* the family: exact name, or a histogram/summary base name */
    size_t fam = SIZE_MAX;
    for (size_t i = 0; i < nf; i++) {
      size_t fl = strlen(fams[i].name);
      if (!strcmp(name, fams[i].name) ||
          (!strncmp(name, fams[i].name, fl) &&
           (!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
            !strcmp(name + fl, "_count")) &&
           (!strcmp(fams[i].type, "histogram") || !strcmp(fams[i].type, "summary"))))
        fam = i;
    }
    if (fam != SIZE_MAX && fam != cur) {
      rc = perr(err, errlen, line, "samples of %s are not grouped under its TYPE line",
                fams[fam].name);
      break;
    }
    if (fam != SIZE_MAX && !strcmp(fams[fam].type, "histogram")) {
      size_t fl = strlen(fams[fam].name);
      const char *suffix = name + fl;
      if (!*suffix) {
        rc = perr(err, errlen, line, "a histogram sample needs _bucket, _sum or _count");
        break;
      }
      if (!strcmp(suffix, "_bucket")) {
        if (!*le) {
          rc = perr(err, errlen, line, "a histogram bucket without an le label");
          break;
        }
        if (strcmp(h.key, key)) {
          snprintf(h.key, sizeof(h.key), "%s", key);
          h.last_bucket = -1;
          h.has_inf = 0;
        }
        if (v < h.last_bucket) {
          rc = perr(err, errlen, line, "histogram buckets must be cumulative (%g after %g)", v,
                    h.last_bucket);
          break;
        }
        h.last_bucket = v;
        if (!strcmp(le, "+Inf")) {
          h.has_inf = 1;
          h.inf = v;
        }
      } else if (!strcmp(suffix, "_count")) {
        if (strcmp(h.key, key) || !h.has_inf) {
          rc = perr(err, errlen, line, "a histogram needs an le=\"+Inf\" bucket before _count");
          break;
        }
        if (h.inf != v) {
          rc = perr(err, errlen, line, "_count %g differs from the +Inf bucket %g", v, h.inf);
          break;
        }
      }
    }
    if (fam != SIZE_MAX && !strcmp(fams[fam].type, "counter") && (v < 0 || isnan(v))) {
      rc = perr(err, errlen, line, "a counter must not be negative or NaN");
      break;
    }
    char *id = ps_xasprintf("%s{%s}", name, labels);
    for (size_t i = 0; i < nseen && !rc; i++)
      if (!strcmp(seen[i], id))
        rc = perr(err, errlen, line, "duplicate sample %s", id);
    seen = ps_xrealloc(seen, (nseen + 1) * sizeof(char *));
    seen[nseen++] = id;
  }
  for (size_t i = 0; i < nseen; i++)
    free(seen[i]);
  free(seen);
  free(copy);
  return rc;
}
