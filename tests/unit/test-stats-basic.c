/* test-stats-basic.c - harness/stats.c against hand-computed values: median, MAD, quantiles,
 * stddev, outlier flags, bootstrap determinism with a seed, shuffle determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

#define EPS 1e-9

Test(stats, median_odd_even_and_unsorted)
{
  double odd[] = {5, 1, 3};
  double even[] = {4, 1, 3, 2};
  cr_assert_float_eq(ps_stats_median(odd, 3), 3.0, EPS, "median of {5,1,3}");
  cr_assert_float_eq(ps_stats_median(even, 4), 2.5, EPS, "median of {4,1,3,2}");
  cr_assert_float_eq(odd[0], 5.0, EPS, "input must not be reordered");
  cr_assert(isnan(ps_stats_median(odd, 0)), "median of nothing is NAN");
}

Test(stats, mean_stddev_min_max)
{
  double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
  cr_assert_float_eq(ps_stats_mean(x, 8), 5.0, EPS, "mean");
  /* sum of squares 32, sample variance 32/7 */
  cr_assert_float_eq(ps_stats_stddev(x, 8), sqrt(32.0 / 7.0), EPS, "sample stddev");
  cr_assert_float_eq(ps_stats_min(x, 8), 2.0, EPS, "min");
  cr_assert_float_eq(ps_stats_max(x, 8), 9.0, EPS, "max");
  cr_assert(isnan(ps_stats_stddev(x, 1)), "stddev of one value is NAN");
}

Test(stats, mad_hand_computed)
{
  /* median 2; deviations 1,1,0,0,2,4,7 -> sorted 0,0,1,1,2,4,7 -> MAD 1 */
  double x[] = {1, 1, 2, 2, 4, 6, 9};
  cr_assert_float_eq(ps_stats_mad(x, 7), 1.0, EPS, "MAD of {1,1,2,2,4,6,9}");
}

