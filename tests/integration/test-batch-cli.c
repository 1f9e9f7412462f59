/* test-batch-cli.c - the real perfsweep-batch binary against its analytic model: CPU seconds
 * and peak batch memory match the model (CPU time, not wall time, so a busy machine does not
 * matter), the best batch size under a memory limit, metrics lines, bad flags.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exit-codes.h"
#include "test-tmp.h"

#define BATCH PERFSWEEP_BIN_DIR "/perfsweep-batch"

static char out[8192];

static int run(const char *cmd)
{
  FILE *fp = popen(cmd, "r");
  cr_assert_not_null(fp);
  size_t n = fread(out, 1, sizeof out - 1, fp);
  out[n] = '\0';
  int st = pclose(fp);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double num(const char *key)
{
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(out, pat);
  cr_assert_not_null(p, "no %s in %s", key, out);
  return strtod(p + strlen(pat), NULL);
}

Test(batch_cli, cpu_and_memory_follow_the_model, .timeout = 60)
{
  cr_assert_eq(run(BATCH " --items 20000 --batch-size 250 --workers 2 --batch-cost-us 500 "
                   "--item-cost-ns 2000 --item-bytes 2048 --json"), 0);
  double cpu = num("cpu_seconds"), model = num("model_cpu_seconds");
  cr_assert_float_eq(model, 80 * 500e-6 + 20000 * 2000e-9, 1e-9, "model %f", model);
  cr_assert(cpu >= model * 0.95 && cpu <= model * 1.5 + 0.05,
            "CPU %f s is far from the model's %f s", cpu, model);
  /* both workers usually hold a batch at once; never more than the model's W batches */
  cr_assert(num("peak_batch_bytes") <= num("model_peak_batch_bytes") &&
            num("peak_batch_bytes") >= num("model_peak_batch_bytes") / 2, "%s", out);
  cr_assert_eq(num("model_peak_batch_bytes"), 2.0 * 250 * 2048);
  cr_assert_eq(num("batches"), 80);
}

Test(batch_cli, best_batch_under_memory_limit)
{
  /* W*B*m <= 1 MiB with W=2, m=1024 allows B <= 512; with N=10000 the least time is reached
   * at B=500 (10 rounds of 500 items) - the smallest B with the least predicted time */
  cr_assert_eq(run(BATCH " --items 10000 --batch-size 10 --workers 2 --batch-cost-us 100 "
                   "--item-cost-ns 0 --item-bytes 1024 --memory-limit 1048576 --json"), 0);
  cr_assert_eq(num("model_best_batch_size"), 500, "%s", out);
  cr_assert_eq(run(BATCH " --items 10000 --batch-size 10 --workers 2 --batch-cost-us 100 "
                   "--item-cost-ns 10 --item-bytes 1024 --memory-limit 1048576 --json"), 0);
  cr_assert_eq(num("model_best_batch_size"), 500, "%s", out);
}

Test(batch_cli, metrics_total_line)
{
  char path[] = "/tmp/ps-test-batch-XXXXXX";
  close(ps_test_mkstemp(path));
  char cmd[512];
  snprintf(cmd, sizeof cmd, "PERFSWEEP_METRICS=%s " BATCH " --items 1000 --batch-cost-us 1 "
           "--item-cost-ns 1 >/dev/null; cat %s", path, path);
  cr_assert_eq(run(cmd), 0);
  unlink(path);
  cr_assert(strstr(out, "\"stage\":\"total\"") != NULL, "%s", out);
  cr_assert(strstr(out, "\"stage\":\"total\",\"seconds\":") != NULL, "%s", out);
  const char *t = strstr(out, "\"stage\":\"total\"");
  cr_assert(strstr(t, "\"records_in\":1000,") != NULL, "total records_in = items: %s", out);
}

Test(batch_cli, bad_flags_exit_3)
{
  static const char *bad[] = {" --batch-size 0", " --items -5", " --workers", " --nope",
                              " --item-bytes 1x", " extra"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, BATCH "%s 2>&1", bad[i]);
    cr_assert_eq(run(cmd), PS_EXIT_USAGE, "'%s' must exit 3: %s", bad[i], out);
    cr_assert(strstr(out, "error:") != NULL, "%s", out);
  }
  cr_assert_eq(run(BATCH " --help"), 0);
  cr_assert(strstr(out, "example:") != NULL);
}
