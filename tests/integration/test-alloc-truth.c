/* test-alloc-truth.c - the allocation tracer end to end on the ground-truth programs of
 * workloads/alloc-truth: `perfsweep profile --alloc --json` must report their exact counts per
 * site, leaks and peak, across threads, realloc, aligned variants, fork, dlopen/dlclose, C++,
 * jemalloc, a crash and SIGKILL; and the same allocation count as heaptrack.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <jansson.h>
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
  strcpy(tmpdir, "/tmp/ps-test-alloc-XXXXXX");
  ps_test_mkdtemp(tmpdir); /* removed at exit, also after a skip */
}

static void rm_tmp(void) { ps_test_rm_tree(tmpdir); }

/* Runs a shell command, returns its stdout (malloc'd) and exit code. */
static char *run(const char *cmd, int *rc) { return ps_test_sh(cmd, rc); }

/* perfsweep profile --alloc --json on a truth program; returns the "alloc" object. */
static json_t *profile(const char *extra, const char *prog, const char *args, int want_rc)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc%s --top 200 --json -o %s/p -- %s/%s %s 2>%s/err",
           BIN, extra, tmpdir, BIN, prog, args, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  cr_assert_eq(rc, want_rc, "'%s' exited %d, expected %d", cmd, rc, want_rc);
  json_error_t e;
  json_t *root = json_loads(out, 0, &e);
  cr_assert_not_null(root, "profile --json output is not JSON (%s): %.300s", e.text, out);
  free(out);
  json_t *a = json_incref(json_object_get(root, "alloc"));
  json_decref(root);
  cr_assert_not_null(a, "no \"alloc\" object in the profile of %s %s", prog, args);
  return a;
}

static double num(json_t *o, const char *k)
{
  json_t *v = json_object_get(o, k);
  cr_assert(json_is_number(v), "key %s missing or not a number", k);
  return json_number_value(v);
}

/* Sums a metric over the sites whose function is fn. */
static double site_sum(json_t *a, const char *fn, const char *metric)
{
  double s = 0;
  size_t i;
  json_t *site;
  int found = 0;
  json_array_foreach(json_object_get(a, "top_sites_by_calls"), i, site) {
    if (!strcmp(json_string_value(json_object_get(site, "function")), fn)) {
      s += num(site, metric);
      found = 1;
    }
  }
  cr_assert(found, "no site named %s in the profile", fn);
  return s;
}

TestSuite(alloc, .init = make_tmp, .fini = rm_tmp, .timeout = 120);

Test(alloc, sites_exact_counts)
{
  json_t *a = profile(" ", "alloc-truth", "sites", 0);
  cr_expect_eq(site_sum(a, "site_temporary", "calls"), 1000, "site_temporary calls");
  cr_expect_eq(site_sum(a, "site_temporary", "temporary"), 1000, "site_temporary temporaries");
  cr_expect_eq(site_sum(a, "site_leak", "calls"), 10, "site_leak calls");
  cr_expect_eq(site_sum(a, "site_leak", "leaked_blocks"), 10, "site_leak leaked blocks");
  cr_expect_eq(site_sum(a, "site_leak", "leaked_bytes"), 1000, "site_leak leaked bytes");
  cr_expect_eq(site_sum(a, "site_kept", "calls"), 5, "site_kept calls");
  cr_expect_eq(site_sum(a, "site_kept", "leaked_blocks"), 0, "site_kept leaks");
  json_t *calls = json_object_get(a, "calls");
  cr_expect_eq(num(calls, "malloc"), 1005, "malloc calls");
  cr_expect_eq(num(calls, "calloc"), 10, "calloc calls");
  cr_expect_eq(num(calls, "free"), 1005, "free calls");
  cr_expect_eq(num(json_object_get(a, "leaks"), "bytes"), 1000, "leaked bytes");
  cr_expect_eq(num(json_object_get(a, "leaks"), "blocks"), 10, "leaked blocks");
  json_decref(a);
}

Test(alloc, peak_heap_exact)
{
  json_t *a = profile("", "alloc-truth", "peak", 0);
  cr_expect_eq(num(a, "peak_heap"), 12388, "peak heap of 3 x 4096 + 100");
  cr_expect_eq(site_sum(a, "peak_phase2", "peak"), 12388, "peak contribution of peak_phase2");
  cr_expect_eq(site_sum(a, "peak_phase1", "peak"), 0, "peak_phase1 was freed before the peak");
  json_decref(a);
}

