/* run-helpers.h - shared by the sweep runner's integration tests: run the perfsweep binary
 * with arguments, capture its exit code and output, load results, compare sweep contents. */
#ifndef PERFSWEEP_TEST_RUN_HELPERS_H
#define PERFSWEEP_TEST_RUN_HELPERS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-tmp.h"

#define PERFSWEEP PERFSWEEP_BIN_DIR "/perfsweep"

/* A new folder (malloc'd path), also removed when the test's worker exits (test-tmp.h). */
static inline char *tmpdir_new(void)
{
  return ps_test_mkdtemp(strdup("/tmp/ps-test-run-XXXXXX"));
}

/* Removes the folder d and what is in it now, and frees d. */
static inline void tmpdir_rm(char *d)
{
  ps_test_rm_tree(d);
  free(d);
}

/* Starts perfsweep with a NULL-terminated argument list (after "perfsweep"); stdout and stderr
 * go to out_path (may be NULL = /dev/null). Returns the pid. */
static inline pid_t ps_start(const char *out_path, char *const *args)
{
  char *argv[64];
  int n = 0;
  argv[n++] = PERFSWEEP;
  for (; args[n - 1] && n < 63; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    FILE *f = freopen(out_path ? out_path : "/dev/null", "w", stdout);
    (void)f;
    dup2(1, 2);
    setenv("NO_COLOR", "1", 1);
    execv(PERFSWEEP, argv);
    _exit(127);
  }
  return pid;
}

static inline int ps_wait(pid_t pid)
{
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* perfsweep ARGS... ; returns the exit code; output in *out (malloc'd) when out != NULL. */
static inline int ps_run(char **out, ...)
{
  char *args[64];
  int n = 0;
  va_list ap;
  va_start(ap, out);
  while (n < 63 && (args[n] = va_arg(ap, char *)))
    n++;
  va_end(ap);
  args[n] = NULL;
  char path[] = "/tmp/ps-test-run-out-XXXXXX";
  close(ps_test_mkstemp(path));
  int rc = ps_wait(ps_start(path, args));
  if (out) {
    FILE *f = fopen(path, "r");
    size_t cap = 1 << 20;
    *out = calloc(cap, 1);
    size_t got = fread(*out, 1, cap - 1, f);
    (*out)[got] = '\0';
    fclose(f);
  }
  unlink(path);
  return rc;
}

static inline json_t *load_results(const char *dir)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/results.json", dir);
  json_error_t e;
  json_t *r = json_load_file(path, 0, &e);
  cr_assert_not_null(r, "%s: %s", path, e.text);
  return r;
}

/* A digest of a sweep's content without timings: per cell id, its runs' index/warmup/status. */
static inline char *content_digest(json_t *root)
{
  size_t cap = 1 << 16, n = 0;
  char *d = calloc(cap, 1);
  size_t i, j;
  json_t *cell, *run;
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    n += (size_t)snprintf(d + n, cap - n, "%s:", json_string_value(json_object_get(cell, "id")));
    json_array_foreach(json_object_get(cell, "runs"), j, run) {
      n += (size_t)snprintf(d + n, cap - n, " %lld%s%s",
                            (long long)json_integer_value(json_object_get(run, "index")),
                            json_is_true(json_object_get(run, "warmup")) ? "w" : "",
                            json_string_value(json_object_get(run, "status")));
    }
    n += (size_t)snprintf(d + n, cap - n, "\n");
  }
  return d;
}

#endif
