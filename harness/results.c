/* results.c - loading, validating and writing perfsweep.results/1 files (jansson).
 *
 * The loader never prints and never aborts on bad input: it returns a PS_EXIT_* code and a
 * sentence naming the file, so each command decides how to report it.
 */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

int ps_results_errf(int code, char *err, size_t errlen, const char *fmt, ...)
{
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

#define fail ps_results_errf

int ps_results_validate(const json_t *root, const char *name, char *err, size_t errlen)
{
  if (!json_is_object(root))
    return fail(PS_EXIT_USAGE, err, errlen,
                "%s is not a perfsweep results file (expected a JSON object)", name);
  const char *schema = json_string_value(json_object_get(root, "schema"));
  if (!schema)
    return fail(PS_EXIT_USAGE, err, errlen,
                "%s has no \"schema\" field: it is not a perfsweep results file", name);
  if (strcmp(schema, PS_RESULTS_SCHEMA) != 0)
    return fail(PS_EXIT_USAGE, err, errlen,
                "%s has schema \"%s\" but this perfsweep reads only \"%s\"; re-run the sweep "
                "with this version or use the perfsweep that wrote it",
                name, schema, PS_RESULTS_SCHEMA);
  json_t *cells = json_object_get(root, "cells");
  if (!json_is_array(cells))
    return fail(PS_EXIT_USAGE, err, errlen, "%s has no \"cells\" array", name);
  size_t i;
  json_t *cell;
  json_array_foreach(cells, i, cell) {
    if (!json_is_string(json_object_get(cell, "id")) ||
        !json_is_object(json_object_get(cell, "params")) ||
        !json_is_array(json_object_get(cell, "runs")))
      return fail(PS_EXIT_USAGE, err, errlen,
                  "%s: cell %zu lacks \"id\", \"params\" or \"runs\"; the file is damaged", name,
                  i);
  }
  return 0;
}

int ps_results_load(const char *path, json_t **out, char *err, size_t errlen)
{
  *out = NULL;
  char *file = NULL;
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    file = ps_xasprintf("%s/%s", path, PS_RESULTS_FILE);
  else
    file = ps_xstrdup(path);

  char *data = NULL;
  size_t len = 0;
  int rc = ps_read_file(file, &data, &len);
  if (rc < 0) {
    /* A missing or unreadable input is bad input (3); a failing disk is an I/O error (6). */
    int code = rc == -ENOENT || rc == -ENOTDIR || rc == -EACCES || rc == -EISDIR ? PS_EXIT_USAGE
                                                                                   : PS_EXIT_IO;
    rc = fail(code, err, errlen,
              "cannot read results file %s: %s; give the results.json that 'perfsweep run' wrote, "
              "or its folder", file, strerror(-rc));
    goto out;
  }
  json_error_t jerr;
  json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    if (len == 0)
      rc = fail(PS_EXIT_USAGE, err, errlen, "%s is empty: not a perfsweep results file", file);
    else if (jerr.position >= (int)len)
      rc = fail(PS_EXIT_USAGE, err, errlen,
                "%s is truncated (JSON ends early: %s); the sweep that wrote it was cut off, "
                "run 'perfsweep run --resume' on its folder",
                file, jerr.text);
    else
      rc = fail(PS_EXIT_USAGE, err, errlen, "%s is not valid JSON (line %d: %s)", file,
                jerr.line, jerr.text);
    goto out;
  }
  rc = ps_results_validate(root, file, err, errlen);
  if (rc)
    json_decref(root);
  else
    *out = root;
out:
  free(data);
  free(file);
  return rc;
}

int ps_results_load_or_report(const char *path, json_t **out)
{
  char err[1024];
  int rc = ps_results_load(path, out, err, sizeof(err));
  if (rc)
    ps_error("%s", err);
  return rc;
}

int ps_results_write(const char *path, const json_t *root)
{
  char *text = json_dumps(root, JSON_INDENT(1));
  if (!text)
    return -ENOMEM;
  size_t len = strlen(text);
  text[len] = '\0';
  char *buf = ps_xmalloc(len + 2);
  memcpy(buf, text, len);
  buf[len] = '\n';
  int rc = ps_write_file_atomic(path, buf, len + 1);
  free(buf);
  free(text);
  return rc;
}

/* text and a final newline, in one writev; a short write (rare) is completed piecewise.
 * Returns 0 or -errno. */
static int write_text_line(int fd, const char *text, size_t len)
{
  struct iovec v[2] = {{(void *)text, len}, {(void *)"\n", 1}};
  ssize_t w = writev(fd, v, 2);
  if (w < 0 && errno != EINTR)
    return -errno;
  size_t done = w < 0 ? 0 : (size_t)w;
  if (done < len) {
    int rc = ps_write_all(fd, text + done, len - done);
    if (rc)
      return rc;
    done = len;
  }
  return done == len ? ps_write_all(fd, "\n", 1) : 0;
}

