/* test-history-cli.c - `perfsweep history` end to end: add and show on a file store and (with
 * $PERFSWEEP_TEST_DSN) on PostgreSQL, several concurrent `history add` processes, the chart,
 * JSON, the step at its commit, and clear errors for bad input.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR "/perfsweep"
#define FX PERFSWEEP_FIXTURES "/compare/"

static char dir[] = "/tmp/ps-test-history-cli-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(history_cli, .init = setup, .timeout = 120);

static int sh(const char *fmt, const char *a, const char *b)
{
  char inner[4096], cmd[8192];
  snprintf(inner, sizeof(inner), fmt, a, b);
  snprintf(cmd, sizeof(cmd), "cd %s && (%s) >out 2>err", dir, inner);
  int st = system(cmd);
  cr_assert(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static char *slurp(const char *name)
{
  static char buf[1 << 20];
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* 4 base runs, then 4 runs 20% slower, recorded with the commits c1..c8; then 6 concurrent
 * writers. Then show: one step at c5 in batch=100,workers=1, 14 runs in total. */
static void exercise(const char *store)
{
  const char *add = BIN " history add %s --store '%s' --branch main";
  for (int i = 1; i <= 8; i++) {
    char fmt[1024];
    snprintf(fmt, sizeof(fmt), "%s --commit c%d", add, i);
    cr_assert_eq(sh(fmt, i <= 4 ? FX "base.json" : FX "slower.json", store), 0, "add %d: %s", i,
                 slurp("err"));
  }
  cr_assert(strstr(slurp("out"), "recorded 3 cells of commit c8"), "%s", slurp("out"));
  cr_assert_eq(sh("for i in 1 2 3 4 5 6; do " BIN " history add %s --store '%s' --commit "
                  "late --branch side & done; wait", FX "base.json", store), 0, "%s", slurp("err"));
  cr_assert_eq(sh(BIN " history show --store '%s' --cell batch=100,workers=1 --branch main "
                  "--chart %s", store, "wall.svg"), 0, "%s", slurp("err"));
  char *out = slurp("out");
  cr_assert(strstr(out, "step at commit c5 (run 5)"), "the step began at c5:\n%s", out);
  cr_assert(strstr(out, "chart: wall.svg"), "%s", out);
  cr_assert(strstr(slurp("wall.svg"), "<svg"), "an SVG chart");
  cr_assert_eq(sh(BIN " history show --store '%s' --cell %s --json", store, "batch=100,workers=1"),
               0);
  json_t *j = json_loads(slurp("out"), 0, NULL);
  cr_assert_not_null(j, "--json is JSON");
  json_t *pts = json_object_get(json_array_get(json_object_get(j, "cells"), 0), "points");
  cr_assert_eq(json_array_size(pts), 14, "8 sequential + 6 concurrent adds, got %zu",
               json_array_size(pts));
  json_decref(j);

  /* a base fetched from the history: export c1 and c5, compare them like results files */
  cr_assert_eq(sh(BIN " history export --store '%s' --commit c1 -o %s", store, "c1.json"), 0,
               "%s", slurp("err"));
  cr_assert_eq(sh(BIN " history export --store '%s' --commit c5 -o %s", store, "c5.json"), 0);
  cr_assert_eq(sh(BIN " compare c1.json c5.json%s%s", "", ""), 1,
               "c5 is 20%% slower than c1 in the exported results:\n%s%s", slurp("out"),
               slurp("err"));
  cr_assert(strstr(slurp("out"), "alloc.calls"), "alloc counts come back too: %s", slurp("out"));
  cr_assert_eq(sh(BIN " history export --store '%s' --commit %s", store, "nosuch"), 3);
  cr_assert(strstr(slurp("err"), "no run of commit 'nosuch'"), "%s", slurp("err"));
}

Test(history_cli, file_store_end_to_end)
{
  exercise("history.jsonl");
}

Test(history_cli, pg_store_end_to_end)
{
  const char *dsn = getenv("PERFSWEEP_TEST_DSN");
  if (!dsn || !*dsn) {
    cr_assert_null(getenv("CI"), "CI is set but PERFSWEEP_TEST_DSN is not: the PostgreSQL "
                                 "store must be tested in CI");
    cr_skip_test("PERFSWEEP_TEST_DSN is unset: eval \"$(scripts/pg-start.sh)\" to test the "
                 "PostgreSQL store");
  }
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "psql -q -X '%s' -c 'DROP SCHEMA IF EXISTS perfsweep_history "
           "CASCADE' >/dev/null 2>&1", dsn);
  cr_assert_eq(system(cmd), 0, "cannot reset the history schema with psql");
  exercise(dsn);
}

Test(history_cli, bad_input)
{
  cr_assert_eq(sh(BIN " history add %s --store %s", FX "truncated.json", "h.jsonl"), 3);
  cr_assert(strstr(slurp("err"), "truncated"), "%s", slurp("err"));
  cr_assert_eq(sh(BIN " history add %s%s", FX "base.json", ""), 3, "no --store");
  cr_assert_eq(sh(BIN " history show --store %s%s", "missing.jsonl", ""), 3);
  cr_assert(strstr(slurp("err"), "history add"), "says how to start: %s", slurp("err"));
  cr_assert_eq(sh(BIN " history add %s --store %s --commit x", FX "base.json", "h.jsonl"), 0);
  cr_assert_eq(sh(BIN " history show --store %s --chart %s", "h.jsonl", "x.pdf"), 3);
  cr_assert_eq(sh(BIN " history frob%s%s", "", ""), 3);
  cr_assert_eq(sh(BIN " history show --store '%s'%s",
                  "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2", ""), 4,
               "an unreachable database is an environment error");
  cr_assert_null(strstr(slurp("err"), "hunter2"), "password printed: %s", slurp("err"));
  cr_assert_eq(sh(BIN " history --help%s%s", "", ""), 0);
  cr_assert(strstr(slurp("out"), "Examples:"));
}
