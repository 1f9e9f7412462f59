/* budget.c - budget files (JSON or "[CELL:] METRIC <= LIMIT" lines) and their check against a
 * results file. Limits are in the metric's own unit (seconds, KiB, fraction, percent). Never
 * prints; bad files come back as sentences naming the file, the line and the fix.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "compare.h"
#include "util.h"

static const struct {
  const char *alias, *metric;
} budget_aliases[] = {
  {"time", "wall"}, {"processing_time", "wall"}, {"peak_rss_kb", "max_rss_kb"},
  {"peak_memory_kb", "max_rss_kb"}, {"cpu_percent", "cpu_pct"}, {"alloc_calls", "alloc.calls"},
  {"alloc_bytes", "alloc.bytes"}, {"peak_heap", "alloc.peak_heap"},
};

static const char *budget_known[] = {
  "wall", "cpu", "user", "sys", "max_rss_kb", "throughput", "error_rate", "cpu_pct",
  "alloc.calls", "alloc.bytes", "alloc.peak_heap", "alloc_calls_per_record",
};

static const char *budget_canonical(const char *m)
{
  for (size_t i = 0; i < PS_ARRAY_SIZE(budget_aliases); i++)
    if (!strcmp(m, budget_aliases[i].alias))
      return budget_aliases[i].metric;
  return m;
}

static int budget_metric_ok(const char *m)
{
  for (size_t i = 0; i < PS_ARRAY_SIZE(budget_known); i++)
    if (!strcmp(m, budget_known[i]))
      return 1;
  size_t n = strlen(m);
  return !strncmp(m, "stage.", 6) && n > 14 && !strcmp(m + n - 8, ".seconds");
}

static int budget_add(struct budget *b, const char *cell, const char *metric, int is_max,
                      double limit, const char *where, char **err)
{
  const char *m = budget_canonical(metric);
  if (!budget_metric_ok(m)) {
    *err = ps_xasprintf("%s: unknown budget metric '%s'; use wall, cpu, max_rss_kb, throughput, "
                        "error_rate, cpu_pct, alloc.calls, alloc.bytes, alloc.peak_heap, "
                        "alloc_calls_per_record or stage.<name>.seconds", where, metric);
    return PS_EXIT_USAGE;
  }
  if (!isfinite(limit)) {
    *err = ps_xasprintf("%s: the limit of '%s' is not a finite number", where, metric);
    return PS_EXIT_USAGE;
  }
  b->rules = ps_xrealloc(b->rules, (b->n + 1) * sizeof(*b->rules));
  b->rules[b->n++] = (struct budget_rule){ps_xstrdup(cell && *cell ? cell : "*"), ps_xstrdup(m),
                                          is_max, limit};
  return 0;
}

static int budget_parse_json(const char *text, const char *name, struct budget *b, char **err)
{
  json_error_t je;
  json_t *j = json_loads(text, 0, &je), *lim;
  size_t i;
  int rc = 0;
  if (!j) {
    *err = ps_xasprintf("budget '%s' is not valid JSON (line %d: %s)", name, je.line, je.text);
    return PS_EXIT_USAGE;
  }
  json_t *limits = json_object_get(j, "limits");
  if (!json_is_array(limits)) {
    *err = ps_xasprintf("budget '%s' has no \"limits\" array; see docs/compare.md", name);
    json_decref(j);
    return PS_EXIT_USAGE;
  }
  json_array_foreach(limits, i, lim) {
    char where[512];
    snprintf(where, sizeof(where), "budget '%s', limit %zu", name, i);
    const char *metric = json_string_value(json_object_get(lim, "metric"));
    const char *cell = json_string_value(json_object_get(lim, "cell"));
    json_t *mx = json_object_get(lim, "max"), *mn = json_object_get(lim, "min");
    if (!metric || (!json_is_number(mx) && !json_is_number(mn))) {
      *err = ps_xasprintf("%s needs \"metric\" and a numeric \"max\" or \"min\"", where);
      rc = PS_EXIT_USAGE;
      break;
    }
    if (json_is_number(mx) && (rc = budget_add(b, cell, metric, 1, json_number_value(mx), where,
                                               err)))
      break;
    if (json_is_number(mn) && (rc = budget_add(b, cell, metric, 0, json_number_value(mn), where,
                                               err)))
      break;
  }
  json_decref(j);
  return rc;
}

static char *budget_trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = 0;
  return s;
}

static int budget_parse_lines(const char *text, const char *name, struct budget *b, char **err)
{
  char *copy = ps_xstrdup(text), *save = NULL, *line;
  int lineno = 0, rc = 0;
  /* strtok_r would skip empty lines and miscount; split by hand. */
  for (line = copy; line && !rc; line = save) {
    save = strchr(line, '\n');
    if (save)
      *save++ = 0;
    lineno++;
    char *hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    char *s = budget_trim(line);
    if (!*s)
      continue;
    char where[512];
    snprintf(where, sizeof(where), "budget '%s', line %d", name, lineno);
    const char *cell = "*";
    char *op = strstr(s, "<=");
    int is_max = 1;
    if (!op) {
      op = strstr(s, ">=");
      is_max = 0;
    }
    /* "CELL: metric <= n": the colon before the operator separates the cell glob. */
    char *colon = op ? memrchr(s, ':', (size_t)(op - s)) : NULL;
    if (!op) {
      *err = ps_xasprintf("%s: '%s' is not \"[CELL:] METRIC <= LIMIT\" or \"METRIC >= LIMIT\"",
                          where, s);
      rc = PS_EXIT_USAGE;
      break;
    }
    *op = 0;
    if (colon) {
      *colon = 0;
      cell = budget_trim(s);
      s = colon + 1;
    }
    char *metric = budget_trim(s), *num = budget_trim(op + 2), *end;
    errno = 0;
    double v = strtod(num, &end);
    if (end == num || *budget_trim(end) || errno) {
      *err = ps_xasprintf("%s: the limit '%s' is not a number (use the metric's unit: seconds, "
                          "KiB, fraction)", where, num);
      rc = PS_EXIT_USAGE;
      break;
    }
    rc = budget_add(b, cell, metric, is_max, v, where, err);
  }
  free(copy);
  return rc;
}

