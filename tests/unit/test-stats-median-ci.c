/* test-stats-median-ci.c - the closed-form bootstrap distribution of the median equals the one
 * obtained by enumerating every resample (n^n of them, small n, with and without ties, odd and
 * even n), and its percentile interval agrees with a Monte-Carlo bootstrap of many resamples.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

/* Every resample of x[n] (n <= 7), each of mass n^-n: the masses of the medians, sorted. */
static size_t enumerate(const double *x, size_t n, double *vals, double *probs)
{
  size_t total = 1, nv = 0, hits[4096];
  for (size_t i = 0; i < n; i++)
    total *= n;
  double buf[8];
  for (size_t code = 0; code < total; code++) {
    size_t c = code;
    for (size_t i = 0; i < n; i++, c /= n)
      buf[i] = x[c % n];
    double m = ps_stats_median(buf, n);
    size_t k = 0;
    while (k < nv && vals[k] != m)
      k++;
    if (k == nv) {
      vals[nv] = m;
      hits[nv++] = 0;
    }
    hits[k]++; /* counted, not summed: 7^7 additions of 7^-7 would drift by 1e-11 */
  }
  for (size_t k = 0; k < nv; k++)
    probs[k] = (double)hits[k] / (double)total;
  for (size_t i = 1; i < nv; i++) /* insertion sort by value */
    for (size_t j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
      double t = vals[j];
      vals[j] = vals[j - 1];
      vals[j - 1] = t;
      t = probs[j];
      probs[j] = probs[j - 1];
      probs[j - 1] = t;
    }
  return nv;
}

static void check_against_enumeration(const double *x, size_t n)
{
  double ev[4096], ep[4096], *v, *p;
  size_t ne = enumerate(x, n, ev, ep);
  size_t nd = ps_stats_median_boot_dist(x, n, &v, &p);
  cr_assert_eq(nd, ne, "n=%zu: closed form has %zu support points, enumeration %zu", n, nd, ne);
  for (size_t i = 0; i < nd; i++) {
    cr_expect_eq(v[i], ev[i], "n=%zu point %zu: value %g vs %g", n, i, v[i], ev[i]);
    cr_expect(fabs(p[i] - ep[i]) < 1e-12, "n=%zu value %g: mass %.15g, enumeration %.15g", n,
              v[i], p[i], ep[i]);
  }
  free(v);
  free(p);
}

Test(stats, median_boot_dist_equals_enumeration)
{
  static const double distinct[] = {3.5, 1.0, 9.25, 4.0, 2.5, 7.0, 5.5};
  static const double ties[] = {2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0};
  for (size_t n = 1; n <= 7; n++) {
    check_against_enumeration(distinct, n);
    check_against_enumeration(ties, n);
  }
  static const double all_same[] = {4.0, 4.0, 4.0, 4.0, 4.0, 4.0};
  check_against_enumeration(all_same, 6);
}

Test(stats, median_boot_dist_sums_to_one_for_large_samples)
{
  struct ps_rng r;
  ps_rng_seed(&r, 11);
  static double x[4001];
  for (size_t i = 0; i < 4001; i++)
    x[i] = (double)ps_rng_below(&r, 50000) * 1e-6; /* some ties */
  size_t sizes[] = {100, 101, 1000, 4001};
  for (size_t s = 0; s < 4; s++) {
    double *v, *p, sum = 0;
    size_t nd = ps_stats_median_boot_dist(x, sizes[s], &v, &p);
    for (size_t i = 0; i < nd; i++) {
      cr_assert(p[i] >= 0, "n=%zu: negative mass %g at %g", sizes[s], p[i], v[i]);
      sum += p[i];
    }
    cr_expect(fabs(sum - 1) < 1e-9, "n=%zu: masses sum to %.15g", sizes[s], sum);
    free(v);
    free(p);
  }
}

/* The Monte-Carlo percentile interval of 100k resamples lands on the closed-form one or on a
 * neighbouring support point (its sampling error). */
