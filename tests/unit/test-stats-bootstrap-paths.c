/* test-stats-bootstrap-paths.c - the bootstrap's fast paths for the mean and the median give
 * bit-identical intervals to the generic path (resample into a buffer, then the statistic), on
 * samples with ties, odd and even sizes (powers of two too), and with NaN or -0 (which take the
 * generic path).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Same statistics through other function pointers: the bootstrap cannot recognise them and takes
 * the generic path. */
static double generic_mean(const double *x, size_t n, void *ctx)
{
  (void)ctx;
  return ps_stats_mean(x, n);
}

static double generic_median(const double *x, size_t n, void *ctx)
{
  (void)ctx;
  return ps_stats_median(x, n);
}

static void sample(double *x, size_t n, uint64_t seed, int ties)
{
  struct ps_rng r;
  ps_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = ties ? (double)ps_rng_below(&r, 5) * 0.25 : 1e-3 + ps_rng_uniform(&r) * 1e-2;
}

static void same_bits(double a, double b, const char *what, size_t n, uint64_t seed)
{
  cr_expect(!memcmp(&a, &b, sizeof a), "%s, n=%zu seed=%llu: fast %.17g, generic %.17g", what, n,
            (unsigned long long)seed, a, b);
}

static void compare_paths(const double *x, size_t n, uint64_t seed, size_t resamples)
{
  double flo, fhi, glo, ghi;
  cr_assert_eq(ps_stats_bootstrap(x, n, ps_stat_fn_mean, NULL, resamples, 0.95, seed, &flo, &fhi), 0);
  cr_assert_eq(ps_stats_bootstrap(x, n, generic_mean, NULL, resamples, 0.95, seed, &glo, &ghi), 0);
  same_bits(flo, glo, "mean lo", n, seed);
  same_bits(fhi, ghi, "mean hi", n, seed);
  cr_assert_eq(ps_stats_bootstrap(x, n, ps_stat_fn_median, NULL, resamples, 0.95, seed, &flo, &fhi), 0);
  cr_assert_eq(ps_stats_bootstrap(x, n, generic_median, NULL, resamples, 0.95, seed, &glo, &ghi), 0);
  same_bits(flo, glo, "median lo", n, seed);
  same_bits(fhi, ghi, "median hi", n, seed);
}

Test(stats, bootstrap_fast_paths_equal_generic)
{
  /* powers of two and others: the draws use a reciprocal remainder that must equal r % n */
  static const size_t sizes[] = {1, 2, 3, 4, 7, 30, 64, 101, 200, 1000};
  static double x[1000];
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (uint64_t seed = 1; seed <= 4; seed++)
      for (int ties = 0; ties < 2; ties++) {
        sample(x, sizes[s], seed * 31 + (uint64_t)ties, ties);
        compare_paths(x, sizes[s], seed, 500);
      }
}

Test(stats, bootstrap_fast_paths_equal_generic_on_summary_defaults)
{
  double x[33];
  sample(x, 33, 99, 0);
  compare_paths(x, 33, 12345, 0); /* 0: the default resample count of every summary */
}

Test(stats, bootstrap_constant_samples_equal_generic)
{
  static const double values[] = {0.0, 0.1, 8176.0, 1e-7, 1e308};
  double x[40];
  for (size_t v = 0; v < sizeof values / sizeof *values; v++)
    for (size_t n = 1; n <= 40; n += 13) {
      for (size_t i = 0; i < n; i++)
        x[i] = values[v];
      compare_paths(x, n, 77 + v, 400); /* 1e308 * 40 overflows: NaN interval on both paths */
    }
}

Test(stats, bootstrap_nan_and_negative_zero_take_the_generic_path)
{
  double x[6] = {0.0, -0.0, 1.0, 2.0, -0.0, 3.0};
  compare_paths(x, 6, 5, 300);
  double y[5] = {1.0, NAN, 2.0, 3.0, 4.0};
  double lo, hi, glo, ghi;
  ps_stats_bootstrap(y, 5, ps_stat_fn_mean, NULL, 300, 0.95, 5, &lo, &hi);
  ps_stats_bootstrap(y, 5, generic_mean, NULL, 300, 0.95, 5, &glo, &ghi);
  same_bits(lo, glo, "mean lo with NaN", 5, 5);
  same_bits(hi, ghi, "mean hi with NaN", 5, 5);
}

/* The means of several samples bootstrapped with shared draws give, bit for bit, the intervals
 * each sample gets alone with the same seed; constant, NaN and -0 samples mixed in, and samples
 * equal to earlier ones (their summaries are copied, not recomputed). */
