/* history-file.c - the JSON-lines history store: one "perfsweep.history/1" object per recorded
 * run, appended under an exclusive flock with a single write(2), so concurrent `history add`
 * processes never interleave or lose a line. Readers take a shared lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "history.h"
#include "util.h"

static char *history_now(void)
{
  char buf[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return ps_xstrdup(buf);
}

static json_t *history_record_json(const struct history_record *r)
{
  json_t *cells = json_array();
  for (size_t i = 0; i < r->ncells; i++) {
    const struct history_cell *c = &r->cells[i];
    json_t *samples = json_object();
    for (size_t k = 0; k < c->nm; k++) {
      json_t *a = json_array();
      for (size_t j = 0; j < c->m[k].n; j++)
        json_array_append_new(a, json_real(c->m[k].v[j]));
      json_object_set_new(samples, c->m[k].metric, a);
    }
    json_t *params = json_loads(c->params, 0, NULL);
    json_array_append_new(cells, json_pack("{s:s, s:o, s:o}", "id", c->id, "params",
                                           params ? params : json_object(), "samples", samples));
  }
  char *now = history_now();
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:I, s:s}, s:o}", "schema",
                        HISTORY_SCHEMA, "added", now, "commit", r->commit, "branch", r->branch,
                        "created", r->created, "machine", "hostname", r->hostname, "cpu_model",
                        r->cpu_model, "cores", (json_int_t)r->cores, "kernel", r->kernel,
                        "cells", cells);
  free(now);
  return j;
}

int history_file_add(const char *path, const struct history_record *r, char **err)
{
  json_t *j = history_record_json(r);
  char *line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(j);
  size_t len = strlen(line);
  line = ps_xrealloc(line, len + 2);
  line[len++] = '\n';
  line[len] = 0;
  int rc = 0, fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = ps_xasprintf("cannot open history store '%s': %s; check the folder exists and is "
                        "writable", path, strerror(errno));
    free(line);
    return PS_EXIT_IO;
  }
  if (flock(fd, LOCK_EX) != 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) != 0) {
    *err = ps_xasprintf("cannot append to history store '%s': %s", path, strerror(errno));
    rc = PS_EXIT_IO;
  }
  close(fd); /* releases the lock */
  free(line);
  return rc;
}

static int history_file_read(const char *path, char **data, char **err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = ps_xasprintf("cannot read history store '%s': %s; record a run first with 'perfsweep "
                        "history add RESULTS --store %s'", path, strerror(errno), path);
    return errno == ENOENT ? PS_EXIT_USAGE : PS_EXIT_IO;
  }
  flock(fd, LOCK_SH);
  size_t cap = 1 << 16, len = 0;
  char *buf = ps_xmalloc(cap);
  ssize_t got;
  while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
    len += (size_t)got;
    if (cap - len < 2)
      buf = ps_xrealloc(buf, cap *= 2);
  }
  close(fd);
  if (got < 0) {
    *err = ps_xasprintf("cannot read history store '%s': %s", path, strerror(errno));
    free(buf);
    return PS_EXIT_IO;
  }
  buf[len] = 0;
  *data = buf;
  return 0;
}

static void history_file_cell(json_t *line, json_t *cell, long long seq,
                              const struct history_query *q, struct history_point **pts,
                              size_t *n)
{
  const char *id = json_string_value(json_object_get(cell, "id"));
  if (!id || (q->cell && strcmp(q->cell, id)))
    return;
  json_t *a = json_object_get(json_object_get(cell, "samples"), q->metric), *v;
  size_t k, nv = 0;
  if (!json_is_array(a) || !json_array_size(a))
    return;
  double *vals = ps_xmalloc(json_array_size(a) * sizeof(double));
  json_array_foreach(a, k, v) if (json_is_number(v)) vals[nv++] = json_number_value(v);
  if (nv)
    history_point_push(pts, n, seq, json_string_value(json_object_get(line, "commit")),
                       json_string_value(json_object_get(line, "branch")),
                       json_string_value(json_object_get(json_object_get(line, "machine"),
                                                         "hostname")),
                       json_string_value(json_object_get(line, "added")), id, vals, nv);
  free(vals);
}

int history_file_query(const char *path, const struct history_query *q,
                       struct history_point **pts, size_t *n, char **err)
{
  char *data;
  int rc = history_file_read(path, &data, err);
  if (rc)
    return rc;
  long long lineno = 0;
  for (char *line = data, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    lineno++;
    if (!*line)
      continue;
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    const char *schema = json_string_value(json_object_get(j, "schema"));
    if (!j || !schema || strcmp(schema, HISTORY_SCHEMA)) {
      *err = ps_xasprintf("history store '%s' line %lld is not a %s record%s%s; the store is "
                          "damaged: remove that line", path, lineno, HISTORY_SCHEMA,
                          j ? "" : ": ", j ? "" : je.text);
      json_decref(j);
      free(data);
      history_points_free(*pts, *n);
      *pts = NULL;
      *n = 0;
      return PS_EXIT_USAGE;
    }
    const char *host = json_string_value(json_object_get(json_object_get(j, "machine"), "hostname"));
    const char *branch = json_string_value(json_object_get(j, "branch"));
    if ((!q->machine || (host && !strcmp(q->machine, host))) &&
        (!q->branch || (branch && !strcmp(q->branch, branch)))) {
      json_t *cell;
      size_t i;
      json_array_foreach(json_object_get(j, "cells"), i, cell)
        history_file_cell(j, cell, lineno, q, pts, n);
    }
    json_decref(j);
  }
  free(data);
  return 0;
}
