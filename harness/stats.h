/* stats.h - descriptive statistics over plain double arrays: mean, median, stddev, MAD,
 * quantiles, outlier flags (modified z-score, Tukey fences) and a seeded bootstrap.
 *
 * Pure functions, no I/O, no globals: the sweep runner, compare and reports all reuse them.
 * Inputs are never modified (functions that sort work on a private copy).
 */
#ifndef PERFSWEEP_STATS_H
#define PERFSWEEP_STATS_H

#include <stddef.h>
#include <stdint.h>

/* ---- seeded random numbers (splitmix64): same seed, same sequence on every machine ---- */
struct ps_rng {
  uint64_t state;
};
void ps_rng_seed(struct ps_rng *rng, uint64_t seed);
uint64_t ps_rng_next(struct ps_rng *rng);
/* Uniform integer in [0, n); n must be > 0. Unbiased (rejection sampling). */
uint64_t ps_rng_below(struct ps_rng *rng, uint64_t n);
/* Uniform double in [0, 1). */
double ps_rng_uniform(struct ps_rng *rng);
/* Fisher-Yates shuffle of n elements of size `size` in place. */
void ps_rng_shuffle(struct ps_rng *rng, void *base, size_t n, size_t size);

/* ---- single statistics; all return NAN for n == 0 (stddev: n < 2) ---- */
double ps_stats_mean(const double *x, size_t n);
/* Sample standard deviation (n - 1 in the denominator). */
double ps_stats_stddev(const double *x, size_t n);
double ps_stats_median(const double *x, size_t n);
/* Median absolute deviation from the median, unscaled (multiply by 1.4826 for a sigma). */
double ps_stats_mad(const double *x, size_t n);
double ps_stats_min(const double *x, size_t n);
double ps_stats_max(const double *x, size_t n);
/* Quantile q in [0,1] of an ASCENDING sorted array, linear interpolation between order
 * statistics (Hyndman-Fan type 7, the default of R and numpy). */
double ps_stats_quantile_sorted(const double *sorted, size_t n, double q);
/* Same on an unsorted array (sorts a copy). */
double ps_stats_quantile(const double *x, size_t n, double q);
/* Ascending malloc'd copy of x; the caller frees. Never NULL (dies on exhaustion). */
double *ps_stats_sorted_copy(const double *x, size_t n);

/* ---- outliers: flagged, never dropped ---- */
enum ps_tukey { PS_TUKEY_NONE = 0, PS_TUKEY_MILD = 1, PS_TUKEY_FAR = 2 };
#define PS_STATS_ZSCORE_LIMIT 3.5 /* Iglewicz & Hoaglin */

struct ps_outlier {
  size_t index;       /* position in the input array */
  double value;
  double zscore;      /* modified z-score 0.6745 (x - median) / MAD */
  enum ps_tukey tukey; /* outside Q1/Q3 -/+ 1.5 IQR (mild) or 3 IQR (far); needs n >= 4 */
};
/* Modified z-score of every element into z[n]. When MAD is 0 it falls back to the mean
 * absolute deviation (z = (x - median) / (1.2533 meanAD)); all zero when that is 0 too. */
void ps_stats_zscores(const double *x, size_t n, double *z);
/* Flags the elements with |z| > PS_STATS_ZSCORE_LIMIT or outside the Tukey fences. Returns the
 * count and a malloc'd array in *out (NULL when none); the caller frees *out. */
size_t ps_stats_outliers(const double *x, size_t n, struct ps_outlier **out);

/* ---- bootstrap confidence intervals (percentile method), deterministic with a seed ---- */
typedef double (*ps_stat_fn)(const double *x, size_t n, void *ctx);
typedef double (*ps_stat2_fn)(const double *x, size_t nx, const double *y, size_t ny, void *ctx);
#define PS_STATS_RESAMPLES 2000

