/* history.c - turns a results file into a history record, dispatches a store spec to the file
 * or PostgreSQL back end, and masks passwords in DSNs. Never prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare.h"
#include "history.h"
#include "stats.h"
#include "util.h"

struct history_store {
  char *path;                 /* file store, or NULL */
  void *pg;                   /* PostgreSQL connection, or NULL */
};

static char *history_str(json_t *o, const char *key, const char *dflt)
{
  const char *s = json_string_value(json_object_get(o, key));
  return ps_xstrdup(s && *s ? s : dflt);
}

int history_record_from_results(json_t *results, const struct history_meta *over,
                                struct history_record *r, char **err)
{
  json_t *machine = json_object_get(results, "machine");
  *r = (struct history_record){0};
  r->commit = over && over->commit ? ps_xstrdup(over->commit) : history_str(machine, "git_commit", "");
  if (!*r->commit) {
    *err = ps_xstrdup("the results name no git commit (machine.git_commit); pass --commit SHA "
                      "(in CI: --commit \"$GITHUB_SHA\" or \"$CI_COMMIT_SHA\")");
    history_record_free(r);
    return PS_EXIT_USAGE;
  }
  r->branch = over && over->branch ? ps_xstrdup(over->branch) : history_str(machine, "git_branch", "");
  r->hostname = over && over->machine ? ps_xstrdup(over->machine)
                                      : history_str(machine, "hostname", "unknown");
  r->cpu_model = history_str(machine, "cpu_model", "");
  r->kernel = history_str(machine, "kernel", "");
  r->cores = (long)json_integer_value(json_object_get(machine, "cores"));
  r->created = history_str(results, "created", "");
  json_t *cells = json_object_get(results, "cells"), *c;
  size_t i;
  r->cells = ps_xcalloc(json_array_size(cells) + 1, sizeof(*r->cells));
  json_array_foreach(cells, i, c) {
    struct history_cell *hc = &r->cells[r->ncells++];
    hc->id = history_str(c, "id", "?");
    json_t *params = json_object_get(c, "params");
    hc->params = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : ps_xstrdup("{}");
    char **names;
    size_t nn = compare_cell_metrics(c, c, &names);
    hc->m = ps_xcalloc(nn + 1, sizeof(*hc->m));
    for (size_t k = 0; k < nn; k++) {
      struct compare_metric_info info;
      compare_metric_info(names[k], &info);
      struct history_metric *m = &hc->m[hc->nm];
      if (info.deterministic) {
        double x;
        if (compare_cell_value(c, names[k], &x) == 0) {
          m->v = ps_xmalloc(sizeof(double));
          m->v[0] = x;
          m->n = 1;
        }
      } else {
        m->n = compare_cell_samples(c, names[k], &m->v);
      }
      if (m->n) {
        m->metric = names[k];
        hc->nm++;
      } else {
        free(names[k]);
      }
    }
    free(names);
  }
  return 0;
}

void history_record_free(struct history_record *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->ncells; i++) {
    for (size_t k = 0; k < r->cells[i].nm; k++) {
      free(r->cells[i].m[k].metric);
      free(r->cells[i].m[k].v);
    }
    free(r->cells[i].m);
    free(r->cells[i].id);
    free(r->cells[i].params);
  }
  free(r->cells);
  free(r->commit);
  free(r->branch);
  free(r->created);
  free(r->hostname);
  free(r->cpu_model);
  free(r->kernel);
  *r = (struct history_record){0};
}

int history_is_pg(const char *spec)
{
  return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11) ||
         (strchr(spec, '=') && (strstr(spec, "dbname=") || strstr(spec, "host=")));
}


int history_open(const char *spec, struct history_store **out, char **err)
{
  *out = NULL;
  if (!spec || !*spec) {
    *err = ps_xstrdup("no history store given; use --store FILE.jsonl or --store postgresql://…");
    return PS_EXIT_USAGE;
  }
  struct history_store *s = ps_xcalloc(1, sizeof(*s));
  if (history_is_pg(spec)) {
    int rc = 0;
    s->pg = history_pg_open(spec, err, &rc);
    if (!s->pg) {
      free(s);
      return rc ? rc : PS_EXIT_ENVIRONMENT;
    }
  } else {
    s->path = ps_xstrdup(spec);
  }
  *out = s;
  return 0;
}

int history_add(struct history_store *s, const struct history_record *r, char **err)
{
  return s->pg ? history_pg_add(s->pg, r, err) : history_file_add(s->path, r, err);
}

int history_query(struct history_store *s, const struct history_query *q,
                  struct history_point **pts, size_t *n, char **err)
{
  *pts = NULL;
  *n = 0;
  int rc = s->pg ? history_pg_query(s->pg, q, pts, n, err)
                 : history_file_query(s->path, q, pts, n, err);
  for (size_t i = 0, pos = 0; !rc && i < *n; i++) {
    if (i && (*pts)[i].seq != (*pts)[i - 1].seq)
      pos++;
    (*pts)[i].pos = pos;
  }
  return rc;
}

size_t history_group(const struct history_point *p, size_t n, struct history_series **out)
{
  struct history_series *s = NULL;
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < ns && strcmp(s[k].cell, p[i].cell))
      k++;
    if (k == ns) {
      s = ps_xrealloc(s, (ns + 1) * sizeof(*s));
      s[ns++] = (struct history_series){ps_xstrdup(p[i].cell), NULL, 0};
    }
    s[k].idx = ps_xrealloc(s[k].idx, (s[k].n + 1) * sizeof(size_t));
    s[k].idx[s[k].n++] = i;
  }
  *out = s;
  return ns;
}

void history_series_free(struct history_series *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(s[i].cell);
    free(s[i].idx);
  }
  free(s);
}

size_t history_steps(const struct history_point *p, const struct history_series *s,
                     const struct stepdetect_opts *o, struct step *out, size_t max)
{
  double *y = ps_xmalloc((s->n + 1) * sizeof(double));
  for (size_t i = 0; i < s->n; i++)
    y[i] = p[s->idx[i]].median;
  size_t k = stepdetect(y, s->n, o, out, max);
  free(y);
  return k;
}

int history_find(struct history_store *s, const char *commit, const char *machine,
                 struct history_record *r, char **err)
{
  return s->pg ? history_pg_find(s->pg, commit, machine, r, err)
               : history_file_find(s->path, commit, machine, r, err);
}

void history_close(struct history_store *s)
{
  if (!s)
    return;
  if (s->pg)
    history_pg_close(s->pg);
  free(s->path);
  free(s);
}

void history_point_push(struct history_point **pts, size_t *n, long long seq, const char *commit,
                        const char *branch, const char *machine, const char *added,
                        const char *cell, const double *v, size_t nv)
{
  *pts = ps_xrealloc(*pts, (*n + 1) * sizeof(**pts));
  (*pts)[(*n)++] = (struct history_point){seq, 0, ps_xstrdup(commit ? commit : ""),
                                          ps_xstrdup(branch ? branch : ""),
                                          ps_xstrdup(machine ? machine : ""),
                                          ps_xstrdup(added ? added : ""), ps_xstrdup(cell),
                                          ps_stats_median(v, nv), nv};
}

void history_points_free(struct history_point *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(p[i].commit);
    free(p[i].branch);
    free(p[i].machine);
    free(p[i].added);
    free(p[i].cell);
  }
  free(p);
}