Test(stats, bootstrap_means_shared_draws_equal_single)
{
  enum { K = 8, N = 37 };
  static double x[K][N];
  for (size_t k = 0; k < K; k++)
    sample(x[k], N, 100 + k, k % 2);
  for (size_t i = 0; i < N; i++)
    x[2][i] = 0.5;   /* constant */
  x[3][7] = NAN;     /* generic path */
  x[4][0] = -0.0;    /* generic path */
  memcpy(x[6], x[0], sizeof x[0]); /* equal to an earlier sample */
  memcpy(x[7], x[3], sizeof x[3]); /* equal to an earlier sample with a NaN */
  const double *xs[K];
  for (size_t k = 0; k < K; k++)
    xs[k] = x[k];
  double ci[K][2];
  ps_stats_bootstrap_means(xs, K, N, 0, 0.95, 77, ci);
  for (size_t k = 0; k < K; k++) {
    double lo, hi;
    ps_stats_bootstrap(x[k], N, ps_stat_fn_mean, NULL, 0, 0.95, 77, &lo, &hi);
    same_bits(ci[k][0], lo, "shared mean lo", k, 77);
    same_bits(ci[k][1], hi, "shared mean hi", k, 77);
  }
  struct ps_summary many[K], one;
  ps_summary_compute_many(xs, K, N, 9, many);
  for (size_t k = 0; k < K; k++) {
    ps_summary_compute(x[k], N, 9, &one);
    same_bits(many[k].ci95_mean[0], one.ci95_mean[0], "summary mean lo", k, 9);
    same_bits(many[k].ci95_mean[1], one.ci95_mean[1], "summary mean hi", k, 9);
    same_bits(many[k].ci95_median[0], one.ci95_median[0], "summary median lo", k, 9);
    same_bits(many[k].median, one.median, "summary median", k, 9);
    cr_expect_eq(many[k].noutliers, one.noutliers);
    for (size_t o = 0; o < one.noutliers && o < many[k].noutliers; o++)
      cr_expect_eq(many[k].outliers[o].index, one.outliers[o].index, "outlier %zu of %zu", o, k);
    ps_summary_release(&many[k]);
    ps_summary_release(&one);
  }
}

/* Shared draws for any number of samples (the lanes are summed 2, 4 or more pairs at a time):
 * every interval equals the one its sample gets alone. */
Test(stats, bootstrap_means_every_lane_width)
{
  enum { KMAX = 11, N = 23 };
  static double x[KMAX][N];
  for (size_t k = 0; k < KMAX; k++)
    sample(x[k], N, 300 + k, k % 2);
  const double *xs[KMAX];
  for (size_t k = 0; k < KMAX; k++)
    xs[k] = x[k];
  for (size_t kk = 1; kk <= KMAX; kk++) {
    double ci[KMAX][2];
    ps_stats_bootstrap_means(xs, kk, N, 500, 0.95, 31 + kk, ci);
    for (size_t k = 0; k < kk; k++) {
      double lo, hi;
      ps_stats_bootstrap(x[k], N, ps_stat_fn_mean, NULL, 500, 0.95, 31 + kk, &lo, &hi);
      same_bits(ci[k][0], lo, "lane lo", k, kk);
      same_bits(ci[k][1], hi, "lane hi", k, kk);
    }
  }
}

/* Counts the resampled values (x[i] = i) of every resample: the index draws themselves. */
static double count_draws(const double *x, size_t n, void *ctx)
{
  unsigned *hist = ctx;
  for (size_t i = 0; i < n; i++)
    hist[(size_t)x[i]]++;
  return 0;
}

/* The index draws (32-bit halves, Lemire's multiply-shift with rejection) are uniform: 2000
 * resamples of n values for n = 3, 200 and 1000 (where (2^32 - n) mod n rejections occur), with
 * a chi-square statistic within 5 standard deviations of its mean (a lost or doubled index is
 * far beyond it). */
Test(stats, bootstrap_draws_are_uniform)
{
  static const size_t ns[] = {3, 200, 1000};
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    size_t n = ns[t];
    double *x = calloc(n, sizeof *x);
    unsigned *hist = calloc(n, sizeof *hist);
    for (size_t i = 0; i < n; i++)
      x[i] = (double)i;
    double lo, hi;
    ps_stats_bootstrap(x, n, count_draws, hist, 2000, 0.95, 11 + t, &lo, &hi);
    double expect = 2000.0, chi2 = 0;
    for (size_t i = 0; i < n; i++)
      chi2 += (hist[i] - expect) * (hist[i] - expect) / expect;
    /* chi-square with n-1 degrees of freedom: mean n-1, sd sqrt(2(n-1)); allow 5 sd */
    double limit = (double)(n - 1) + 5 * sqrt(2.0 * (double)(n - 1)) + 10;
    cr_expect(chi2 < limit, "n=%zu: chi-square %.1f above %.1f", n, chi2, limit);
    free(x);
    free(hist);
  }
}

