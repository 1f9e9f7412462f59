/* test-results-load.c - harness/results.c: round trip through an atomic write, and refusal of
 * another schema version, a truncated file, non-JSON and a missing file, naming the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"
#include "test-tmp.h"

#define FIX PERFSWEEP_FIXTURES "/run/"

Test(results, loads_a_valid_file_and_a_folder)
{
  json_t *r;
  char err[512] = "";
  cr_assert_eq(ps_results_load(FIX "minimal-results.json", &r, err, sizeof(err)), 0, "%s", err);
  cr_assert_eq(json_array_size(json_object_get(r, "cells")), 2);
  cr_assert_not_null(ps_results_find_cell(r, "n=2"));
  cr_assert_null(ps_results_find_cell(r, "n=3"));
  json_decref(r);
}

Test(results, round_trip_write_then_load)
{
  char dir[] = "/tmp/ps-test-results-XXXXXX";
  ps_test_mkdtemp(dir);
  json_t *r;
  cr_assert_eq(ps_results_load(FIX "minimal-results.json", &r, NULL, 0), 0);
  double x[] = {1, 2, 3, 4, 100};
  struct ps_summary s;
  ps_summary_compute(x, 5, 1, &s);
  json_object_set_new(r, "extra_stats", ps_results_stats_json(&s));
  ps_summary_release(&s);
  char path[600];
  snprintf(path, sizeof(path), "%s/results.json", dir);
  cr_assert_eq(ps_results_write(path, r), 0, "write %s", path);
  json_t *back;
  char err[512] = "";
  cr_assert_eq(ps_results_load(dir, &back, err, sizeof(err)), 0, "reload from folder: %s", err);
  cr_assert(json_equal(r, back), "what was written is what is read back");
  json_t *st = json_object_get(back, "extra_stats");
  cr_assert(json_is_null(json_object_get(st, "p90")), "p90 is null for n = 5");
  cr_assert_eq(json_array_size(json_object_get(st, "outliers")), 1, "100 is flagged");
  cr_assert_eq(ps_results_write_nosync(path, r, 1), 0, "write without fsync %s", path);
  json_decref(back);
  cr_assert_eq(ps_results_load(path, &back, err, sizeof(err)), 0, "reload compact: %s", err);
  cr_assert(json_equal(r, back), "the compact form reads back the same");
  json_decref(r);
  json_decref(back);
  unlink(path);
  rmdir(dir);
}

static void expect_refused(const char *path, int code, const char *needle)
{
  json_t *r = (json_t *)1;
  char err[1024] = "";
  int rc = ps_results_load(path, &r, err, sizeof(err));
  cr_assert_eq(rc, code, "%s: expected exit %d, got %d (%s)", path, code, rc, err);
  cr_assert_null(r, "%s: no document on failure", path);
  cr_assert(strstr(err, path) != NULL, "message names the file: %s", err);
  cr_assert(strstr(err, needle) != NULL, "message says '%s': %s", needle, err);
}

Test(results, refuses_other_schema_truncated_garbage_missing)
{
  expect_refused(FIX "schema-v2.json", PS_EXIT_USAGE, "perfsweep.results/2");
  expect_refused(FIX "truncated.json", PS_EXIT_USAGE, "truncated");
  expect_refused(PERFSWEEP_SOURCE_DIR "/CMakeLists.txt", PS_EXIT_USAGE, "not valid JSON");
  expect_refused(FIX "does-not-exist.json", PS_EXIT_USAGE, "cannot read");
}
