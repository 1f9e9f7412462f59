/* test-history-store.c - the history stores: a file store and (when $PERFSWEEP_TEST_DSN names a
 * server) the PostgreSQL store give the same points; concurrent writers from several processes
 * lose nothing; a step in a recorded series is found at its commit; DSN passwords never show.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dsn.h"
#include "history.h"
#include "results.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-history-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(history, .init = setup, .timeout = 60);

static json_t *fixture(double factor)
{
  json_t *r;
  char msg[512];
  cr_assert_eq(ps_results_load(PERFSWEEP_FIXTURES "/compare/base.json", &r, msg, sizeof(msg)), 0,
               "%s", msg);
  json_t *cell, *run;
  size_t i, j;
  json_array_foreach(json_object_get(r, "cells"), i, cell)
    json_array_foreach(json_object_get(cell, "runs"), j, run)
      json_object_set_new(run, "wall", json_real(json_number_value(json_object_get(run, "wall")) *
                                                 factor));
  return r;
}

static void add(const char *store, const char *commit, double factor)
{
  json_t *r = fixture(factor);
  struct history_record rec;
  struct history_meta meta = {commit, "main", NULL};
  char *err = NULL;
  struct history_store *s;
  cr_assert_eq(history_record_from_results(r, &meta, &rec, &err), 0, "%s", err);
  cr_assert_eq(history_open(store, &s, &err), 0, "%s", err);
  cr_assert_eq(history_add(s, &rec, &err), 0, "%s", err);
  history_close(s);
  history_record_free(&rec);
  json_decref(r);
}

static size_t query(const char *store, const char *cell, struct history_point **p)
{
  struct history_store *s;
  char *err = NULL;
  size_t n;
  struct history_query q = {"wall", cell, NULL, NULL};
  cr_assert_eq(history_open(store, &s, &err), 0, "%s", err);
  cr_assert_eq(history_query(s, &q, p, &n, &err), 0, "%s", err);
  history_close(s);
  return n;
}

/* 12 recorded runs, wall 30% higher from the 8th on, and one noisy point at the 4th. */
static void check_step(const char *store)
{
  for (int i = 0; i < 12; i++) {
    char commit[16];
    snprintf(commit, sizeof(commit), "c%02d", i);
    add(store, commit, i == 3 ? 2.0 : i >= 7 ? 1.3 : 1.0);
  }
  struct history_point *p;
  size_t n = query(store, "batch=100,workers=1", &p);
  cr_assert_eq(n, 12, "one point per recorded run, got %zu", n);
  cr_assert(fabs(p[0].median - 0.1) < 0.002, "median of the fixture cell is ~0.1 s: %g",
            p[0].median);
  cr_assert_str_eq(p[0].branch, "main");
  struct history_series *s;
  size_t ns = history_group(p, n, &s);
  cr_assert_eq(ns, 1);
  struct step st[4];
  size_t k = history_steps(p, &s[0], NULL, st, 4);
  cr_assert_eq(k, 1, "one lasting step (the noisy 4th point is not one), found %zu", k);
  cr_assert_str_eq(p[s[0].idx[st[0].index]].commit, "c07", "the step began at c07");
  cr_assert(fabs(st[0].change - 0.3) < 0.02, "size %+.3f, expected +30%%", st[0].change);
  history_series_free(s, ns);
  history_points_free(p, n);
}

