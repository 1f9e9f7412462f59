/* test-compare-real.c - compare on real `perfsweep run` measurements: one interleaved sweep of a
 * workload where a parameter picks the variant (a, its exact copy a2, and b, 3x as long).
 * `compare --ab side=a,b` flags the slowdown; `--ab side=a,a2` (the same workload twice) does not.
 * The variants sleep rather than compute: their times are set by the clock, not by the speed the
 * shared host lends (a busy loop run twice measured 19.7 and 31.1 ms, 58% apart, on a host that
 * took a core away between rounds), so no verdict here depends on that speed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR "/perfsweep"

static char dir[] = "/tmp/ps-test-compare-real-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(compare_real, .init = setup, .timeout = 120);

static void variant(const char *name, const char *seconds)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s.sh", dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "sleep %s\n", seconds);
  fclose(f);
}

static int sh(const char *cmd)
{
  char full[2048];
  snprintf(full, sizeof(full), "cd %s && NO_COLOR=1 %s >out 2>err", dir, cmd);
  int st = system(full);
  cr_assert(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static char *slurp(const char *name)
{
  static char buf[1 << 18];
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

Test(compare_real, slower_variant_flagged_same_twice_not)
{
  variant("a", "0.04");
  variant("a2", "0.04");
  variant("b", "0.12");
  int rc = sh(BIN " run -q -o sweep --param side=a,a2,b --param size=s --runs 7 --warmup 1 "
              "--seed 5 --profile none -- sh {side}.sh {size}");
  cr_assert(rc == 0, "the sweep failed (%d): %s", rc, slurp("err"));

  /* 25%: far below the 3x slowdown (+80 ms), far above what runs of one sleep differ by */
  rc = sh(BIN " compare --threshold 25 --ab side=a,b sweep");
  cr_assert_eq(rc, 1, "3x the work must be flagged (exit %d):\n%s%s", rc, slurp("out"),
               slurp("err"));
  cr_assert(strstr(slurp("out"), "regressed"), "%s", slurp("out"));

  rc = sh(BIN " compare --threshold 25 --ab side=a,a2 sweep");
  cr_assert_eq(rc, 0, "the same workload twice must not be flagged (exit %d):\n%s%s", rc,
               slurp("out"), slurp("err"));

  /* the split parameter as the only axis: the one cell of each side still matches */
  rc = sh(BIN " run -q -o single --param side=a,b --runs 5 --warmup 0 --seed 6 --profile none "
          "-- sh {side}.sh");
  cr_assert(rc == 0, "the sweep failed (%d): %s", rc, slurp("err"));
  rc = sh(BIN " compare --threshold 25 --ab side=a,b single");
  cr_assert_eq(rc, 1, "3x the work, only axis split (exit %d):\n%s%s", rc, slurp("out"),
               slurp("err"));

  cr_assert_eq(sh(BIN " compare --ab side=a,zz sweep"), 3, "an absent side is bad input");
  cr_assert(strstr(slurp("err"), "side=zz"), "%s", slurp("err"));
  cr_assert_eq(sh(BIN " compare --ab side sweep"), 3, "malformed --ab");
}
