/* history-export.c - a recorded run back as a perfsweep.results/1 document, so a CI job can fetch
 * its base from the history instead of sweeping the base commit again. Only what the history
 * keeps comes back: the raw samples per metric, the commit, branch and machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "history.h"
#include "util.h"

void history_cell_add_metric(struct history_cell *c, const char *metric, const double *v, size_t n)
{
  c->m = ps_xrealloc(c->m, (c->nm + 1) * sizeof(*c->m));
  struct history_metric *m = &c->m[c->nm++];
  m->metric = ps_xstrdup(metric);
  m->n = n;
  m->v = ps_xmalloc((n ? n : 1) * sizeof(double));
  memcpy(m->v, v, n * sizeof(double));
}


static int history_is_cell_value(const char *metric)
{
  return !strcmp(metric, "alloc.calls") || !strcmp(metric, "alloc.bytes") ||
         !strcmp(metric, "alloc.peak_heap") || !strcmp(metric, "error_rate");
}

static json_t *history_cell_json(const struct history_cell *c)
{
  size_t nruns = 0;
  for (size_t k = 0; k < c->nm; k++)
    if (!history_is_cell_value(c->m[k].metric) && c->m[k].n > nruns)
      nruns = c->m[k].n;
  json_t *runs = json_array(), *alloc = json_object();
  for (size_t i = 0; i < nruns; i++) {
    json_t *run = json_pack("{s:I, s:b, s:s}", "index", (json_int_t)i, "warmup", 0, "status", "ok");
    json_t *stages = json_array();
    for (size_t k = 0; k < c->nm; k++) {
      const struct history_metric *m = &c->m[k];
      if (history_is_cell_value(m->metric) || i >= m->n)
        continue;
      size_t len = strlen(m->metric);
      if (!strncmp(m->metric, "stage.", 6) && len > 14 && !strcmp(m->metric + len - 8, ".seconds")) {
        char *name = ps_xasprintf("%.*s", (int)(len - 14), m->metric + 6);
        json_array_append_new(stages, json_pack("{s:s, s:f}", "stage", name, "seconds", m->v[i]));
        free(name);
      } else {
        json_object_set_new(run, m->metric, json_real(m->v[i]));
      }
    }
    json_object_set_new(run, "stages", stages);
    json_array_append_new(runs, run);
  }
  json_t *cell = json_pack("{s:s, s:o, s:o}", "id", c->id, "params",
                           json_loads(c->params, 0, NULL) ?: json_object(), "runs", runs);
  for (size_t k = 0; k < c->nm; k++) {
    const struct history_metric *m = &c->m[k];
    if (!history_is_cell_value(m->metric) || !m->n)
      continue;
    if (!strcmp(m->metric, "error_rate"))
      json_object_set_new(cell, "error_rate", json_real(m->v[0]));
    else if (!strcmp(m->metric, "alloc.calls"))
      json_object_set_new(alloc, "calls", json_pack("{s:f}", "total", m->v[0]));
    else
      json_object_set_new(alloc, m->metric + 6, json_real(m->v[0]));
  }
  if (json_object_size(alloc))
    json_object_set_new(cell, "profile", json_pack("{s:o}", "alloc", alloc));
  else
    json_decref(alloc);
  return cell;
}

json_t *history_results_json(const struct history_record *r)
{
  json_t *cells = json_array();
  for (size_t i = 0; i < r->ncells; i++)
    json_array_append_new(cells, history_cell_json(&r->cells[i]));
  return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:I, s:s, s:s, s:s}, s:o, s:{s:I}}", "schema",
                   "perfsweep.results/1", "created", r->created, "source", "perfsweep history",
                   "machine", "hostname", r->hostname, "cpu_model", r->cpu_model, "cores",
                   (json_int_t)r->cores, "kernel", r->kernel, "git_commit", r->commit,
                   "git_branch", r->branch, "cells", cells, "summary", "cells",
                   (json_int_t)r->ncells);
}

/* ---- file store ---- */

static int history_record_from_line(json_t *line, struct history_record *r)
{
  json_t *m = json_object_get(line, "machine"), *c, *arr;
  const char *s;
  size_t i, k;
  *r = (struct history_record){0};
#define HSTR(obj, key) ps_xstrdup((s = json_string_value(json_object_get(obj, key))) ? s : "")
  r->commit = HSTR(line, "commit");
  r->branch = HSTR(line, "branch");
  r->created = HSTR(line, "created");
  r->hostname = HSTR(m, "hostname");
  r->cpu_model = HSTR(m, "cpu_model");
  r->kernel = HSTR(m, "kernel");
#undef HSTR
  r->cores = (long)json_integer_value(json_object_get(m, "cores"));
  json_t *cells = json_object_get(line, "cells");
  r->cells = ps_xcalloc(json_array_size(cells) + 1, sizeof(*r->cells));
  json_array_foreach(cells, i, c) {
    struct history_cell *hc = &r->cells[r->ncells++];
    hc->id = ps_xstrdup((s = json_string_value(json_object_get(c, "id"))) ? s : "?");
    json_t *params = json_object_get(c, "params");
    hc->params = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : ps_xstrdup("{}");
    const char *metric;
    json_object_foreach(json_object_get(c, "samples"), metric, arr) {
      double *v = ps_xmalloc((json_array_size(arr) + 1) * sizeof(double));
      size_t n = 0;
      json_t *x;
      json_array_foreach(arr, k, x) if (json_is_number(x)) v[n++] = json_number_value(x);
      history_cell_add_metric(hc, metric, v, n);
      free(v);
    }
  }
  return 0;
}

int history_file_find(const char *path, const char *commit, const char *machine,
                      struct history_record *r, char **err)
{
  char *text;
  size_t len;
  int rc = ps_read_file(path, &text, &len);
  if (rc < 0) {
    *err = ps_xasprintf("cannot read history store '%s': %s", path, strerror(-rc));
    return rc == -ENOENT ? PS_EXIT_USAGE : PS_EXIT_IO;
  }
  json_t *found = NULL;
  size_t clen = strlen(commit);
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    json_t *j = json_loads(line, 0, NULL);
    const char *c = json_string_value(json_object_get(j, "commit"));
    const char *h = json_string_value(json_object_get(json_object_get(j, "machine"), "hostname"));
    if (c && !strncmp(c, commit, clen) && (!machine || (h && !strcmp(h, machine)))) {
      json_decref(found); /* the most recent line wins */
      found = j;
    } else {
      json_decref(j);
    }
  }
  free(text);
  if (!found) {
    *err = ps_xasprintf("history store '%s' holds no run of commit '%s'%s%s; record it with "
                        "'perfsweep history add'", path, commit, machine ? " on " : "",
                        machine ? machine : "");
    return PS_EXIT_USAGE;
  }
  history_record_from_line(found, r);
  json_decref(found);
  return 0;
}