/* n processes adding m runs each at once; every line must be there and readable. */
static void check_concurrent(const char *store, int procs, int each)
{
  pid_t pids[16];
  for (int i = 0; i < procs; i++) {
    pids[i] = fork();
    cr_assert_geq(pids[i], 0);
    if (pids[i] == 0) {
      for (int k = 0; k < each; k++) {
        json_t *r = fixture(1.0);
        struct history_record rec;
        struct history_meta meta = {"concurrent", "main", NULL};
        char *err = NULL;
        struct history_store *s;
        if (history_record_from_results(r, &meta, &rec, &err) || history_open(store, &s, &err) ||
            history_add(s, &rec, &err)) {
          fprintf(stderr, "writer %d: %s\n", i, err ? err : "?");
          _exit(1);
        }
        history_close(s);
        history_record_free(&rec);
        json_decref(r);
      }
      _exit(0);
    }
  }
  for (int i = 0; i < procs; i++) {
    int st;
    waitpid(pids[i], &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed", i);
  }
  struct history_point *p;
  size_t n = query(store, NULL, &p);
  cr_assert_eq(n, (size_t)(procs * each * 3), "%d writers x %d runs x 3 cells: got %zu points",
               procs, each, n);
  history_points_free(p, n);
}

Test(history, file_store_step_at_commit)
{
  char *store = ps_xasprintf("%s/h.jsonl", dir);
  check_step(store);
  free(store);
}

Test(history, file_store_concurrent_writers)
{
  char *store = ps_xasprintf("%s/c.jsonl", dir);
  check_concurrent(store, 6, 5);
  free(store);
}

Test(history, file_store_damaged_line_is_an_error)
{
  char *store = ps_xasprintf("%s/bad.jsonl", dir);
  add(store, "c1", 1.0);
  FILE *f = fopen(store, "a");
  fputs("{\"schema\": \"perfsweep.history/1\", \"cells\": [\n", f);
  fclose(f);
  struct history_store *s;
  struct history_point *p;
  size_t n;
  char *err = NULL;
  struct history_query q = {"wall", NULL, NULL, NULL};
  cr_assert_eq(history_open(store, &s, &err), 0);
  cr_assert_eq(history_query(s, &q, &p, &n, &err), PS_EXIT_USAGE);
  cr_assert(strstr(err, "line 2"), "the message names the line: %s", err);
  free(err);
  history_close(s);
  free(store);
}

Test(history, commit_required)
{
  json_t *r = fixture(1.0);
  json_object_del(json_object_get(r, "machine"), "git_commit");
  struct history_record rec;
  char *err = NULL;
  cr_assert_eq(history_record_from_results(r, NULL, &rec, &err), PS_EXIT_USAGE);
  cr_assert(strstr(err, "--commit"), "%s", err);
  free(err);
  json_decref(r);
}

Test(history, redact_never_shows_password)
{
  static const char *dsns[] = {
    "postgresql://ci:s3cret@db.example:5432/bench",
    "postgres://ci:s3cret@db/bench?sslmode=require",
    "host=db dbname=bench user=ci password=s3cret",
    "host=db password='s3 cret' dbname=bench",
    "postgresql://ci@db/bench?password=s3cret&sslmode=disable",
  };
  for (size_t i = 0; i < sizeof(dsns) / sizeof(dsns[0]); i++) {
    char *r = ps_dsn_mask(dsns[i]);
    cr_assert_null(strstr(r, "s3"), "'%s' redacted to '%s' still shows the password", dsns[i], r);
    cr_assert(strstr(r, "db"), "the host stays visible: %s", r);
    free(r);
  }
  cr_assert(history_is_pg("postgresql://x/y") && history_is_pg("host=a dbname=b"));
  cr_assert(!history_is_pg("history.jsonl"));
}

/* The PostgreSQL store: $PERFSWEEP_TEST_DSN from scripts/pg-start.sh. Skipped with the reason
 * without a server, but never silently in CI. */
static const char *pg_dsn(void)
{
  const char *dsn = getenv("PERFSWEEP_TEST_DSN");
  if (!dsn || !*dsn) {
    cr_assert_null(getenv("CI"), "CI is set but PERFSWEEP_TEST_DSN is not: the PostgreSQL "
                                 "store must be tested in CI (eval \"$(scripts/pg-start.sh)\")");
    cr_skip_test("PERFSWEEP_TEST_DSN is unset: start a server with eval \"$(scripts/pg-start.sh)\"");
  }
  return dsn;
}

/* A fresh database per test would need CREATEDB; instead every test uses its own schema data
 * by recording with unique commits and reading the whole series of its own cell name. */
static void pg_reset(const char *dsn)
{
  struct history_store *s;
  char *err = NULL;
  cr_assert_eq(history_open(dsn, &s, &err), 0, "cannot open the test database: %s", err);
  history_close(s);
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "psql -q -X '%s' -c 'TRUNCATE perfsweep_history.runs, "
           "perfsweep_history.machines CASCADE' >/dev/null 2>&1", dsn);
  cr_assert_eq(system(cmd), 0, "cannot truncate the history tables with psql");
}

Test(history, pg_store_step_and_concurrent_writers)
{
  const char *dsn = pg_dsn();
  pg_reset(dsn);
  check_step(dsn);
  pg_reset(dsn);
  check_concurrent(dsn, 6, 3);
}

Test(history, pg_bad_dsn_masks_password)
{
  pg_dsn();
  struct history_store *s;
  char *err = NULL;
  int rc = history_open("postgresql://nobody:topsecret@127.0.0.1:1/none?connect_timeout=2", &s,
                        &err);
  cr_assert_eq(rc, PS_EXIT_ENVIRONMENT, "an unreachable server is an environment error");
  cr_assert_null(strstr(err, "topsecret"), "the password leaked: %s", err);
  free(err);
}
