/* test-export-prometheus.c - harness/results-export.c: the Prometheus export passes the text
 * format checker, the checker catches what the spec forbids, CSV and markdown escape. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "results-export.h"
#include "results.h"

#define FIX PERFSWEEP_FIXTURES "/run/"

static json_t *fixture(void)
{
  json_t *r;
  char err[512] = "";
  cr_assert_eq(ps_results_load(FIX "minimal-results.json", &r, err, sizeof(err)), 0, "%s", err);
  /* a nasty cell id and a parameter named like a reserved label */
  json_t *cell = json_array_get(json_object_get(r, "cells"), 0);
  json_object_set_new(cell, "id", json_string("n=1,\"quoted\"\\back\nline|pipe"));
  json_object_set_new(json_object_get(cell, "params"), "le", json_string("x"));
  return r;
}

Test(export, prometheus_output_is_valid_text_format)
{
  json_t *r = fixture();
  char *text = ps_export(r, PS_EXPORT_PROMETHEUS);
  char err[512] = "";
  cr_assert_eq(ps_prometheus_check(text, err, sizeof(err)), 0, "%s\n---\n%s", err, text);
  cr_assert(strstr(text, "# TYPE perfsweep_run_duration_seconds histogram"), "%s", text);
  cr_assert(strstr(text, "# TYPE perfsweep_runs_total counter"));
  cr_assert(strstr(text, "perfsweep_runs_total{cell=\"n=2\",n=\"2\",status=\"failed\"} 1"),
            "failed run counted: %s", text);
  cr_assert(strstr(text, "param_le=\"x\""), "a parameter named le is renamed");
  cr_assert(strstr(text, "\\\"quoted\\\"\\\\back\\nline"), "label values escaped");
  free(text);
  json_decref(r);
}

static void expect_bad(const char *text, const char *needle)
{
  char err[512] = "";
  cr_assert_eq(ps_prometheus_check(text, err, sizeof(err)), -1, "should be refused:\n%s", text);
  cr_assert(strstr(err, needle), "message for\n%s\nsays '%s': %s", text, needle, err);
}

Test(export, prometheus_checker_catches_errors)
{
  expect_bad("9metric 1\n", "metric name");
  expect_bad("m{a=\"x\" 1\n", "expected , or }");
  expect_bad("m{a=\"\\t\"} 1\n", "bad escape");
  expect_bad("m abc\n", "not a sample value");
  expect_bad("m 1", "newline");
  expect_bad("# TYPE m counter\nm -1\n", "negative");
  expect_bad("# TYPE m gauge\nm 1\n# TYPE m gauge\n", "second TYPE");
  expect_bad("# TYPE m gauge\nm 1\nm 2\n", "duplicate");
  expect_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\n", "cumulative");
  expect_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_count 3\n", "+Inf");
  expect_bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 4\n", "differs");
  expect_bad("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n", "grouped");
  char err[256];
  cr_assert_eq(ps_prometheus_check("# HELP m ok\n# TYPE m gauge\nm{a=\"1\"} +Inf\nm 1 1700000000\n",
                                   err, sizeof(err)),
               0, "%s", err);
}

Test(export, csv_and_markdown_escape)
{
  json_t *r = fixture();
  char *csv = ps_export(r, PS_EXPORT_CSV);
  cr_assert(!strncmp(csv, "cell,n,index,warmup,status", 26), "header: %.60s", csv);
  cr_assert(strstr(csv, "\"n=1,\"\"quoted\"\"\\back\nline|pipe\""), "CSV quoting: %s", csv);
  size_t lines = 0;
  for (char *p = csv; *p; p++)
    lines += *p == '\n';
  cr_assert_eq(lines, 1 + 3 + 2, "header + 3 runs (+2 newlines inside quoted ids): %s", csv);
  free(csv);
  char *md = ps_export(r, PS_EXPORT_MARKDOWN);
  cr_assert(strstr(md, "line\\|pipe"), "markdown escapes |: %s", md);
  cr_assert(!strstr(md, "back\nline"), "no raw newline inside a row");
  free(md);
  json_decref(r);
}
