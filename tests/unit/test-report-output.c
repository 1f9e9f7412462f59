/* test-report-output.c - `perfsweep report` on the fixtures: every name is escaped in the HTML
 * and markdown, bad input is refused with the right exit code and nothing written, a
 * single-worker sweep says why there is no fit, and missing gnuplot names the package. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "exit-codes.h"
#include "util.h"
#include "test-tmp.h"

#define FIX PERFSWEEP_FIXTURES "/report"

static char dir[] = "/tmp/ps-test-report-XXXXXX";

static void setup(void)
{
  ps_test_mkdtemp(dir);
  cr_redirect_stdout();
  cr_redirect_stderr();
}

TestSuite(report, .init = setup, .timeout = 60);

static int run(const char *results, const char *out, const char *extra1, const char *extra2)
{
  char *argv[10] = {"report", (char *)results, "--out", (char *)out};
  int argc = 4;
  if (extra1)
    argv[argc++] = (char *)extra1;
  if (extra2)
    argv[argc++] = (char *)extra2;
  return cmd_report(argc, argv);
}

static char *slurp(const char *path)
{
  char *data = NULL;
  size_t len;
  cr_assert_eq(ps_read_file(path, &data, &len), 0, "cannot read %s", path);
  return data;
}

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

Test(report, html_escapes_every_name)
{
  char *out = ps_xasprintf("%s/out", dir);
  cr_assert_eq(run(FIX "/sweep-3x3/results.json", out, "--no-charts", NULL), PS_EXIT_OK);
  char *path = ps_xasprintf("%s/report.html", out), *html = slurp(path);
  cr_expect_eq(count(html, "<script"), 1, "the page must hold exactly its own script, found %zu",
               count(html, "<script"));
  cr_expect_null(strstr(html, "<script>alert"), "a command's <script> reached the page");
  cr_expect_null(strstr(html, "operator<<"), "operator<< was not escaped");
  cr_expect_not_null(strstr(html, "operator&lt;&lt;"), "the escaped function name is missing");
  cr_expect_not_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"),
                     "the escaped command is missing");
  cr_expect_null(strstr(html, "<b>7</b>"), "the hostname's markup was not escaped");
  cr_expect_null(strstr(html, "src=\"http"), "the page loads something from the network");
  cr_expect_null(strstr(html, "<link"), "the page links an external resource");
  free(html);
  free(path);
  free(out);
}

Test(report, markdown_escapes_and_links_png_charts)
{
  char *out = ps_xasprintf("%s/out", dir);
  cr_assert_eq(run(FIX "/sweep-3x3/results.json", out, NULL, NULL), PS_EXIT_OK);
  char *path = ps_xasprintf("%s/report.md", out), *md = slurp(path);
  cr_expect_null(strstr(md, "<script"), "raw <script> in the markdown");
  cr_expect_not_null(strstr(md, "operator&lt;&lt;"), "escaped operator<< missing");
  cr_expect_not_null(strstr(md, "](charts/throughput.png)"), "the throughput PNG is not linked");
  cr_expect_not_null(strstr(md, "Recommended: batch 1000"), "the recommendation is missing:\n%s",
                     md);
  char *png = ps_xasprintf("%s/charts/throughput.png", out);
  struct stat st;
  cr_expect(stat(png, &st) == 0 && st.st_size > 1000, "%s missing or empty", png);
  free(png);
  free(md);
  free(path);
  free(out);
}

Test(report, refuses_broken_results_without_writing)
{
  static const char *bad[] = {"truncated.json", "schema-v2.json", "not-json.json"};
  for (size_t i = 0; i < 3; i++) {
    char *in = ps_xasprintf("%s/broken/%s", FIX, bad[i]);
    char *out = ps_xasprintf("%s/bad%zu", dir, i);
    cr_expect_eq(run(in, out, NULL, NULL), PS_EXIT_USAGE, "%s was not refused as bad input",
                 bad[i]);
    cr_expect_neq(access(out, F_OK), 0, "%s: an output folder was created for bad input", bad[i]);
    free(in);
    free(out);
  }
  char *out = ps_xasprintf("%s/missing", dir);
  cr_expect_eq(run(FIX "/does-not-exist.json", out, NULL, NULL), PS_EXIT_USAGE);
  free(out);
}

Test(report, single_worker_sweep_says_no_fit_and_draws_the_rest)
{
  char *out = ps_xasprintf("%s/single", dir);
  cr_assert_eq(run(FIX "/single-worker", out, NULL, NULL), PS_EXIT_OK);
  char *path = ps_xasprintf("%s/report.html", out), *html = slurp(path);
  cr_expect_not_null(strstr(html, "only one worker count"), "the missing fit is not explained");
  char *png = ps_xasprintf("%s/charts/throughput.png", out);
  cr_expect_eq(access(png, F_OK), 0, "the throughput chart was not drawn");
  char *scaling = ps_xasprintf("%s/charts/scaling.png", out);
  cr_expect_neq(access(scaling, F_OK), 0, "an empty scaling chart was drawn");
  free(scaling);
  free(png);
  free(html);
  free(path);
  free(out);
}

Test(report, missing_gnuplot_names_the_package)
{
  setenv("PATH", "/nonexistent", 1);
  char *out = ps_xasprintf("%s/nognuplot", dir);
  cr_expect_eq(run(FIX "/sweep-3x3", out, NULL, NULL), PS_EXIT_ENVIRONMENT);
  fflush(stderr);
  FILE *err = cr_get_redirected_stderr();
  char text[4096] = "";
  size_t n = fread(text, 1, sizeof(text) - 1, err);
  text[n] = '\0';
  cr_expect_not_null(strstr(text, "gnuplot-nox"), "the package is not named: %s", text);
  cr_expect_not_null(strstr(text, "--no-charts"), "--no-charts is not suggested: %s", text);
  free(out);
}

Test(report, json_summary_carries_the_plan)
{
  char *out = ps_xasprintf("%s/json", dir);
  char *jpath = ps_xasprintf("%s/summary.json", dir);
  FILE *saved = stdout;
  stdout = fopen(jpath, "w");
  cr_assert_not_null(stdout);
  int rc = run(FIX "/sweep-3x3", out, "--json", "--no-charts");
  fclose(stdout);
  stdout = saved;
  cr_assert_eq(rc, PS_EXIT_OK);
  json_error_t e;
  json_t *o = json_load_file(jpath, 0, &e);
  cr_assert_not_null(o, "--json printed no JSON: %s", e.text);
  json_t *rec = json_object_get(json_object_get(o, "capacity"), "recommendation");
  cr_expect_eq(json_real_value(json_object_get(rec, "batch")), 1000.0);
  json_t *usl = json_array_get(json_object_get(json_object_get(o, "capacity"), "usl"), 1);
  cr_expect(json_is_true(json_object_get(usl, "ok")), "no USL fit for batch 1000");
  cr_expect_gt(json_real_value(json_object_get(usl, "r2")), 0.9);
  json_decref(o);
  free(jpath);
  free(out);
}

Test(report, bad_options_are_usage_errors)
{
  char *out = ps_xasprintf("%s/opt", dir);
  cr_expect_eq(run(FIX "/sweep-3x3", out, "--memory-limit", "lots"), PS_EXIT_USAGE);
  cr_expect_eq(run(FIX "/sweep-3x3", out, "--format", "pdf"), PS_EXIT_USAGE);
  cr_expect_eq(run(FIX "/sweep-3x3", out, "--x", "nope"), PS_EXIT_USAGE);
  free(out);
}

Test(report, generic_axes_are_labels_and_say_why_no_plan)
{
  char *out = ps_xasprintf("%s/generic", dir);
  cr_assert_eq(run(FIX "/generic", out, NULL, NULL), PS_EXIT_OK);
  char *path = ps_xasprintf("%s/report.html", out), *html = slurp(path);
  cr_expect_not_null(strstr(html, "allocator axis is not numeric"), "no reason for the missing plan");
  cr_expect_null(strstr(html, "jemalloc<x>"), "an axis value was not escaped");
  cr_expect_not_null(strstr(html, "runs/s"), "throughput without records should be runs/s");
  char *png = ps_xasprintf("%s/charts/throughput.png", out);
  cr_expect_eq(access(png, F_OK), 0, "the labelled throughput chart was not drawn");
  free(png);
  free(html);
  free(path);
  char *out2 = ps_xasprintf("%s/generic2", dir);
  cr_expect_eq(run(FIX "/generic", out2, "--x", "threads"), PS_EXIT_OK,
               "--x threads (series defaults to the other axis) failed");
  free(out2);
  free(out);
}

Test(report, results_without_runs_say_so_and_draw_no_empty_chart)
{
  json_error_t e;
  json_t *root = json_load_file(FIX "/sweep-3x3/results.json", 0, &e);
  cr_assert_not_null(root, "%s", e.text);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(root, "cells"), i, c) {
    json_object_set_new(c, "runs", json_array());
    json_object_set_new(c, "stats", json_object());
    if (i)
      json_object_del(c, "profile");
  }
  char *in = ps_xasprintf("%s/empty.json", dir), *out = ps_xasprintf("%s/empty", dir);
  cr_assert_eq(json_dump_file(root, in, 0), 0);
  json_decref(root);
  cr_assert_eq(run(in, out, NULL, NULL), PS_EXIT_OK);
  char *path = ps_xasprintf("%s/report.html", out), *html = slurp(path);
  cr_expect_not_null(strstr(html, "nothing to plan from"), "the missing plan is not explained");
  char *png = ps_xasprintf("%s/charts/throughput.png", out);
  cr_expect_neq(access(png, F_OK), 0, "an empty throughput chart was drawn");
  char *heat = ps_xasprintf("%s/charts/heatmap.png", out);
  cr_expect_neq(access(heat, F_OK), 0, "an empty heatmap was drawn");
  free(heat);
  free(png);
  free(html);
  free(path);
  free(in);
  free(out);
}
