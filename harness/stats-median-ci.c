/* stats-median-ci.c - the exact bootstrap distribution of the sample median and its percentile
 * interval: what infinitely many resamples would give, in closed form, without a random draw.
 *
 * A resample of n values drawn with replacement from x has a median that is an order statistic
 * (odd n) or the mean of two adjacent ones (even n), whose laws are binomial sums over the
 * sample's distinct values s_1 < ... < s_D with cumulative shares F_k = #{x <= s_k} / n:
 *   odd n, m = (n+1)/2:  P(med* <= s_k) = P(Bin(n, F_k) >= m)
 *   even n, j = n/2, a < b:  P(X*(j) = s_a, X*(j+1) = s_b)
 *        = C(n,j) (F_a^j - F_{a-1}^j) ((1-F_{b-1})^(n-j) - (1-F_b)^(n-j))
 *     (the j smallest draws have their maximum at s_a, the other n-j their minimum at s_b), and
 *     P(X*(j) = X*(j+1) = s_a) = P(X*(j) = s_a) - C(n,j) (F_a^j - F_{a-1}^j) (1-F_a)^(n-j).
 * Pairs further apart than the remaining mass allows (below 1e-17 of it) are not visited, so the
 * cost is about D x 40 terms instead of resamples x n draws.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static double log_choose(size_t n, size_t k)
{
  return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

/* P(Bin(n, p) >= m), summing pmf terms outward from m until they no longer matter; lc is
 * log_choose(n, m) (the same for every p of a sample: computed once by the caller). */
static double binom_sf(size_t n, double p, size_t m, double lc)
{
  if (m == 0 || p >= 1)
    return 1;
  if (m > n || p <= 0)
    return 0;
  double lp = log(p), lq = log1p(-p), ratio = p / (1 - p);
  double term = exp(lc + (double)m * lp + (double)(n - m) * lq);
  if ((double)m > (double)n * p) { /* upper tail, terms fall as i grows */
    double sum = 0;
    for (size_t i = m; i <= n && term > sum * 1e-17; i++) {
      sum += term;
      term *= (double)(n - i) / (double)(i + 1) * ratio;
    }
    return sum > 1 ? 1 : sum;
  }
  /* the lower tail P(X <= m-1) is the small side: sum it downward from m-1 */
  double sum = 0;
  term *= (double)m / ((double)(n - m + 1) * ratio); /* pmf(m-1) */
  for (size_t i = m - 1;; i--) {
    sum += term;
    if (i == 0 || term <= sum * 1e-17)
      break;
    term *= (double)i / ((double)(n - i + 1) * ratio);
  }
  return sum > 1 ? 0 : 1 - sum;
}

struct mass {
  double v, p;
};

/* Sorts e[n] by value, stably (equal values keep their order: their masses are then added in
 * the order a stable qsort gave), as a natural merge sort: the entries come as ascending runs
 * (the odd case is one run; the even case one run per row a), so it merges about log2(rows)
 * times instead of log2(n), with the comparison inline. */
static void sort_masses(struct mass *e, size_t n)
{
  if (n < 2)
    return;
  size_t *bound = ps_xmalloc((n + 1) * sizeof *bound), nb = 0; /* run starts, then n */
  bound[nb++] = 0;
  for (size_t i = 1; i < n; i++)
    if (e[i].v < e[i - 1].v)
      bound[nb++] = i;
  bound[nb] = n;
  if (nb == 1) {
    free(bound);
    return;
  }
  struct mass *tmp = ps_xmalloc(n * sizeof *tmp), *src = e, *dst = tmp;
  while (nb > 1) {
    size_t w = 0;
    for (size_t r = 0; r < nb; r += 2) {
      size_t lo = bound[r], mid = bound[r + 1], hi = r + 2 <= nb ? bound[r + 2] : mid;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        dst[k++] = src[j].v < src[i].v ? src[j++] : src[i++];
      while (i < mid)
        dst[k++] = src[i++];
      while (j < hi)
        dst[k++] = src[j++];
      bound[w++] = lo;
    }
    bound[w] = n;
    nb = w;
    struct mass *t = src;
    src = dst;
    dst = t;
  }
  if (src != e)
    memcpy(e, src, n * sizeof *e);
  free(tmp);
  free(bound);
}

struct dist {
  struct mass *e;
  size_t n, cap;
};

static void dist_add(struct dist *d, double v, double p)
{
  if (!(p > 0))
    return;
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 64;
    d->e = ps_xrealloc(d->e, d->cap * sizeof *d->e);
  }
  d->e[d->n++] = (struct mass){v, p};
}

/* The distribution of the bootstrap median of the finite sample x[n] (n >= 1), as (value, mass)
 * entries sorted by value, equal values merged. */