int budget_parse(const char *text, const char *name, struct budget *b, char **err)
{
  *b = (struct budget){0};
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  int rc = *p == '{' ? budget_parse_json(text, name, b, err) : budget_parse_lines(text, name, b, err);
  if (rc == 0 && b->n == 0) {
    *err = ps_xasprintf("budget '%s' holds no limit; an empty budget checks nothing", name);
    rc = PS_EXIT_USAGE;
  }
  if (rc)
    budget_free(b);
  return rc;
}

int budget_load(const char *path, struct budget *b, char **err)
{
  char *text;
  size_t len;
  int rc = ps_read_file(path, &text, &len);
  if (rc < 0) {
    *err = ps_xasprintf("cannot read budget '%s': %s", path, strerror(-rc));
    return PS_EXIT_USAGE;
  }
  rc = budget_parse(text, path, b, err);
  free(text);
  return rc;
}

void budget_free(struct budget *b)
{
  if (!b)
    return;
  for (size_t i = 0; i < b->n; i++) {
    free(b->rules[i].cell);
    free(b->rules[i].metric);
  }
  free(b->rules);
  *b = (struct budget){0};
}

static void budget_push(struct budget_alert **a, size_t *n, const char *cell,
                        const struct budget_rule *r, double value)
{
  *a = ps_xrealloc(*a, (*n + 1) * sizeof(**a));
  char *line = isnan(value)
    ? ps_xasprintf("budget unchecked: %s %s was not measured in any matching cell (limit %s %g)",
                   cell, r->metric, r->is_max ? "<=" : ">=", r->limit)
    : ps_xasprintf("budget breached: %s %s = %.6g %s limit %.6g (%s)", cell, r->metric, value,
                   r->is_max ? ">" : "<", r->limit, r->is_max ? "max" : "min");
  (*a)[(*n)++] = (struct budget_alert){ps_xstrdup(cell), ps_xstrdup(r->metric), value, r->limit,
                                       r->is_max, line};
}

size_t budget_check(const struct budget *b, json_t *results, struct budget_alert **alerts)
{
  size_t n = 0;
  *alerts = NULL;
  json_t *cells = json_object_get(results, "cells"), *c;
  for (size_t k = 0; k < b->n; k++) {
    const struct budget_rule *r = &b->rules[k];
    size_t i, measured = 0;
    json_array_foreach(cells, i, c) {
      const char *id = json_string_value(json_object_get(c, "id"));
      if (!id || fnmatch(r->cell, id, 0) != 0)
        continue;
      double v;
      if (compare_cell_value(c, r->metric, &v) != 0)
        continue;
      measured++;
      if (r->is_max ? v > r->limit : v < r->limit)
        budget_push(alerts, &n, id, r, v);
    }
    if (!measured)
      budget_push(alerts, &n, r->cell, r, NAN);
  }
  return n;
}

void budget_alerts_free(struct budget_alert *a, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(a[i].cell);
    free(a[i].metric);
    free(a[i].line);
  }
  free(a);
}
