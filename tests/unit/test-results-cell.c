/* test-results-cell.c - ps_cell_finalize (harness/sweep-run.c): per-cell statistics over the
 * timed successful runs only, runs put in index order, success/error rates, and the warnings
 * (high CV, first run an outlier, failures, too few runs), deterministic for a seed. */
#include <criterion/criterion.h>
#include <string.h>

#include "sweep-run.h"

static json_t *run(int index, int warmup, const char *status, double wall, int records)
{
  json_t *r = json_pack("{sisbsssf}", "index", index, "warmup", warmup, "status", status, "wall",
                        wall);
  json_object_set_new(r, "cpu", json_real(wall / 2));
  json_object_set_new(r, "throughput", records ? json_real(records / wall) : json_null());
  json_object_set_new(r, "stages", json_pack("[{sssf}]", "stage", "compute", "seconds", wall / 4));
  if (strcmp(status, "ok"))
    json_object_set_new(r, "error", json_string("exit status 3: boom"));
  return r;
}

static int has_warning(json_t *cell, const char *needle)
{
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(cell, "warnings"), i, w) {
    if (strstr(json_string_value(w), needle))
      return 1;
  }
  return 0;
}

Test(results_cell, stats_rates_and_warnings)
{
  json_t *runs = json_array();
  /* shuffled order on purpose; index 0 is a warm-up, index 1 a slow first timed run */
  json_array_append_new(runs, run(3, 0, "ok", 1.0, 100));
  json_array_append_new(runs, run(0, 1, "ok", 9.0, 100));
  json_array_append_new(runs, run(1, 0, "ok", 5.0, 100));
  json_array_append_new(runs, run(2, 0, "ok", 1.1, 100));
  json_array_append_new(runs, run(5, 0, "failed", 0.1, 0));
  json_array_append_new(runs, run(4, 0, "ok", 0.9, 100));
  json_array_append_new(runs, run(6, 0, "ok", 1.05, 100));
  json_t *cell = json_pack("{ssso}", "id", "x=1", "runs", runs);
  ps_cell_finalize(cell, 42);

  json_t *sorted = json_object_get(cell, "runs");
  for (size_t i = 0; i < json_array_size(sorted); i++)
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(sorted, i), "index")),
                 (json_int_t)i, "runs in index order");
  json_t *wall = json_object_get(json_object_get(cell, "stats"), "wall");
  cr_assert_eq(json_integer_value(json_object_get(wall, "n")), 5,
               "warm-up and the failed run are excluded");
  cr_assert_float_eq(json_number_value(json_object_get(wall, "median")), 1.05, 1e-12,
                     "median of 5, 1.1, 1.0, 0.9, 1.05");
  cr_assert_float_eq(json_number_value(json_object_get(cell, "success_rate")), 5.0 / 6, 1e-12);
  cr_assert_float_eq(json_number_value(json_object_get(cell, "error_rate")), 1.0 / 6, 1e-12);
  cr_assert_not_null(json_object_get(json_object_get(cell, "stats"), "stage.compute.seconds"));
  cr_assert_not_null(json_object_get(json_object_get(cell, "stats"), "throughput"));
  json_t *out = json_array_get(json_object_get(wall, "outliers"), 0);
  cr_assert_eq(json_integer_value(json_object_get(out, "index")), 0, "the 5.0 s run is flagged");
  cr_assert(has_warning(cell, "first timed run is an outlier"), "first-run warning");
  cr_assert(has_warning(cell, "coefficient of variation"), "CV warning");
  cr_assert(has_warning(cell, "1 of 6 runs failed; first: exit status 3: boom"), "failure warning");

  json_t *again = json_deep_copy(cell);
  ps_cell_finalize(again, 42);
  cr_assert(json_equal(json_object_get(cell, "stats"), json_object_get(again, "stats")),
            "same seed, same statistics");
  json_decref(again);
  json_decref(cell);
}

Test(results_cell, no_successful_run)
{
  json_t *runs = json_pack("[o]", run(0, 0, "crashed", 0.2, 0));
  json_t *cell = json_pack("{ssso}", "id", "x=2", "runs", runs);
  ps_cell_finalize(cell, 1);
  cr_assert_null(json_object_get(json_object_get(cell, "stats"), "wall"), "no stats without ok runs");
  cr_assert_float_eq(json_number_value(json_object_get(cell, "success_rate")), 0.0, 1e-12);
  json_decref(cell);
}
