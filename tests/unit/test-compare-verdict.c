/* test-compare-verdict.c - the per-metric verdict on synthetic samples with known answers:
 * identical distributions are unchanged, a 20% shift over 10 runs regresses, 3 runs each are
 * inconclusive with the reason, thresholds, floors, direction and exact counts.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "compare.h"

/* A fixed pseudo-random spread of +-1% around 1.0 (no ties). */
static void spread(double *v, int n, double centre, unsigned seed)
{
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    v[i] = centre * (1.0 + ((double)(seed >> 8 & 0xffff) / 65535.0 - 0.5) * 0.02) + i * 1e-9;
  }
}

Test(compare, identical_distributions_unchanged)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[10], b[10];
  spread(a, 10, 1.0, 1);
  spread(b, 10, 1.0, 2);
  struct compare_metric m;
  cr_assert_eq(compare_samples("wall", a, 10, b, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_UNCHANGED, "verdict %s (%s)", compare_verdict_name(m.verdict),
               m.reason);
  cr_assert(m.ci_lo <= 0 && m.ci_hi >= 0, "CI [%g, %g] should cover 0", m.ci_lo, m.ci_hi);
  compare_metric_free(&m);
}

Test(compare, twenty_percent_shift_ten_runs_regressed)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[10], b[10];
  spread(a, 10, 1.0, 3);
  spread(b, 10, 1.2, 4);
  struct compare_metric m;
  cr_assert_eq(compare_samples("wall", a, 10, b, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_REGRESSED, "verdict %s (%s)", compare_verdict_name(m.verdict),
               m.reason);
  cr_assert(fabs(m.change - 0.2) < 0.02, "change %g, expected about +20%%", m.change);
  cr_assert(m.ci_lo > 0.15 && m.ci_hi < 0.25, "CI [%g, %g]", m.ci_lo, m.ci_hi);
  cr_assert_lt(m.mw.p, 0.001, "p = %g", m.mw.p);
  compare_metric_free(&m);
  /* the same shift on a higher-is-better metric is an improvement */
  cr_assert_eq(compare_samples("throughput", a, 10, b, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_IMPROVED, "throughput up 20%%: %s", compare_verdict_name(m.verdict));
  compare_metric_free(&m);
}

Test(compare, three_runs_each_inconclusive_with_reason)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[] = {1.00, 1.01, 0.99}, b[] = {1.50, 1.51, 1.49};
  struct compare_metric m;
  cr_assert_eq(compare_samples("wall", a, 3, b, 3, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_INCONCLUSIVE, "a 50%% shift on 3 runs cannot be significant: %s",
               compare_verdict_name(m.verdict));
  cr_assert(strstr(m.reason, "3 runs each cannot reach p<0.05"), "reason: %s", m.reason);
  cr_assert(strstr(m.reason, "--runs >= 5"), "reason should advise more runs: %s", m.reason);
  compare_metric_free(&m);
}

Test(compare, threshold_and_floor)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[10], b[10];
  spread(a, 10, 1.0, 5);
  spread(b, 10, 1.03, 6); /* +3%: significant but within the default 5% */
  struct compare_metric m;
  cr_assert_eq(compare_samples("wall", a, 10, b, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_UNCHANGED, "+3%% under a 5%% threshold: %s (%s)",
               compare_verdict_name(m.verdict), m.reason);
  compare_metric_free(&m);
  struct compare_setting thr = {"wall", 0.01};
  o.thresholds = &thr;
  o.nthresholds = 1;
  cr_assert_eq(compare_samples("wall", a, 10, b, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_REGRESSED, "+3%% over a 1%% wall threshold: %s (%s)",
               compare_verdict_name(m.verdict), m.reason);
  compare_metric_free(&m);
  /* 20% of a 1 ms run is 0.2 ms: below the default 1 ms floor */
  double c[10], d[10];
  spread(c, 10, 0.001, 7);
  spread(d, 10, 0.0012, 8);
  o.nthresholds = 0;
  cr_assert_eq(compare_samples("wall", c, 10, d, 10, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_UNCHANGED, "0.2 ms is under the 1 ms floor: %s (%s)",
               compare_verdict_name(m.verdict), m.reason);
  compare_metric_free(&m);
}

Test(compare, noisy_not_significant_is_inconclusive)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[] = {1.0, 1.4, 0.7, 1.2, 0.8, 1.3}, b[] = {1.1, 0.75, 1.35, 0.9, 1.25, 1.45};
  struct compare_metric m;
  cr_assert_eq(compare_samples("wall", a, 6, b, 6, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_INCONCLUSIVE, "+-30%% noise cannot rule out 5%%: %s (%s)",
               compare_verdict_name(m.verdict), m.reason);
  compare_metric_free(&m);
}

Test(compare, deterministic_counts_compare_exactly)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a = 20000, b = 20001, c = 20000;
  struct compare_metric m;
  cr_assert_eq(compare_samples("alloc.calls", &a, 1, &b, 1, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_REGRESSED, "one more allocation call: %s", m.reason);
  compare_metric_free(&m);
  cr_assert_eq(compare_samples("alloc.calls", &a, 1, &c, 1, &o, &m), 0);
  cr_assert_eq(m.verdict, CMP_UNCHANGED, "equal counts: %s", m.reason);
  compare_metric_free(&m);
}

Test(compare, bootstrap_is_deterministic_for_a_seed)
{
  struct compare_opts o;
  compare_opts_init(&o);
  double a[10], b[10];
  spread(a, 10, 1.0, 9);
  spread(b, 10, 1.1, 10);
  struct compare_metric m1, m2;
  compare_samples("wall", a, 10, b, 10, &o, &m1);
  compare_samples("wall", a, 10, b, 10, &o, &m2);
  cr_assert(m1.ci_lo == m2.ci_lo && m1.ci_hi == m2.ci_hi, "same seed, same CI: [%g,%g] vs [%g,%g]",
            m1.ci_lo, m1.ci_hi, m2.ci_lo, m2.ci_hi);
  compare_metric_free(&m1);
  compare_metric_free(&m2);
}

/* The fixture's first cell with its allocation profile switched to sampled estimates. */
static json_t *sampled(double calls, double lo, double hi)
{
  json_t *r = json_load_file(PERFSWEEP_FIXTURES "/compare/base.json", 0, NULL);
  cr_assert_not_null(r);
  json_t *alloc = json_object_get(json_object_get(json_array_get(json_object_get(r, "cells"), 0),
                                                  "profile"), "alloc");
  json_object_set_new(alloc, "mode", json_string("sample"));
  json_t *c = json_object_get(alloc, "calls");
  json_object_set_new(c, "total", json_real(calls));
  json_object_set_new(c, "total_ci95", json_pack("[f, f]", lo, hi));
  return r;
}

static enum compare_verdict alloc_calls_verdict(json_t *b, json_t *n)
{
  struct compare_opts o;
  struct compare_report r;
  char *err = NULL;
  compare_opts_init(&o);
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  enum compare_verdict v = CMP_INCONCLUSIVE;
  for (size_t k = 0; k < r.cells[0].nmetrics; k++)
    if (!strcmp(r.cells[0].metrics[k].metric, "alloc.calls"))
      v = r.cells[0].metrics[k].verdict;
  compare_report_free(&r);
  return v;
}

Test(compare, sampled_allocation_estimates_use_their_intervals)
{
  json_t *b = sampled(20000, 19000, 21000), *same = sampled(20600, 19600, 21600);
  json_t *more = sampled(30000, 29000, 31000);
  cr_assert_eq(alloc_calls_verdict(b, same), CMP_UNCHANGED,
               "+3%% with overlapping intervals is not a change for a sampled estimate");
  cr_assert_eq(alloc_calls_verdict(b, more), CMP_REGRESSED, "+50%% with intervals apart");
  json_decref(b);
  json_decref(same);
  json_decref(more);
}

Test(compare, failing_runs_regress_the_error_rate)
{
  json_t *b = json_load_file(PERFSWEEP_FIXTURES "/compare/base.json", 0, NULL);
  json_t *n = json_deep_copy(b);
  json_t *cell = json_array_get(json_object_get(n, "cells"), 0);
  json_object_del(cell, "error_rate");
  json_object_set_new(json_array_get(json_object_get(cell, "runs"), 2), "status",
                      json_string("failed"));
  struct compare_opts o;
  struct compare_report r;
  char *err = NULL;
  compare_opts_init(&o);
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  const struct compare_metric *m = NULL;
  for (size_t k = 0; k < r.cells[0].nmetrics; k++)
    if (!strcmp(r.cells[0].metrics[k].metric, "error_rate"))
      m = &r.cells[0].metrics[k];
  cr_assert_not_null(m, "a failed run must bring error_rate into the comparison");
  cr_assert_eq(m->verdict, CMP_REGRESSED, "0 -> 1/10 failed runs: %s", m->reason);
  cr_assert_eq(r.verdict, CMP_REGRESSED);
  for (size_t k = 0; k < r.cells[1].nmetrics; k++)
    cr_assert_str_neq(r.cells[1].metrics[k].metric, "error_rate", "no failures, no error_rate row");
  compare_report_free(&r);
  json_decref(b);
  json_decref(n);
}

Test(compare, different_machines_are_warned_about)
{
  json_t *b = json_load_file(PERFSWEEP_FIXTURES "/compare/base.json", 0, NULL);
  json_t *n = json_deep_copy(b);
  struct compare_opts o;
  struct compare_report r;
  char *err = NULL;
  compare_opts_init(&o);
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  cr_assert_null(r.machine_note, "same machine, no warning: %s", r.machine_note);
  compare_report_free(&r);
  json_object_set_new(json_object_get(n, "machine"), "cpu_model", json_string("Other CPU"));
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  cr_assert(r.machine_note && strstr(r.machine_note, "Other CPU"), "warning expected: %s",
            r.machine_note ? r.machine_note : "(none)");
  compare_report_free(&r);
  json_decref(b);
  json_decref(n);
}

/* The fixture's first cell only, 4 timed runs, times scaled by factor. */
static json_t *four_runs(double factor)
{
  json_t *r = json_load_file(PERFSWEEP_FIXTURES "/compare/base.json", 0, NULL);
  json_t *cells = json_object_get(r, "cells");
  while (json_array_size(cells) > 1)
    json_array_remove(cells, 1);
  json_t *runs = json_object_get(json_array_get(cells, 0), "runs"), *run, *st;
  while (json_array_size(runs) > 5) /* the warm-up and 4 timed runs */
    json_array_remove(runs, 5);
  size_t i, j;
  json_array_foreach(runs, i, run) {
    static const char *keys[] = {"wall", "cpu", "user", "sys"};
    for (size_t k = 0; k < 4; k++)
      json_object_set_new(run, keys[k], json_real(json_number_value(json_object_get(run, keys[k])) *
                                                  factor));
    json_array_foreach(json_object_get(run, "stages"), j, st)
      json_object_set_new(st, "seconds", json_real(json_number_value(json_object_get(st, "seconds")) *
                                                   factor));
  }
  return r;
}

Test(compare, holm_controls_many_borderline_tests)
{
  /* 4 runs each, completely separated: every time metric has p = 2/70 = 0.029 < 0.05 alone,
   * but 5 such tests need p < 0.01 for the smallest under Holm. */
  json_t *b = four_runs(1.0), *n = four_runs(1.2);
  struct compare_opts o;
  struct compare_report r;
  char *err = NULL;
  compare_opts_init(&o);
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  cr_assert_eq(r.verdict, CMP_REGRESSED, "uncorrected: p=0.029 regresses");
  compare_report_free(&r);
  o.holm = 1;
  cr_assert_eq(compare_results(b, "b", n, "n", &o, &r, &err), 0, "%s", err);
  cr_assert_neq(r.verdict, CMP_REGRESSED, "Holm over %zu metrics: %s", r.cells[0].nmetrics,
                r.cells[0].metrics[0].reason);
  cr_assert_gt(r.cells[0].metrics[0].p_used, 0.05, "adjusted p %g", r.cells[0].metrics[0].p_used);
  compare_report_free(&r);
  json_decref(b);
  json_decref(n);
}
