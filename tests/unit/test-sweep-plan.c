/* test-sweep-plan.c - harness/sweep-plan.c: --profile parsing, spec files, the plan's JSON round
 * trip (what --resume and merge rely on), sweep identity, and each cell's argv and environment. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit-codes.h"
#include "probe-env.h"
#include "sweep-plan.h"
#include "test-tmp.h"

static const char *env_get(char **env, const char *name)
{
  size_t n = strlen(name);
  for (char **e = env; *e; e++)
    if (!strncmp(*e, name, n) && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

Test(sweep_plan, profile_option)
{
  struct ps_plan p;
  char err[256];
  ps_plan_init(&p);
  cr_assert_eq(ps_plan_set_profile(&p, "cpu", err, sizeof(err)), 0);
  cr_assert(p.prof_cpu && !p.prof_alloc && p.profile_runs == 1);
  cr_assert_eq(ps_plan_set_profile(&p, "none", err, sizeof(err)), 0);
  cr_assert_eq(p.profile_runs, 0);
  cr_assert_eq(ps_plan_set_profile(&p, "cpu,gpu", err, sizeof(err)), -1);
  cr_assert(strstr(err, "'gpu' is not a probe"), "%s", err);
  ps_plan_release(&p);
}

static char *write_tmp(const char *text)
{
  char *path = strdup("/tmp/ps-test-plan-XXXXXX");
  int fd = ps_test_mkstemp(path);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

Test(sweep_plan, spec_file_and_json_round_trip)
{
  char *path = write_tmp("{\"command\": [\"prog\", \"{b}\"], \"params\": {\"b\": \"1..4*2\","
                         " \"c\": [1, \"x\"]}, \"env\": {\"E\": \"on,off\"}, \"runs\": 7,"
                         " \"warmup\": 2, \"seed\": 9, \"timeout\": 3, \"profile\": \"alloc\"}");
  struct ps_plan p, q;
  char err[512] = "";
  ps_plan_init(&p);
  cr_assert_eq(ps_plan_load_spec(&p, path, err, sizeof(err)), 0, "%s", err);
  cr_assert_eq(p.sweep.naxes, 3);
  cr_assert_eq(ps_sweep_ncells(&p.sweep), 3 * 2 * 2);
  cr_assert_str_eq(p.sweep.axes[1].values[0], "1", "integers become strings");
  cr_assert_eq(p.sweep.axes[2].kind, PS_AXIS_ENV);
  cr_assert(p.runs == 7 && p.warmup == 2 && p.seed == 9 && p.timeout == 3.0);
  cr_assert(p.prof_alloc && !p.prof_cpu);

  json_t *doc = json_pack("{soso}", "workload", ps_plan_workload_json(&p), "sweep",
                          ps_plan_sweep_json(&p));
  ps_plan_init(&q);
  cr_assert_eq(ps_plan_from_results(&q, doc, err, sizeof(err)), 0, "%s", err);
  json_t *again = json_pack("{soso}", "workload", ps_plan_workload_json(&q), "sweep",
                            ps_plan_sweep_json(&q));
  cr_assert(json_equal(doc, again), "the plan survives its JSON form");
  cr_assert_eq(ps_plan_same_sweep(doc, again, err, sizeof(err)), 1);
  json_object_set_new(json_object_get(again, "sweep"), "seed", json_integer(10));
  cr_assert_eq(ps_plan_same_sweep(doc, again, err, sizeof(err)), 0);
  cr_assert(strstr(err, "seed"), "the difference is named: %s", err);
  json_decref(doc);
  json_decref(again);
  ps_plan_release(&p);
  ps_plan_release(&q);
  unlink(path);
  free(path);
}

Test(sweep_plan, bad_spec_files)
{
  const char *bad[][2] = {{"{\"params\": {\"b\": \"\"}}", "empty"},
                          {"{\"params\": {\"b\": {}}}", "must be a string"},
                          {"[1, 2]", "JSON object"},
                          {"{\"command\": 3}", "array of words"},
                          {"{\"params\": ", "not valid JSON"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *path = write_tmp(bad[i][0]);
    struct ps_plan p;
    char err[512] = "";
    ps_plan_init(&p);
    cr_assert_eq(ps_plan_load_spec(&p, path, err, sizeof(err)), PS_EXIT_USAGE, "%s", bad[i][0]);
    cr_assert(strstr(err, bad[i][1]), "'%s' -> %s", bad[i][0], err);
    ps_plan_release(&p);
    unlink(path);
    free(path);
  }
}

Test(sweep_plan, cell_argv_and_environment)
{
  struct ps_plan p;
  char err[256];
  ps_plan_init(&p);
  ps_sweep_add_axis(&p.sweep, "MODE", PS_AXIS_ENV, "a b,c", err, sizeof(err));
  ps_sweep_add_axis(&p.sweep, "allocator", PS_AXIS_ALLOCATOR, "glibc,jemalloc", err, sizeof(err));
  char *w[] = {"echo {MODE}"};
  ps_plan_set_argv(&p, w, 1);
  p.shell = 1;
  p.jemalloc = strdup("/opt/libjemalloc.so.2");
  char **argv = ps_plan_cell_argv(&p, 0);
  cr_assert_str_eq(argv[0], "/bin/sh");
  cr_assert_str_eq(argv[2], "echo 'a b'", "value shell-quoted: %s", argv[2]);
  ps_argv_free(argv);
  setenv("MODE", "stale", 1);
  const char *missing = NULL;
  char **env = ps_plan_cell_env(&p, 1, "/tmp/m.jsonl", NULL, &missing); /* MODE=a b, jemalloc */
  cr_assert_not_null(env);
  cr_assert_str_eq(env_get(env, "MODE"), "a b", "the axis replaces the inherited value");
  cr_assert_str_eq(env_get(env, "PERFSWEEP_METRICS"), "/tmp/m.jsonl");
  cr_assert(env_get(env, "LD_PRELOAD") && strstr(env_get(env, "LD_PRELOAD"), "/opt/libjemalloc"),
            "jemalloc preloaded");
  cr_assert_null(env_get(env, "PERFSWEEP_ALLOC"), "no probe in a timing run");
  ps_env_free(env);
  env = ps_plan_cell_env(&p, 2, NULL, NULL, &missing); /* MODE=c, glibc */
  const char *pre = env_get(env, "LD_PRELOAD");
  cr_assert(!pre || !strstr(pre, "jemalloc"), "no jemalloc for glibc");
  ps_env_free(env);
  unsetenv("MODE");
  ps_plan_release(&p);
}