static struct dist median_dist(const double *x, size_t n)
{
  double *s = ps_stats_sorted_copy(x, n);
  double *F = ps_xmalloc(n * sizeof *F); /* F[k]: share <= s[k], over distinct values */
  size_t D = 0;
  for (size_t i = 0; i < n; i++) {
    if (D && s[D - 1] == s[i]) {
      F[D - 1] = (double)(i + 1) / (double)n;
      continue;
    }
    s[D] = s[i];
    F[D++] = (double)(i + 1) / (double)n;
  }
  F[D - 1] = 1;
  struct dist d = {0};
  if (n % 2) {
    size_t m = (n + 1) / 2;
    double prev = 0, lcm = log_choose(n, m);
    for (size_t k = 0; k < D && prev < 1; k++) {
      double cdf = k + 1 == D ? 1 : binom_sf(n, F[k], m, lcm);
      dist_add(&d, s[k], cdf - prev);
      prev = cdf;
    }
  } else {
    size_t j = n / 2, r = n - j;
    double lc = log_choose(n, j), prev_sf = 0;
    double *l1 = ps_xmalloc(D * sizeof *l1); /* l1[k] = log(1 - F_k), -inf for the last */
    for (size_t k = 0; k < D; k++)
      l1[k] = k + 1 == D ? -INFINITY : log1p(-F[k]);
    /* lbv[b] = log B_b = r log(1-F_{b-1}) + log(1 - ((1-F_b)/(1-F_{b-1}))^r): it depends on b
     * alone, so it is computed once per value instead of once per pair (a, b) */
    double *lbv = ps_xmalloc(D * sizeof *lbv);
    lbv[0] = 0;
    for (size_t b = 1; b < D; b++)
      lbv[b] = (double)r * l1[b - 1] + log(-expm1((double)r * (l1[b] - l1[b - 1])));
    for (size_t a = 0; a < D; a++) {
      double Fa = F[a], Fp = a ? F[a - 1] : 0;
      double sf = a + 1 == D ? 1 : binom_sf(n, Fa, j, lc);
      double p_j = sf - prev_sf; /* P(X*(j) = s_a) */
      prev_sf = sf;
      if (!(p_j > 0))
        continue;
      /* log A_a = log C(n,j) + j log Fa + log(1 - (Fp/Fa)^j) */
      double la = lc + (double)j * log(Fa) + (Fp > 0 ? log(-expm1((double)j * log(Fp / Fa))) : 0);
      double l1a = l1[a]; /* log(1 - Fa) */
      double off = exp(la + (double)r * l1a);          /* sum over b > a of the pairs */
      dist_add(&d, s[a], p_j - off > 0 ? p_j - off : 0);
      for (size_t b = a + 1; b < D && off > 0; b++) {
        dist_add(&d, 0.5 * (s[a] + s[b]), exp(la + lbv[b]));
        if ((double)r * (l1[b] - l1a) < -39) /* what is left beyond b: below 1e-17 of the row */
          break;
      }
    }
    free(lbv);
    free(l1);
  }
  free(s);
  free(F);
  sort_masses(d.e, d.n);
  size_t w = 0;
  for (size_t i = 0; i < d.n; i++) {
    if (w && d.e[w - 1].v == d.e[i].v)
      d.e[w - 1].p += d.e[i].p;
    else
      d.e[w++] = d.e[i];
  }
  d.n = w;
  return d;
}

static int all_finite(const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return 0;
  return 1;
}

size_t ps_stats_median_boot_dist(const double *x, size_t n, double **values, double **probs)
{
  *values = *probs = NULL;
  if (!n || !all_finite(x, n))
    return 0;
  struct dist d = median_dist(x, n);
  *values = ps_xmalloc(d.n * sizeof(double));
  *probs = ps_xmalloc(d.n * sizeof(double));
  for (size_t i = 0; i < d.n; i++) {
    (*values)[i] = d.e[i].v;
    (*probs)[i] = d.e[i].p;
  }
  free(d.e);
  return d.n;
}

int ps_stats_median_ci_exact(const double *x, size_t n, double level, double *lo, double *hi)
{
  *lo = *hi = NAN;
  if (!n || !(level > 0 && level < 1) || !all_finite(x, n))
    return -EINVAL;
  struct dist d = median_dist(x, n);
  double total = 0;
  for (size_t i = 0; i < d.n; i++)
    total += d.e[i].p;
  /* lower quantiles: the first value whose cumulative mass reaches the level (a relative 1e-12
   * absorbs the rounding of masses that sum to exactly the level) */
  double a = (1 - level) / 2 * total, b = (1 - (1 - level) / 2) * total, cum = 0;
  for (size_t i = 0; i < d.n; i++) {
    cum += d.e[i].p;
    if (isnan(*lo) && cum >= a * (1 - 1e-12))
      *lo = d.e[i].v;
    if (cum >= b * (1 - 1e-12) || i + 1 == d.n) {
      *hi = d.e[i].v;
      break;
    }
  }
  free(d.e);
  return 0;
}
