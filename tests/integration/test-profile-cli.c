/* test-profile-cli.c - `perfsweep profile` / `perfsweep analyze` as a user meets them: --help with
 * an example, usage errors and their exit codes, a foreign file refused, a truncated trace (raw or
 * compressed) read with a warning, traces compressed by default (--no-compress, --keep-raw), and
 * both probes in one command.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-shell.h"
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR

static char tmpdir[256];

static void make_tmp(void)
{
  strcpy(tmpdir, "/tmp/ps-test-profile-cli-XXXXXX");
  ps_test_mkdtemp(tmpdir); /* removed at exit, also after a skip */
}

static void rm_tmp(void) { ps_test_rm_tree(tmpdir); }

/* Runs cmd through sh with stderr merged; returns output (malloc'd) and the exit code. */
static char *run(const char *cmd, int *rc)
{
  char full[8320]; /* the longest command of this file plus " 2>&1" */
  snprintf(full, sizeof full, "%s 2>&1", cmd);
  return ps_test_sh(full, rc);
}

TestSuite(profile_cli, .init = make_tmp, .fini = rm_tmp, .timeout = 120);

Test(profile_cli, help_shows_an_example)
{
  const char *cmds[] = {BIN "/perfsweep profile --help", BIN "/perfsweep analyze --help"};
  for (int i = 0; i < 2; i++) {
    int rc;
    char *out = run(cmds[i], &rc);
    cr_expect_eq(rc, 0, "%s exits 0", cmds[i]);
    cr_expect(strstr(out, "Example") != NULL, "%s shows an example: %s", cmds[i], out);
    free(out);
  }
}

Test(profile_cli, usage_errors_exit_3)
{
  int rc;
  char *out = run(BIN "/perfsweep profile --alloc", &rc);
  cr_expect_eq(rc, 3, "no command: usage error");
  cr_expect(strstr(out, "no command") != NULL, "says what is missing: %s", out);
  free(out);
  out = run(BIN "/perfsweep profile --alloc=fast -- true", &rc);
  cr_expect_eq(rc, 3, "unknown mode");
  cr_expect(strstr(out, "exact, sample or off") != NULL, "lists the modes: %s", out);
  free(out);
  out = run(BIN "/perfsweep profile --alloc -- /no/such/program", &rc);
  cr_expect_eq(rc, 3, "missing program");
  cr_expect(strstr(out, "cannot find") != NULL, "names the problem: %s", out);
  free(out);
}

Test(profile_cli, foreign_file_refused)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "echo 'not a trace at all, just some words for the header size......' > %s/x.pst && "
           "%s/perfsweep analyze %s/x.pst", tmpdir, BIN, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  cr_expect_eq(rc, 3, "a foreign file is bad input");
  cr_expect(strstr(out, "not a perfsweep trace") != NULL, "the message says so: %s", out);
  free(out);
}

Test(profile_cli, truncated_trace_read_with_warning)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc --no-compress -o %s/p -- %s/alloc-truth bench 20000 >/dev/null 2>&1; "
           "f=$(ls %s/p/alloc.*.pst); truncate -s -7 $f && %s/perfsweep analyze --json $f",
           BIN, tmpdir, BIN, tmpdir, BIN);
  int rc;
  char *out = run(cmd, &rc);
  cr_expect_eq(rc, 0, "a torn tail is not an error: %s", out);
  cr_expect(strstr(out, "incomplete chunk") != NULL, "but it is reported: %.400s", out);
  free(out);
}

/* Counts the files of tmpdir/p whose name ends with suffix and starts with "alloc.". */
static int count_traces(const char *suffix)
{
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s/p | grep -c '^alloc\\..*%s$'", tmpdir, suffix);
  int rc;
  char *out = run(cmd, &rc);
  int n = atoi(out);
  free(out);
  return n;
}

static void profile_bench(const char *flags)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf %s/p; %s/perfsweep profile --alloc %s -o %s/p -- "
           "%s/alloc-truth bench 20000", tmpdir, BIN, flags, tmpdir, BIN);
  int rc;
  char *out = run(cmd, &rc);
  cr_assert_eq(rc, 0, "%s: %.400s", cmd, out);
  free(out);
}

Test(profile_cli, traces_compressed_by_default)
{
  profile_bench("");
  cr_expect_eq(count_traces("\\.pst\\.zst"), 1, "one alloc.*.pst.zst by default");
  cr_expect_eq(count_traces("\\.pst"), 0, "and no raw alloc.*.pst");
  profile_bench("--compress"); /* the old flag is still accepted, and changes nothing */
  cr_expect_eq(count_traces("\\.pst\\.zst"), 1, "--compress: alloc.*.pst.zst");
  cr_expect_eq(count_traces("\\.pst"), 0, "--compress: no raw trace");
  profile_bench("--keep-raw");
  cr_expect_eq(count_traces("\\.pst\\.zst"), 1, "--keep-raw: the .zst");
  cr_expect_eq(count_traces("\\.pst"), 1, "--keep-raw: and the raw trace");
  profile_bench("--no-compress");
  cr_expect_eq(count_traces("\\.pst\\.zst"), 0, "--no-compress: no .zst");
  cr_expect_eq(count_traces("\\.pst"), 1, "--no-compress: the raw trace");
  int rc;
  char *out = run(BIN "/perfsweep profile --alloc --no-compress --keep-raw -- true", &rc);
  cr_expect_eq(rc, 3, "--no-compress with --keep-raw is a usage error");
  cr_expect(strstr(out, "--keep-raw") != NULL, "which names the flags: %s", out);
  free(out);
}

