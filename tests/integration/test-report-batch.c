/* test-report-batch.c - the capacity plan on the perfsweep-batch micro workload, whose optimum
 * is known analytically (workloads/batch/batch-model.h): time(B) = ceil(ceil(N/B)/W)(F + B C)
 * falls as the batch grows, memory is W*B*m, so under a memory limit the best measured batch
 * is the one of least model time that fits. A real
 * sweep is run and the report's recommendation must be that batch.
 *
 * The costs are chosen so that neighbouring batch sizes differ by 2.5x or more in run time
 * (a fixed 20 ms per batch dominates), which a noisy shared machine does not invert. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../workloads/batch/batch-model.h"
#include "../../workloads/batch/batch-model.c"
#include "test-report-run.h"
#include "util.h"
#include "test-tmp.h"

#define PERFSWEEP PERFSWEEP_BIN_DIR "/perfsweep"
#define BATCH PERFSWEEP_BIN_DIR "/perfsweep-batch"
#define ITEMS 10000
#define ITEM_BYTES 4096
#define BUDGET (28.0 * 1048576) /* batch memory allowed above the process baseline */

static char dir[] = "/tmp/ps-test-report-batch-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(report_batch, .init = setup, .timeout = 300);

static double median_rss(json_t *root, const char *id)
{
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(root, "cells"), i, c)
    if (!strcmp(json_string_value(json_object_get(c, "id")), id))
      return json_number_value(
                 json_object_get(json_object_get(json_object_get(c, "stats"), "max_rss_kb"),
                                 "median")) * 1024;
  return NAN;
}

Test(report_batch, plan_recovers_the_analytic_best_batch_under_a_memory_limit)
{
  if (access(BATCH, X_OK) != 0)
    cr_skip_test("the batch workload is not built (%s)", BATCH);
  char *sweep = ps_xasprintf("%s/sweep", dir), *log = ps_xasprintf("%s/run.log", dir);
  char *argv[] = {PERFSWEEP, "run", "--param", "batch=1000,3000,10000", "--param",
                  "workers=1,2", "--runs", "3", "--warmup", "0", "--seed", "6", "--profile",
                  "none", "-q", "-o", sweep, "--", BATCH, "--items", "10000", "--batch-size",
                  "{batch}", "--workers", "{workers}", "--batch-cost-us", "20000",
                  "--item-cost-ns", "100", "--item-bytes", "4096", NULL};
  int rc = report_test_run(argv, log, NULL);
  char *text = NULL;
  size_t len;
  ps_read_file(log, &text, &len);
  cr_assert_eq(rc, 0, "perfsweep run failed (%d):\n%s", rc, text ? text : "");
  free(text);

  /* The process baseline: the smallest cell's peak RSS less its batch memory. */
  char *rpath = ps_xasprintf("%s/results.json", sweep);
  json_error_t e;
  json_t *root = json_load_file(rpath, 0, &e);
  cr_assert_not_null(root, "%s: %s", rpath, e.text);
  double base = median_rss(root, "batch=1000,workers=1") - 1000.0 * ITEM_BYTES;
  cr_assert(isfinite(base), "no peak RSS for batch=1000,workers=1");
  json_decref(root);
  double limit = base + BUDGET;

  char *lim = ps_xasprintf("%.0f", limit), *jpath = ps_xasprintf("%s/report.json", dir);
  char *out = ps_xasprintf("%s/report", dir);
  char *rargv[] = {PERFSWEEP, "report", sweep, "--out", out, "--no-charts", "--memory-limit",
                   lim, "--json", NULL};
  char *rlog = ps_xasprintf("%s/report.log", dir);
  cr_assert_eq(report_test_run(rargv, jpath, rlog), 0, "perfsweep report failed");
  json_t *o = json_load_file(jpath, 0, &e);
  cr_assert_not_null(o, "report --json: %s", e.text);
  json_t *rec = json_object_get(json_object_get(o, "capacity"), "recommendation");
  cr_assert(json_is_object(rec), "no recommendation");
  double b = json_number_value(json_object_get(rec, "batch"));
  double w = json_number_value(json_object_get(rec, "workers"));

  /* The analytic answer for the recommended worker count: the measured batch size of least
   * model time whose model batch memory fits the budget. */
  struct batch_params p = {.items = ITEMS, .batch_size = 1, .workers = (uint64_t)w,
                           .batch_cost_ns = 20000000, .item_cost_ns = 100,
                           .item_bytes = ITEM_BYTES};
  static const double grid[] = {1000, 3000, 10000};
  double expect = 0, best_t = INFINITY;
  for (size_t i = 0; i < 3; i++) {
    p.batch_size = (uint64_t)grid[i];
    double t = batch_model_seconds(&p);
    if ((double)batch_model_peak_bytes(&p) <= BUDGET && t < best_t)
      best_t = t, expect = grid[i];
  }
  cr_expect_eq(b, expect, "recommended batch %g with %g workers; the model's best under a %.0f MiB "
               "budget among the measured sizes is %g (%.0f ms)", b, w, BUDGET / 1048576, expect,
               best_t * 1e3);
  cr_expect_eq(expect, 3000, "the test's parameters should make 3000 the analytic optimum");
  cr_expect_leq(json_number_value(json_object_get(rec, "memory_bytes")), limit,
                "the recommendation exceeds the memory limit");
  json_decref(o);
  free(rlog);
  free(lim);
  free(jpath);
  free(out);
  free(rpath);
  free(log);
  free(sweep);
}