Test(stats, quantiles_type7)
{
  double s[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  /* numpy.percentile(range(1,11), 90) = 9.1; 25 -> 3.25 */
  cr_assert_float_eq(ps_stats_quantile_sorted(s, 10, 0.9), 9.1, EPS, "p90");
  cr_assert_float_eq(ps_stats_quantile_sorted(s, 10, 0.25), 3.25, EPS, "q1");
  cr_assert_float_eq(ps_stats_quantile_sorted(s, 10, 0.0), 1.0, EPS, "q0");
  cr_assert_float_eq(ps_stats_quantile_sorted(s, 10, 1.0), 10.0, EPS, "q1.0");
}

Test(stats, outliers_flagged_by_zscore_and_tukey)
{
  double x[] = {10, 11, 10, 12, 11, 10, 50};
  struct ps_outlier *o;
  size_t n = ps_stats_outliers(x, 7, &o);
  cr_assert_eq(n, 1, "one outlier expected in {10,11,10,12,11,10,50}, got %zu", n);
  cr_assert_eq(o[0].index, 6, "the outlier is the 50 at index 6");
  /* median 11, MAD 1, z = 0.6745 * 39 / 1 */
  cr_assert_float_eq(o[0].zscore, 0.6745 * 39, 1e-6, "modified z-score, got %g", o[0].zscore);
  cr_assert_eq(o[0].tukey, PS_TUKEY_FAR, "50 is far outside Q3 + 3 IQR");
  free(o);

  double calm[] = {1.0, 1.2, 1.1, 1.4, 1.3};
  n = ps_stats_outliers(calm, 5, &o);
  cr_assert_eq(n, 0, "no outliers in a calm sample, got %zu", n);
  cr_assert_null(o);
}

Test(stats, outliers_mild_tukey)
{
  /* q1 = 2, q3 = 4 (type 7 on 1..5 style data), iqr 2; 7.5 is > 4+3=7 far; 7 is mild at 4+1.5*2=7? */
  double x[] = {1, 2, 3, 4, 5, 2, 3, 4, 9};
  struct ps_outlier *o;
  size_t n = ps_stats_outliers(x, 9, &o);
  /* sorted 1,2,2,3,3,4,4,5,9: q1 = 2, q3 = 4, iqr 2: mild > 7, far > 10 -> 9 is mild */
  cr_assert_eq(n, 1, "9 should be flagged, got %zu flags", n);
  cr_assert_eq(o[0].tukey, PS_TUKEY_MILD, "9 lies between the 1.5 and 3 IQR fences");
  free(o);
}

Test(stats, bootstrap_is_deterministic_with_seed)
{
  double x[] = {1.2, 1.3, 1.25, 1.4, 1.22, 1.31, 1.27, 1.9};
  double lo1, hi1, lo2, hi2, lo3, hi3;
  cr_assert_eq(ps_stats_bootstrap(x, 8, ps_stat_fn_median, NULL, 1000, 0.95, 42, &lo1, &hi1), 0);
  cr_assert_eq(ps_stats_bootstrap(x, 8, ps_stat_fn_median, NULL, 1000, 0.95, 42, &lo2, &hi2), 0);
  cr_assert_float_eq(lo1, lo2, 0, "same seed, same interval");
  cr_assert_float_eq(hi1, hi2, 0, "same seed, same interval");
  double med = ps_stats_median(x, 8);
  cr_assert(lo1 <= med && med <= hi1, "median %g inside its CI [%g, %g]", med, lo1, hi1);
  ps_stats_bootstrap(x, 8, ps_stat_fn_mean, NULL, 1000, 0.95, 7, &lo3, &hi3);
  cr_assert(lo3 >= 1.2 && hi3 <= 1.9, "mean CI [%g, %g] within the data range", lo3, hi3);
  cr_assert_eq(ps_stats_bootstrap(x, 0, ps_stat_fn_mean, NULL, 0, 0.95, 1, &lo3, &hi3), -EINVAL);
  cr_assert(isnan(lo3) && isnan(hi3));
}

static double diff_median(const double *x, size_t nx, const double *y, size_t ny, void *ctx)
{
  (void)ctx;
  return ps_stats_median(y, ny) - ps_stats_median(x, nx);
}

Test(stats, bootstrap2_covers_a_shift)
{
  double a[] = {1.0, 1.1, 0.9, 1.05, 0.95, 1.02};
  double b[] = {2.0, 2.1, 1.9, 2.05, 1.95, 2.02};
  double lo, hi;
  cr_assert_eq(ps_stats_bootstrap2(a, 6, b, 6, diff_median, NULL, 500, 0.95, 3, &lo, &hi), 0);
  cr_assert(lo > 0.7 && hi < 1.3, "difference CI [%g, %g] around 1", lo, hi);
}

Test(stats, summary_fields_and_small_n_quantiles)
{
  double x[] = {3, 1, 2, 5, 4};
  struct ps_summary s;
  ps_summary_compute(x, 5, 42, &s);
  cr_assert_eq(s.n, 5);
  cr_assert_float_eq(s.median, 3.0, EPS);
  cr_assert_float_eq(s.mean, 3.0, EPS);
  cr_assert_float_eq(s.mad, 1.0, EPS);
  cr_assert(isnan(s.p90) && isnan(s.p99), "p90/p99 are NAN for n = 5");
  cr_assert_float_eq(s.cv, sqrt(2.5) / 3.0, EPS, "cv");
  cr_assert(s.ci95_mean[0] <= 3 && s.ci95_mean[1] >= 3, "ci of mean contains 3");
  ps_summary_release(&s);

  ps_summary_compute(x, 0, 42, &s);
  cr_assert(isnan(s.mean) && isnan(s.ci95_median[0]), "empty sample: NAN everywhere");
  ps_summary_release(&s);
}

Test(stats, shuffle_is_deterministic_and_a_permutation)
{
  int a[20], b[20];
  for (int i = 0; i < 20; i++)
    a[i] = b[i] = i;
  struct ps_rng r1, r2;
  ps_rng_seed(&r1, 99);
  ps_rng_seed(&r2, 99);
  ps_rng_shuffle(&r1, a, 20, sizeof(int));
  ps_rng_shuffle(&r2, b, 20, sizeof(int));
  int seen[20] = {0}, moved = 0;
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(a[i], b[i], "same seed, same order at %d", i);
    seen[a[i]]++;
    moved += a[i] != i;
  }
  for (int i = 0; i < 20; i++)
    cr_assert_eq(seen[i], 1, "value %d appears once", i);
  cr_assert_gt(moved, 0, "a shuffle of 20 moved something");
}

Test(stats, selection_quantile_matches_sorted_quantile)
{
  struct ps_rng rng;
  ps_rng_seed(&rng, 2024);
  double x[300];
  for (int round = 0; round < 200; round++) {
    size_t n = 1 + (size_t)ps_rng_below(&rng, 300);
    for (size_t i = 0; i < n; i++)
      x[i] = (double)ps_rng_below(&rng, round % 2 ? 5 : 1000); /* many ties every other round */
    double *s = ps_stats_sorted_copy(x, n);
    double qs[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1};
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
      double a = ps_stats_quantile(x, n, qs[k]), b = ps_stats_quantile_sorted(s, n, qs[k]);
      cr_assert_float_eq(a, b, 1e-12, "n=%zu q=%g: selection %g, sorted %g", n, qs[k], a, b);
    }
    free(s);
  }
}