Test(alloc, threads_pass_blocks)
{
  json_t *a = profile("", "alloc-truth", "threads", 0);
  cr_expect_eq(site_sum(a, "thread_alloc_block", "calls"), 8000, "8 threads x 1000 blocks");
  cr_expect_eq(site_sum(a, "thread_alloc_block", "leaked_blocks"), 0,
               "blocks freed by another thread must not look leaked");
  cr_expect_eq(num(a, "unmatched_frees"), 0, "every free matched its allocation");
  json_decref(a);
}

Test(alloc, realloc_chain)
{
  json_t *a = profile("", "alloc-truth", "realloc", 0);
  json_t *calls = json_object_get(a, "calls");
  /* an optimizing compiler turns realloc(NULL, 16) into malloc(16); glibc's reallocarray calls
   * realloc, which must not count as a second call */
  double as_malloc = json_number_value(json_object_get(calls, "malloc")); /* 0 when absent */
  cr_expect_eq(num(calls, "realloc") + as_malloc, 10, "realloc(NULL,16), 8 growths, realloc(p,0)");
  cr_expect_eq(num(calls, "reallocarray"), 1, "reallocarray calls, its inner realloc not again");
  cr_expect_eq(num(calls, "total"), 11, "11 allocation calls");
  cr_expect_eq(num(json_object_get(a, "leaks"), "blocks"), 0, "realloc(p,0) freed the chain");
  cr_expect_eq(num(a, "peak_heap"), 4096, "the chain's largest block");
  json_decref(a);
}

Test(alloc, aligned_variants)
{
  json_t *a = profile("", "alloc-truth", "aligned", 0);
  json_t *calls = json_object_get(a, "calls");
  const char *fns[] = {"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc"};
  for (int i = 0; i < 5; i++)
    cr_expect_eq(num(calls, fns[i]), 1, "%s calls", fns[i]);
  cr_expect_eq(num(calls, "free"), 5, "free calls");
  cr_expect_eq(site_sum(a, "aligned_all", "calls"), 5, "aligned_all site");
  json_decref(a);
}

Test(alloc, fork_child_traced)
{
  json_t *a = profile("", "alloc-truth", "fork", 0);
  cr_expect_eq(json_array_size(json_object_get(a, "processes")), 2, "parent and child traces");
  cr_expect_eq(site_sum(a, "parent_allocs", "leaked_blocks"), 10, "parent's leaks");
  cr_expect_eq(site_sum(a, "child_allocs", "calls"), 20, "child's calls");
  cr_expect_eq(site_sum(a, "child_allocs", "leaked_bytes"), 640, "child's leaked bytes");
  json_decref(a);
}

Test(alloc, dlopen_named_after_dlclose)
{
  json_t *a = profile("", "alloc-truth", "dlopen", 0);
  cr_expect_eq(site_sum(a, "plugin_alloc", "calls"), 7, "plugin_alloc calls");
  cr_expect_eq(site_sum(a, "plugin_alloc", "leaked_blocks"), 7, "plugin_alloc leaks");
  json_decref(a);
}

Test(alloc, cxx_new_attributed_to_caller)
{
  json_t *a = profile("", "alloc-truth-cxx", "", 0);
  cr_expect_eq(site_sum(a, "make_widgets", "calls"), 25, "new Widget x 25");
  cr_expect_eq(site_sum(a, "make_widgets", "leaked_blocks"), 0, "all deleted");
  cr_expect_eq(site_sum(a, "leak_arrays", "leaked_blocks"), 3, "new int[10] x 3 leaked");
  json_decref(a);
}

Test(alloc, jemalloc_same_counts)
{
  const char *je = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  if (access(je, R_OK))
    cr_skip_test("jemalloc is not installed (%s): apt-get install libjemalloc2", je);
  char extra[300];
  snprintf(extra, sizeof extra, " --preload %s", je);
  json_t *a = profile(extra, "alloc-truth", "sites", 0);
  cr_expect_eq(site_sum(a, "site_temporary", "calls"), 1000, "site_temporary calls under jemalloc");
  cr_expect_eq(site_sum(a, "site_leak", "leaked_blocks"), 10, "leaks under jemalloc");
  cr_expect_eq(site_sum(a, "site_kept", "calls"), 5, "site_kept under jemalloc");
  json_decref(a);
}

