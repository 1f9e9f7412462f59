/* test-ci-local.c - the CI gate of docs/ci.md run locally end to end (examples/ci/perf-gate.sh):
 * real `perfsweep run` sweeps of a base and a change checkout, compare, reports, history.
 * A workload made 5x slower is flagged (exit 1). (The same workload twice is checked on an
 * interleaved sweep in test-compare-real.c: two sequential sweeps of one workload were seen 86%
 * apart on this shared machine under load, which no statistics can tell from a regression.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR "/perfsweep"
#define GATE PERFSWEEP_SOURCE_DIR "/examples/ci/perf-gate.sh"

static char dir[] = "/tmp/ps-test-ci-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(ci, .init = setup, .timeout = 120);

/* A "checkout" whose workload sleeps `seconds`: its time is set by the clock, not by the speed
 * the shared host lends (a busy loop, the workload before, measured twice in one interleaved
 * sweep was once 58% apart in median, which the same-twice checks below must not see). */
static void checkout(const char *name, const char *seconds)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/%s/work.sh", dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "# work.sh SIZE - a sleep standing in for the project's workload\n"
             "sleep %s\n", seconds);
  fclose(f);
}

static char *slurp(const char *rel)
{
  static char buf[1 << 20];
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, rel);
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* Runs the gate on base/ and NEW; returns its exit code. The threshold is 50%: far above what two
 * sequential sweeps of one sleep differ by, far below a 5x slowdown (+400%). */
static int gate(const char *new_name, const char *out, const char *commit)
{
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "cd %s && BASE_DIR=base NEW_DIR=%s PERFSWEEP_BASE=%s PERFSWEEP_NEW=%s OUT=%s "
           "SWEEP_ARGS='--param size=s --runs 6 --warmup 1 --seed 1 --profile none -- sh work.sh "
           "{size}' COMPARE_ARGS='--threshold 50' HISTORY_STORE=%s/history.jsonl COMMIT=%s "
           "BRANCH=main bash %s >%s.stdout 2>%s.stderr",
           dir, new_name, BIN, BIN, out, dir, commit, GATE, out, out);
  int st = system(cmd);
  cr_assert(WIFEXITED(st), "the gate did not exit normally");
  return WEXITSTATUS(st);
}

Test(ci, gate_flags_5x_slower_end_to_end)
{
  checkout("base", "0.03");
  checkout("slow", "0.15"); /* 5x */
  checkout("same", "0.03"); /* recorded in the history only */

  int rc = gate("slow", "report-slow", "slow0001");
  char *txt = slurp("report-slow/report.txt");
  cr_assert_eq(rc, 1, "a 5x slower workload must fail the gate (exit %d); stderr: %s\nreport:\n%s",
               rc, slurp("report-slow.stderr"), txt ? txt : "(none)");
  cr_assert(strstr(slurp("report-slow/report.md"), "**regressed**"), "markdown for the PR");
  cr_assert(strstr(slurp("report-slow/junit.xml"), "<failure type=\"regression\""),
            "JUnit shows the regressed cell as a failure");
  cr_assert_not_null(slurp("report-slow/compare.json"));

  rc = gate("same", "report-same", "same0002");
  cr_assert(rc == 0 || rc == 1, "the gate ran (exit %d); stderr: %s", rc,
            slurp("report-same.stderr"));

  /* both new sweeps were recorded in the history with their commits */
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s history show --store %s/history.jsonl --metric wall --json "
           ">%s/show.json", BIN, dir, dir);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 0);
  char *show = slurp("show.json");
  cr_assert(strstr(show, "\"slow0001\"") && strstr(show, "\"same0002\""), "%s", show);
}

/* The gate's interleaved mode (AB_CMD): base and change in one shuffled sweep, so the same
 * workload twice is not flagged even while the machine's load changes. */
static int gate_ab(const char *new_name, const char *out, const char *commit)
{
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "cd %s && BASE_DIR=base NEW_DIR=%s PERFSWEEP_NEW=%s OUT=%s "
           "SWEEP_ARGS='--param size=s --runs 7 --warmup 1 --seed 2 --profile none' "
           "AB_CMD='sh ./{side}/work.sh {size}' COMPARE_ARGS='--threshold 25' "
           "HISTORY_STORE=%s/history-ab.jsonl COMMIT=%s BRANCH=main bash %s >%s.stdout 2>%s.stderr",
           dir, new_name, BIN, out, dir, commit, GATE, out, out);
  int st = system(cmd);
  cr_assert(WIFEXITED(st), "the gate did not exit normally");
  return WEXITSTATUS(st);
}

Test(ci, interleaved_gate_flags_3x_and_passes_the_same_twice)
{
  checkout("base", "0.04");
  checkout("slow", "0.12");
  checkout("same", "0.04");
  int rc = gate_ab("slow", "ab-slow", "slow0003");
  char *txt = slurp("ab-slow/report.txt");
  cr_assert_eq(rc, 1, "3x slower in an interleaved sweep must fail (exit %d); stderr: %s\n%s", rc,
               slurp("ab-slow.stderr"), txt ? txt : "(no report)");
  rc = gate_ab("same", "ab-same", "same0004");
  txt = slurp("ab-same/report.txt");
  cr_assert_eq(rc, 0, "the same workload twice must pass (exit %d); stderr: %s\n%s", rc,
               slurp("ab-same.stderr"), txt ? txt : "(no report)");
  /* only the new side was recorded, under its own cell name */
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s history show --store %s/history-ab.jsonl --cell size=s --json "
           ">%s/show-ab.json", BIN, dir, dir);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 0);
  char *show = slurp("show-ab.json");
  cr_assert(strstr(show, "\"same0004\"") && !strstr(show, "side="), "%s", show);
}

Test(ci, gate_refuses_missing_base)
{
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "cd %s && PERFSWEEP_NEW=%s bash %s >/dev/null 2>%s/err", dir, BIN,
           GATE, dir);
  int st = system(cmd);
  cr_assert_eq(WEXITSTATUS(st), 4, "no BASE_DIR nor BASE_RESULTS: misconfigured gate, exit 4");
  cr_assert(strstr(slurp("err"), "BASE_DIR"), "the message says what to set: %s", slurp("err"));
}