/* The compressed trace analyses to the same result as the raw one it came from (only the file
 * name in "trace" differs). */
Test(profile_cli, compressed_trace_analyses_like_the_raw_one)
{
  profile_bench("--keep-raw");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cd %s/p && %s/perfsweep analyze --json alloc.*.pst > raw.json 2>/dev/null && "
           "%s/perfsweep analyze --json alloc.*.pst.zst > zst.json 2>/dev/null && "
           "grep -v '\"trace\":' raw.json > a && grep -v '\"trace\":' zst.json > b && "
           "cmp a b && grep -c '\"calls\"' b", tmpdir, BIN, BIN);
  int rc;
  char *out = run(cmd, &rc);
  cr_expect_eq(rc, 0, "the same analysis from the raw and the compressed trace: %.400s", out);
  free(out);
}

Test(profile_cli, truncated_compressed_trace_read_with_warning)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc -o %s/p -- %s/alloc-truth bench 400000 >/dev/null 2>&1; "
           "f=$(ls %s/p/alloc.*.pst.zst); truncate -s $(($(stat -c %%s $f) * 2 / 3)) $f && "
           "%s/perfsweep analyze --json $f",
           BIN, tmpdir, BIN, tmpdir, BIN);
  int rc;
  char *out = run(cmd, &rc);
  cr_expect_eq(rc, 0, "a cut compressed trace is not an error: %.400s", out);
  cr_expect(strstr(out, "ends inside its zstd frame") != NULL, "but it is reported: %.400s", out);
  cr_expect(strstr(out, "\"calls\"") != NULL, "and what was before the cut is analysed: %.400s",
            out);
  free(out);
}

Test(profile_cli, both_probes_one_report)
{
  char lib[400];
  snprintf(lib, sizeof lib, "%s/libperfsweep-cpu.so", PERFSWEEP_LIB_DIR);
  if (access(lib, R_OK))
    cr_skip_test("the CPU probe is not built (%s)", lib);
  char cmd[800];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc --cpu --json -o %s/p -- %s/alloc-truth bench 200000 2>/dev/null",
           BIN, tmpdir, BIN);
  int rc;
  char *out = run(cmd, &rc);
  if (rc == 4)
    cr_skip_test("the CPU profiler cannot run here: %.300s", out);
  cr_assert_eq(rc, 0, "profile with both probes: %.400s", out);
  cr_expect(strstr(out, "\"alloc\"") && strstr(out, "\"cpu\""), "one profile.json with both keys");
  free(out);
}

/* The persistent symbol cache is written where PERFSWEEP_SYMCACHE says, and --no-symbol-cache
 * (profile and analyze) neither reads nor writes it; the summaries are the same either way. */
Test(profile_cli, no_symbol_cache_leaves_the_cache_alone)
{
  char cmd[8192];
  int rc;
  snprintf(cmd, sizeof cmd,
           "PERFSWEEP_SYMCACHE=%s/cache " BIN "/perfsweep profile --cpu --no-symbol-cache -o %s/p "
           "-- " BIN "/cpu-split-nofp 2 >/dev/null && ls %s/cache 2>/dev/null | wc -l",
           tmpdir, tmpdir, tmpdir);
  char *out = run(cmd, &rc);
  cr_assert_eq(rc, 0, "profile ran: %s", out);
  cr_expect_eq(atoi(out), 0, "--no-symbol-cache wrote no cache entry: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd,
           "PERFSWEEP_SYMCACHE=%s/cache " BIN "/perfsweep analyze --no-symbol-cache %s/p > %s/a1 "
           "&& PERFSWEEP_SYMCACHE=%s/cache " BIN "/perfsweep analyze %s/p > %s/a2 && "
           "PERFSWEEP_SYMCACHE=%s/cache " BIN "/perfsweep analyze %s/p > %s/a3 && "
           "cmp %s/a1 %s/a2 && cmp %s/a2 %s/a3 && ls %s/cache | wc -l",
           tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir,
           tmpdir, tmpdir, tmpdir);
  out = run(cmd, &rc);
  cr_assert_eq(rc, 0, "the three analyses print the same summary: %s", out);
  cr_expect_gt(atoi(out), 0, "an analysis with the cache on filled it: %s", out);
  free(out);
}