Test(alloc, crash_readable)
{
  json_t *a = profile("", "alloc-truth", "crash", 5);
  cr_expect_eq(site_sum(a, "crash_allocs", "calls"), 100, "everything before abort() is there");
  json_t *p = json_array_get(json_object_get(a, "processes"), 0);
  cr_expect(json_is_true(json_object_get(p, "crashed")), "the trace is marked crashed");
  json_decref(a);
}

Test(alloc, sigkill_loses_at_most_a_buffer)
{
  json_t *a = profile("", "alloc-truth", "sigkill", 5);
  double calls = site_sum(a, "site_temporary", "calls");
  cr_expect(calls <= 50000 && calls >= 50000 - 8192,
            "after SIGKILL %.0f of 50000 calls are readable; at most one 64 KiB buffer may be lost",
            calls);
  json_decref(a);
}

Test(alloc, sample_mode_estimate_within_ci)
{
  json_t *a = profile("=sample --sample-interval 4096", "alloc-truth", "bench 100000", 0);
  double est = site_sum(a, "bench_alloc", "bytes");
  /* 2 threads x 100000 x mean size 16 + 127.5 */
  double truth = 2 * 100000 * (16 + 127.5);
  cr_expect(fabs(est - truth) / truth < 0.10, "sampled bytes estimate %.0f vs true ~%.0f", est, truth);
  json_t *ci = json_object_get(a, "bytes_ci95");
  cr_expect(json_array_size(ci) == 2, "bytes_ci95 present in sample mode");
  cr_expect_str_eq(json_string_value(json_object_get(a, "mode")), "sample");
  cr_expect_eq(site_sum(a, "bench_alloc", "leaked_blocks"), 0,
               "every sampled block's free was recorded (the program frees them all)");
  json_decref(a);
}

/* Preloaded with tracing off (PERFSWEEP_ALLOC=off, or unset): the program runs as without the
 * probe (8 threads freeing each other's blocks, a realloc chain, the aligned variants) and no
 * trace is written. */
Test(alloc, off_mode_passes_through)
{
  static const char *modes[] = {"PERFSWEEP_ALLOC=off", "PERFSWEEP_ALLOC="};
  for (size_t m = 0; m < 2; m++) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/off && cd %s/off && for w in threads realloc aligned bench; do "
             "%s PERFSWEEP_TRACE_DIR=%s/off LD_PRELOAD=%s/../lib/libperfsweep-alloc.so "
             "%s/alloc-truth $w $( [ $w = bench ] && echo 20000 ) >/dev/null || exit 9; done; "
             "ls %s/off | wc -l",
             tmpdir, tmpdir, modes[m], tmpdir, BIN, BIN, tmpdir);
    int rc;
    char *out = run(cmd, &rc);
    cr_assert_eq(rc, 0, "%s: a program failed under the probe with tracing off", modes[m]);
    cr_expect_eq(atoi(out), 0, "%s: no trace written, found %s", modes[m], out);
    free(out);
  }
}

Test(alloc, same_count_as_heaptrack)
{
  if (system("command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1"))
    cr_skip_test("heaptrack / heaptrack_print are not installed (apt-get install heaptrack)");
  json_t *a = profile("", "alloc-truth", "sites", 0);
  double ours = num(json_object_get(a, "calls"), "total");
  /* heaptrack's per-site counts (MOST CALLS section): "<function> <calls> in <module>".
   * heaptrack's own preload library is C++ and brings libstdc++, whose emergency pool allocates
   * once at load: that call is heaptrack's, not the program's, and is left out of its total. */
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "cd %s && heaptrack -o %s/ht %s/alloc-truth sites >/dev/null 2>&1 && "
           "heaptrack_print -f %s/ht.zst 2>/dev/null | awk '/^MOST CALLS/{s=1} /^PEAK MEMORY/{s=0} "
           "s && /calls to allocation functions with .* from$/ {n=$1; getline f; getline m; "
           "if (m !~ /^  in /) getline m; if (m !~ /libstdc/) print f, n}'",
           tmpdir, tmpdir, BIN, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  cr_assert(rc == 0 && out[0], "heaptrack run failed: '%s'", cmd);
  double theirs = 0;
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char fn[256];
    double n;
    if (sscanf(line, "%255s %lf", fn, &n) != 2)
      continue;
    theirs += n;
    cr_expect_eq(site_sum(a, fn, "calls"), n, "site %s: heaptrack counts %.0f calls", fn, n);
  }
  cr_expect_eq(ours, theirs, "perfsweep counted %.0f allocation calls, heaptrack %.0f (without "
               "its own libstdc++ load)", ours, theirs);
  free(out);
  json_decref(a);
}