/* The statistic of each resample, from a list (ctx): the interval's order statistics can be
 * checked against a sorted copy. */
struct listed {
  const double *v;
  size_t next;
};

static double next_listed(const double *x, size_t n, void *ctx)
{
  (void)x;
  (void)n;
  struct listed *l = ctx;
  return l->v[l->next++];
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The percentile interval of the resampled statistics is the type-7 quantile of their sorted
 * list, bit for bit, for any count of resamples, with ties and either tail. */
Test(stats, bootstrap_interval_equals_sorted_quantiles)
{
  static const size_t counts[] = {1, 2, 3, 4, 39, 40, 41, 200, 2000, 2001};
  static const double levels[] = {0.95, 0.5, 0.99, 0.01};
  static double v[2001], s[2001];
  struct ps_rng r;
  ps_rng_seed(&r, 4);
  for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
    size_t m = counts[c];
    for (size_t i = 0; i < m; i++) /* ties: a tenth of the values repeat a few */
      v[i] = i % 10 ? ps_rng_uniform(&r) * 100 - 50 : (double)(i % 3);
    memcpy(s, v, m * sizeof *v);
    qsort(s, m, sizeof *s, cmp_dbl);
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
      struct listed ctx = {v, 0};
      double x[2] = {1, 2}, lo, hi;
      cr_assert_eq(ps_stats_bootstrap(x, 2, next_listed, &ctx, m, levels[l], 1, &lo, &hi), 0);
      double a = (1 - levels[l]) / 2;
      same_bits(lo, ps_stats_quantile_sorted(s, m, a), "interval lo", m, (uint64_t)l);
      same_bits(hi, ps_stats_quantile_sorted(s, m, 1 - a), "interval hi", m, (uint64_t)l);
    }
  }
}

/* The index draws made in bulk (eight 16-bit chunks per SSE2 multiply, in uneven pieces as the
 * shared-draw means take them) are the draws made one by one, also where rejections occur
 * (n = 200, 255: a few per thousand 16-bit chunks; n just above 2^31: about half the 32-bit
 * chunks) and for n above 2^32 - 1 (whole 64-bit outputs); all below n. */
Test(stats, bootstrap_bulk_draws_equal_single_draws)
{
  static const uint64_t ns[] = {1, 2, 3, 7, 30, 200, 255, 256, 257, 1000, (1ull << 31) + 1,
                                3000000000ull, (1ull << 32) - 1, (1ull << 32) + 5};
  enum { COUNT = 40001 };
  static size_t one[COUNT], two[COUNT];
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    ps__stats_index_draws(99 + t, ns[t], one, COUNT, 0);
    ps__stats_index_draws(99 + t, ns[t], two, COUNT, 1);
    for (size_t i = 0; i < COUNT; i++) {
      cr_assert_lt(one[i], ns[t], "n=%llu draw %zu", (unsigned long long)ns[t], i);
      cr_assert_eq(two[i], one[i], "n=%llu draw %zu", (unsigned long long)ns[t], i);
    }
  }
}

/* The draws are uniform: over 400 k draws among n, every index's count is within 5 standard
 * deviations of its expectation (a biased mapping, a lost chunk or a lane out of order would
 * show here or in the test above), and the chi-square statistic is below its 99.99% point. */
Test(stats, bootstrap_draws_uniform)
{
  static const uint64_t ns[] = {3, 30, 200, 255, 1000};
  enum { COUNT = 400000 };
  static size_t d[COUNT];
  for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
    uint64_t n = ns[t];
    ps__stats_index_draws(7 + t, n, d, COUNT, 1);
    size_t *c = calloc(n, sizeof *c);
    for (size_t i = 0; i < COUNT; i++)
      c[d[i]]++;
    double e = (double)COUNT / (double)n, sd = sqrt(e * (1 - 1.0 / (double)n)), chi = 0;
    for (uint64_t k = 0; k < n; k++) {
      cr_assert_lt(fabs((double)c[k] - e), 5 * sd, "n=%llu index %llu drawn %zu times",
                   (unsigned long long)n, (unsigned long long)k, c[k]);
      chi += ((double)c[k] - e) * ((double)c[k] - e) / e;
    }
    /* Wilson-Hilferty: the 99.99% point of chi-square with n - 1 degrees of freedom */
    double df = (double)(n - 1), z = 3.719;
    double crit = df * pow(1 - 2 / (9 * df) + z * sqrt(2 / (9 * df)), 3);
    cr_assert_lt(chi, crit, "n=%llu chi-square %.1f", (unsigned long long)n, chi);
    free(c);
  }
}