/* The classic way: path.tmp written, then renamed over path. Returns 0 or -errno. */
static int write_via_tmp_name(const char *path, const char *text, size_t len)
{
  char *tmp = ps_xasprintf("%s.tmp", path);
  int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    rc = -errno;
  } else {
    rc = write_text_line(fd, text, len);
    if (close(fd) != 0 && !rc)
      rc = -errno;
    if (!rc && rename(tmp, path) != 0)
      rc = -errno;
    if (rc)
      unlink(tmp);
  }
  free(tmp);
  return rc;
}

/* An unnamed file (O_TMPFILE) in path's folder, written, then linked as path: one directory
 * entry per file instead of a temporary name created and renamed, and nothing left behind by a
 * crash. Returns 0, -EEXIST when path exists (linkat does not replace; the caller falls back),
 * -EOPNOTSUPP when the file system or /proc does not allow it, or -errno of a write. */
static int write_via_tmpfile(const char *path, const char *text, size_t len)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? ps_xasprintf("%.*s", slash == path ? 1 : (int)(slash - path), path)
                    : ps_xstrdup(".");
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  free(dir);
  if (fd < 0)
    return -EOPNOTSUPP;
  int rc = write_text_line(fd, text, len);
  if (!rc) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
      rc = errno == EEXIST ? -EEXIST : -EOPNOTSUPP;
  }
  close(fd);
  return rc;
}

int ps_results_write_nosync(const char *path, const json_t *root, int compact)
{
  char *text = json_dumps(root, compact ? JSON_COMPACT : JSON_INDENT(1));
  if (!text)
    return -ENOMEM;
  size_t len = strlen(text);
  int rc = write_via_tmpfile(path, text, len);
  if (rc == -EEXIST || rc == -EOPNOTSUPP)
    rc = write_via_tmp_name(path, text, len);
  free(text);
  return rc;
}

json_t *ps_json_num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static const char *tukey_name(enum ps_tukey t)
{
  return t == PS_TUKEY_FAR ? "far" : t == PS_TUKEY_MILD ? "mild" : "none";
}

/* (json_object_set_new_nocheck and json_array_append_new instead of json_pack: a sweep builds
 * this object for every metric of every cell, and json_pack parses its format each time) */
static json_t *num_pair(double a, double b)
{
  json_t *p = json_array();
  json_array_append_new(p, ps_json_num(a));
  json_array_append_new(p, ps_json_num(b));
  return p;
}

json_t *ps_results_stats_json(const struct ps_summary *s)
{
  json_t *o = json_object();
  json_object_set_new_nocheck(o, "n", json_integer((json_int_t)s->n));
  json_object_set_new_nocheck(o, "mean", ps_json_num(s->mean));
  json_object_set_new_nocheck(o, "median", ps_json_num(s->median));
  json_object_set_new_nocheck(o, "stddev", ps_json_num(s->stddev));
  json_object_set_new_nocheck(o, "mad", ps_json_num(s->mad));
  json_object_set_new_nocheck(o, "min", ps_json_num(s->min));
  json_object_set_new_nocheck(o, "max", ps_json_num(s->max));
  json_object_set_new_nocheck(o, "p90", ps_json_num(s->p90));
  json_object_set_new_nocheck(o, "p99", ps_json_num(s->p99));
  json_object_set_new_nocheck(o, "cv", ps_json_num(s->cv));
  json_object_set_new_nocheck(o, "ci95_mean", num_pair(s->ci95_mean[0], s->ci95_mean[1]));
  json_object_set_new_nocheck(o, "ci95_median", num_pair(s->ci95_median[0], s->ci95_median[1]));
  json_t *outs = json_array();
  for (size_t i = 0; i < s->noutliers; i++) {
    json_t *out = json_object();
    json_object_set_new_nocheck(out, "index", json_integer((json_int_t)s->outliers[i].index));
    json_object_set_new_nocheck(out, "value", ps_json_num(s->outliers[i].value));
    json_object_set_new_nocheck(out, "zscore", ps_json_num(s->outliers[i].zscore));
    json_object_set_new_nocheck(out, "tukey",
                                json_string_nocheck(tukey_name(s->outliers[i].tukey)));
    json_array_append_new(outs, out);
  }
  json_object_set_new_nocheck(o, "outliers", outs);
  return o;
}

json_t *ps_results_find_cell(const json_t *root, const char *id)
{
  size_t i;
  json_t *cell;
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    const char *cid = json_string_value(json_object_get(cell, "id"));
    if (cid && !strcmp(cid, id))
      return cell;
  }
  return NULL;
}
