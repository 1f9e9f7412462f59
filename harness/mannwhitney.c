/* mannwhitney.c - the Mann-Whitney U test: ranks with average ties, the exact null distribution
 * by the counting recurrence for small untied samples, the normal approximation with tie and
 * continuity correction otherwise. Never prints; returns -EINVAL on unusable input.
 */
#include "mannwhitney.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

struct mw_item {
  double v;
  int from_a;
};

static int mw_cmp(const void *x, const void *y)
{
  double a = ((const struct mw_item *)x)->v, b = ((const struct mw_item *)y)->v;
  return (a > b) - (a < b);
}

double mw_min_p(size_t na, size_t nb)
{
  /* C(na+nb, na) computed as a product in doubles: exact enough for a guard. */
  double c = 1.0;
  size_t k = na < nb ? na : nb, n = na + nb;
  for (size_t i = 1; i <= k; i++)
    c = c * (double)(n - k + i) / (double)i;
  double p = 2.0 / c;
  return p > 1.0 ? 1.0 : p;
}

/* Counts of arrangements with U = u for sizes (m, n): f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u).
 * Filled by rows of a rolling table over n, in doubles (counts up to C(100,50) fit). */
double mw_exact_p(double u, size_t na, size_t nb)
{
  if (na == 0 || nb == 0 || na * nb > MW_EXACT_MAX_CELLS)
    return -1;
  if (na > nb) { /* the distribution is symmetric in the sizes: keep the table small */
    size_t t = na;
    na = nb;
    nb = t;
  }
  size_t maxu = na * nb;
  /* table[m][u] for current n; iterate n from 0..nb, m from 0..na. */
  double *prev = calloc((na + 1) * (maxu + 1), sizeof(double));
  double *cur = calloc((na + 1) * (maxu + 1), sizeof(double));
  if (!prev || !cur) {
    free(prev);
    free(cur);
    return -1;
  }
#define T(tab, m, uu) tab[(m) * (maxu + 1) + (uu)]
  /* n = 0: only U = 0, one arrangement for every m. */
  for (size_t m = 0; m <= na; m++)
    T(prev, m, 0) = 1.0;
  for (size_t n = 1; n <= nb; n++) {
    for (size_t m = 0; m <= na; m++)
      for (size_t uu = 0; uu <= maxu; uu++) {
        double v = T(prev, m, uu); /* f(m, n-1, u) */
        if (m > 0 && uu >= n)
          v += T(cur, m - 1, uu - n); /* f(m-1, n, u-n) */
        T(cur, m, uu) = v;
      }
    double *t = prev;
    prev = cur;
    cur = t;
  }
  double total = 0, tail = 0;
  for (size_t uu = 0; uu <= maxu; uu++) {
    total += T(prev, na, uu);
    if ((double)uu <= u + 1e-9)
      tail += T(prev, na, uu);
  }
#undef T
  free(prev);
  free(cur);
  double p = 2.0 * tail / total;
  return p > 1.0 ? 1.0 : p;
}

int mw_test(const double *a, size_t na, const double *b, size_t nb, struct mw_result *r)
{
  if (na == 0 || nb == 0)
    return -EINVAL;
  size_t n = na + nb;
  struct mw_item *it = malloc(n * sizeof(*it));
  if (!it)
    return -ENOMEM;
  for (size_t i = 0; i < na; i++) {
    if (isnan(a[i]))
      goto bad;
    it[i] = (struct mw_item){a[i], 1};
  }
  for (size_t j = 0; j < nb; j++) {
    if (isnan(b[j]))
      goto bad;
    it[na + j] = (struct mw_item){b[j], 0};
  }
  qsort(it, n, sizeof(*it), mw_cmp);

  /* Average ranks; tie term sum(t^3 - t). */
  double rank_a = 0, tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && it[j + 1].v == it[i].v)
      j++;
    double avg = (double)(i + j + 2) / 2.0; /* ranks are 1-based */
    double t = (double)(j - i + 1);
    tie_term += t * t * t - t;
    for (size_t k = i; k <= j; k++)
      if (it[k].from_a)
        rank_a += avg;
    i = j + 1;
  }
  free(it);

  double dna = (double)na, dnb = (double)nb, dn = (double)n;
  struct mw_result out = {0};
  out.u1 = rank_a - dna * (dna + 1) / 2.0;
  out.u2 = dna * dnb - out.u1;
  out.ties = tie_term > 0;
  double u = out.u1 < out.u2 ? out.u1 : out.u2;

  if (!out.ties && na * nb <= MW_EXACT_MAX_CELLS) {
    out.method = MW_EXACT;
    out.p = mw_exact_p(u, na, nb);
    if (out.p < 0)
      return -ENOMEM;
  } else {
    out.method = MW_NORMAL;
    double mean = dna * dnb / 2.0;
    double var = dna * dnb / 12.0 * ((dn + 1) - tie_term / (dn * (dn - 1)));
    if (var <= 0) { /* every value tied: no evidence of a difference */
      out.z = 0;
      out.p = 1.0;
    } else {
      double d = fabs(out.u1 - mean) - 0.5; /* continuity correction */
      if (d < 0)
        d = 0;
      out.z = d / sqrt(var);
      out.p = erfc(out.z / sqrt(2.0));
      if (out.p > 1.0)
        out.p = 1.0;
    }
  }
  *r = out;
  return 0;
bad:
  free(it);
  return -EINVAL;
}