/* Resamples x with replacement `resamples` times (0 = PS_STATS_RESAMPLES), applies fn, and sets
 * [*lo, *hi] to the central `level` (e.g. 0.95) interval. Returns 0, or -EINVAL when n == 0 or
 * level is not in (0,1) (then *lo = *hi = NAN). Non-finite statistics of resamples are skipped. */
int ps_stats_bootstrap(const double *x, size_t n, ps_stat_fn fn, void *ctx, size_t resamples,
                       double level, uint64_t seed, double *lo, double *hi);
/* Two-sample version: x and y are resampled independently, fn compares them (e.g. the relative
 * change of medians). Same returns. */
int ps_stats_bootstrap2(const double *x, size_t nx, const double *y, size_t ny, ps_stat2_fn fn,
                        void *ctx, size_t resamples, double level, uint64_t seed, double *lo,
                        double *hi);
/* The percentile interval of the EXACT bootstrap distribution of the median (the limit of
 * infinitely many resamples; stats-median-ci.c): deterministic, no seed, no draws. Returns 0, or
 * -EINVAL when n == 0, level is not in (0,1) or a value is not finite (then *lo = *hi = NAN). */
int ps_stats_median_ci_exact(const double *x, size_t n, double level, double *lo, double *hi);
/* That distribution itself: its support sorted ascending in *values and the masses in *probs
 * (both malloc'd, the caller frees them). Returns the count, 0 when n == 0 or a value is not
 * finite. For tests and reports. */
size_t ps_stats_median_boot_dist(const double *x, size_t n, double **values, double **probs);
/* Internal, for tests: `count` bootstrap index draws in [0, n) from seed, one at a time or
 * (bulk) in pieces as the shared-draw means make them: both give the same sequence. */
void ps__stats_index_draws(uint64_t seed, uint64_t n, size_t *idx, size_t count, int bulk);
/* Adapters usable as ps_stat_fn. */
double ps_stat_fn_mean(const double *x, size_t n, void *ctx);
double ps_stat_fn_median(const double *x, size_t n, void *ctx);

/* ---- everything at once, the "stats.<metric>" object of docs/results-schema.md ---- */
#define PS_STATS_CV_WARN 0.10 /* coefficient of variation above which a cell is called noisy */
struct ps_summary {
  size_t n;
  double mean, median, stddev, mad, min, max;
  double p90, p99;       /* NAN when n < 10 / n < 100 */
  double cv;             /* stddev / mean; NAN when mean is 0 or n < 2 */
  double ci95_mean[2];   /* bootstrap; NAN when n == 0 */
  double ci95_median[2];
  size_t noutliers;
  struct ps_outlier *outliers; /* malloc'd, owned by the summary */
};
/* The mean's bootstrap interval of k samples of the same n values at once (e.g. the metrics of
 * the same runs): one index draw serves all k, so the cost is that of one sample plus k adds;
 * ci[i] is bit for bit what ps_stats_bootstrap(xs[i], n, ps_stat_fn_mean, NULL, resamples,
 * level, seed, ..) gives. NAN pairs when n == 0 or level is not in (0,1). Cannot fail. */
void ps_stats_bootstrap_means(const double *const *xs, size_t k, size_t n, size_t resamples,
                              double level, uint64_t seed, double (*ci)[2]);
/* Fills *s from x[n] (n may be 0: everything NAN). Bootstrap seeded with `seed`.
 * Free with ps_summary_release. Cannot fail. */
void ps_summary_compute(const double *x, size_t n, uint64_t seed, struct ps_summary *s);
/* ps_summary_compute of k samples of n values each into out[k], the means' intervals drawn
 * together (ps_stats_bootstrap_means): out[i] equals ps_summary_compute(xs[i], n, seed). */
void ps_summary_compute_many(const double *const *xs, size_t k, size_t n, uint64_t seed,
                             struct ps_summary *out);
void ps_summary_release(struct ps_summary *s);

#endif