Test(alloc, target_failure_still_profiled)
{
  char cmd[600];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc -o %s/p -- /bin/false >/dev/null 2>&1", BIN, tmpdir);
  int rc;
  free(run(cmd, &rc));
  cr_expect_eq(rc, 5, "a failing target gives exit 5");
  snprintf(cmd, sizeof cmd, "%s/p/profile.json", tmpdir);
  cr_expect_eq(access(cmd, R_OK), 0, "profile.json is written even when the target failed");
}

Test(alloc, static_target_refused)
{
  char path[300];
  snprintf(path, sizeof path, "%s/alloc-truth-static", BIN);
  if (access(path, X_OK))
    cr_skip_test("no static ground-truth binary (libc6-dev's libc.a missing at build time)");
  char cmd[800];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc -o %s/p -- %s sites 2>&1", BIN, tmpdir, path);
  int rc;
  char *out = run(cmd, &rc);
  cr_expect_eq(rc, 4, "a static target is an environment error (exit 4)");
  cr_expect(strstr(out, "statically linked") != NULL, "the message says why: %s", out);
  free(out);
}

Test(alloc, diff_shows_grown_sites)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s/perfsweep profile --alloc -o %s/base -- %s/alloc-truth peak >/dev/null 2>&1 && "
           "%s/perfsweep profile --alloc --json --diff %s/base -o %s/new -- %s/alloc-truth sites 2>/dev/null",
           BIN, tmpdir, BIN, BIN, tmpdir, tmpdir, BIN);
  int rc;
  char *out = run(cmd, &rc);
  cr_assert_eq(rc, 0, "diff run failed");
  json_t *root = json_loads(out, 0, NULL);
  free(out);
  json_t *d = json_object_get(json_object_get(root, "alloc"), "diff");
  cr_assert_not_null(d, "--diff adds a diff object");
  json_t *first = json_array_get(json_object_get(d, "sites"), 0);
  cr_expect_str_eq(json_string_value(json_object_get(first, "function")), "site_temporary",
                   "the site that grew most comes first");
  json_decref(root);
}

Test(alloc, mmap_tracked_on_request)
{
  json_t *a = profile(" --mmap", "alloc-truth", "mmap", 0);
  cr_expect_eq(num(json_object_get(a, "calls"), "mmap"), 3, "3 anonymous mappings");
  cr_expect_eq(site_sum(a, "map_regions", "leaked_bytes"), 1 << 20, "one mapping left");
  json_decref(a);
}

Test(alloc, full_disk_stops_tracing_target_runs_on)
{
  /* a 64 KiB file size limit stands for a full disk; SIGXFSZ ignored so writes fail with EFBIG */
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "mkdir -p %s/t && sh -c 'ulimit -f 64; trap \"\" XFSZ; "
           "PERFSWEEP_TRACE_DIR=%s/t PERFSWEEP_ALLOC=exact LD_PRELOAD=%s/libperfsweep-alloc.so "
           "exec %s/alloc-truth bench 100000' && %s/perfsweep analyze --json %s/t/alloc.*.pst 2>/dev/null",
           tmpdir, tmpdir, PERFSWEEP_LIB_DIR, BIN, BIN, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  cr_assert_eq(rc, 0, "the target ran to its end and the partial trace is readable: %s", cmd);
  json_t *root = json_loads(out, 0, NULL);
  free(out);
  cr_assert_not_null(root, "analyze --json output");
  json_t *p = json_array_get(json_object_get(json_object_get(root, "alloc"), "processes"), 0);
  cr_expect(json_is_true(json_object_get(p, "disk_full")), "the trace says the disk filled up");
  json_decref(root);
}
