/* test-alloc-analysis.c - alloc_analyze on synthetic traces with known answers: a block freed by
 * another thread whose free's chunk comes first in the file, peak and its contributions, leaks,
 * temporaries, sample-mode weighting, and errors for a CPU trace or no trace.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "alloc-analysis.h"
#include "test-tmp.h"
#include "test-trace-build.h"

static char path[256];

static void cleanup(void) { unlink(path); }

TestSuite(alloc_analysis, .fini = cleanup);

static json_t *analyze_file(int want)
{
  char *t[1] = {path};
  json_t *s = NULL;
  struct alloc_analysis_opts o = {.top_n = 10};
  int err = alloc_analyze(t, 1, &o, &s);
  cr_assert_eq(err, want, "alloc_analyze returned %d, expected %d", err, want);
  return s;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

Test(alloc_analysis, cross_thread_free_and_peak)
{
  strcpy(path, "/tmp/ps-test-alloc-analysis-XXXXXX");
  FILE *f = fdopen(ps_test_mkstemp(path), "wb");
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  struct tchunk a, b;
  tc_start(&b, 2); /* thread 2 frees thread 1's block; its chunk is first in the file */
  tc_free(&b, 2, 0x1000);
  tc_alloc(&b, 3, 50, 0x3000, 2); /* leaked */
  tc_write(f, &b, 2, 0);
  tc_start(&a, 0);
  tc_stack(&a, 0, 1, 0x401000);
  tc_alloc(&a, 0, 100, 0x1000, 1);
  tc_alloc(&a, 1, 200, 0x2000, 1);   /* peak 300 here */
  tc_free(&a, 4, 0x2000);
  tc_alloc(&a, 5, 8, 0x4000, 1);     /* temporary: freed right after */
  tc_free(&a, 6, 0x4000);
  tc_stack(&a, 7, 2, 0x402000);
  tc_write(f, &a, 1, 0);
  fclose(f);
  json_t *s = analyze_file(0);
  json_t *calls = json_object_get(s, "calls");
  cr_expect_eq(num(calls, "malloc"), 4, "4 mallocs");
  cr_expect_eq(num(calls, "free"), 3, "3 frees");
  cr_expect_eq(num(s, "unmatched_frees"), 0, "the early-in-file free matched its allocation");
  cr_expect_eq(num(s, "peak_heap"), 300, "peak is 100 + 200");
  cr_expect_eq(num(s, "temporary"), 1, "one temporary allocation");
  json_t *leaks = json_object_get(s, "leaks");
  cr_expect_eq(num(leaks, "blocks"), 1, "one leaked block");
  cr_expect_eq(num(leaks, "bytes"), 50, "50 leaked bytes");
  json_t *top = json_array_get(json_object_get(s, "top_sites_by_peak"), 0);
  cr_expect_eq(num(top, "peak"), 300, "the stack-1 site holds the whole peak");
  json_decref(s);
}

Test(alloc_analysis, sample_mode_weights)
{
  strcpy(path, "/tmp/ps-test-alloc-analysis-XXXXXX");
  FILE *f = fdopen(ps_test_mkstemp(path), "wb");
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 2, 1000);
  struct tchunk a;
  tc_start(&a, 0);
  tc_rec(&a, PS_REC_ALLOCS, PS_FN_MALLOC, 0);
  tc_u(&a, 1000);
  tc_ptr(&a, 0x1000);
  tc_u(&a, 1);
  tc_write(f, &a, 1, 0);
  fclose(f);
  json_t *s = analyze_file(0);
  double p = 1 - exp(-1.0);
  cr_expect(fabs(num(s, "bytes") - round(1000 / p)) < 1, "one sample of 1000 B at R=1000 stands for "
            "1000/p bytes, got %f", num(s, "bytes"));
  cr_expect_str_eq(json_string_value(json_object_get(s, "mode")), "sample");
  cr_expect(json_array_size(json_object_get(s, "bytes_ci95")) == 2, "estimates carry a 95%% interval");
  json_decref(s);
}

Test(alloc_analysis, cpu_trace_refused)
{
  strcpy(path, "/tmp/ps-test-alloc-analysis-XXXXXX");
  FILE *f = fdopen(ps_test_mkstemp(path), "wb");
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_CPU, 1, 999);
  fclose(f);
  json_t *s = analyze_file(-EINVAL);
  cr_expect_null(s);
}

Test(alloc_analysis, no_trace_is_an_error)
{
  json_t *s = NULL;
  cr_expect_eq(alloc_analyze(NULL, 0, NULL, &s), -ENOENT);
  cr_expect_null(s);
}