Test(stats, median_ci_exact_agrees_with_many_resamples)
{
  struct ps_rng r;
  ps_rng_seed(&r, 3);
  double x[64];
  for (size_t n = 9; n <= 64; n += 11) {
    for (size_t i = 0; i < n; i++)
      x[i] = 1e-3 + ps_rng_uniform(&r) * 1e-2;
    double lo, hi, mlo, mhi, *v, *p;
    cr_assert_eq(ps_stats_median_ci_exact(x, n, 0.95, &lo, &hi), 0);
    cr_assert_eq(ps_stats_bootstrap(x, n, ps_stat_fn_median, NULL, 100000, 0.95, 5, &mlo, &mhi), 0);
    size_t nd = ps_stats_median_boot_dist(x, n, &v, &p);
    size_t ilo = 0, ihi = 0;
    while (ilo < nd && v[ilo] != lo)
      ilo++;
    while (ihi < nd && v[ihi] != hi)
      ihi++;
    cr_assert(ilo < nd && ihi < nd, "n=%zu: interval ends are support points", n);
    double lo_min = v[ilo ? ilo - 1 : 0], lo_max = v[ilo + 1 < nd ? ilo + 1 : ilo];
    double hi_min = v[ihi ? ihi - 1 : 0], hi_max = v[ihi + 1 < nd ? ihi + 1 : ihi];
    cr_expect(mlo >= lo_min && mlo <= lo_max, "n=%zu: Monte-Carlo lo %.9g, exact %.9g", n, mlo, lo);
    cr_expect(mhi >= hi_min && mhi <= hi_max, "n=%zu: Monte-Carlo hi %.9g, exact %.9g", n, mhi, hi);
    cr_expect(lo <= ps_stats_median(x, n) && hi >= ps_stats_median(x, n), "n=%zu: covers the median", n);
    free(v);
    free(p);
  }
}

Test(stats, median_ci_exact_rejects_bad_input)
{
  double lo, hi, x[] = {1, NAN, 3};
  cr_expect_eq(ps_stats_median_ci_exact(x, 0, 0.95, &lo, &hi), -EINVAL);
  cr_expect_eq(ps_stats_median_ci_exact(x, 3, 0.95, &lo, &hi), -EINVAL);
  cr_expect(isnan(lo) && isnan(hi));
  cr_expect_eq(ps_stats_median_ci_exact(x, 1, 1.5, &lo, &hi), -EINVAL);
  cr_expect_eq(ps_stats_median_ci_exact(x, 1, 0.95, &lo, &hi), 0);
  cr_expect(lo == 1 && hi == 1);
}

/* The interval's bits are those the closed form gave before its sort, its per-pair terms and its
 * binomial coefficients were made cheaper (commit c9dcc36): samples from a fixed generator, odd
 * and even n, with and without ties. */
Test(stats, median_ci_bits_unchanged)
{
  static const struct {
    size_t n;
    double lo, hi;
  } want[] = {
    {45, 0x1.4a580fc9e5878p-10, 0x1.83eac0bdcafcbp-10},
    {119, 0x1p+0, 0x1.6db6db6db6db7p+0},
    {41, 0x1.4924924924925p+0, 0x1.db6db6db6db6ep+0},
    {164, 0x1.7496d687860d2p-10, 0x1.a50af10e6396fp-10},
    {237, 0x1.4924924924925p+0, 0x1.b6db6db6db6dbp+0},
    {43, 0x1p+0, 0x1.4924924924925p+0},
    {25, 0x1.5040cd29d0549p-10, 0x1.a6599261356fcp-10},
    {252, 0x1.2492492492492p+0, 0x1.6db6db6db6db7p+0},
  };
  struct ps_rng r;
  ps_rng_seed(&r, 12345);
  static double x[400];
  for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
    size_t n = 1 + (size_t)ps_rng_below(&r, 300);
    for (size_t i = 0; i < n; i++) {
      double u = ps_rng_uniform(&r);
      x[i] = t % 3 ? floor(u * 20) / 7 : 1e-3 * (1 + u);
    }
    cr_assert_eq(n, want[t].n, "sample %zu", t);
    double lo, hi;
    cr_assert_eq(ps_stats_median_ci_exact(x, n, 0.95, &lo, &hi), 0);
    cr_expect(lo == want[t].lo && hi == want[t].hi, "sample %zu (n=%zu): [%a, %a], want [%a, %a]",
              t, n, lo, hi, want[t].lo, want[t].hi);
  }
}
