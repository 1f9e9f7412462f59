/* stepdetect.c - change points from windowed medians: a split at k is a candidate when the
 * medians of up to 2L points either side differ beyond the threshold and beyond `sigmas` robust
 * sigmas of the noise (from first differences), y[k] is already on the new level, and two thirds
 * of each window sit on their own side of the midpoint. The largest candidates win, at least L
 * apart. A lone outlier moves no median, so it never makes a step.
 */
#include <math.h>
#include <stdlib.h>

#include "stats.h"
#include "stepdetect.h"

void stepdetect_opts_init(struct stepdetect_opts *o)
{
  *o = (struct stepdetect_opts){.min_segment = 3, .threshold = 0.05, .sigmas = 3.0};
}

/* Fraction of y on the side of mid where `level` lies. */
static double step_side_share(const double *y, size_t n, double mid, double level)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += level > mid ? y[i] > mid : y[i] < mid;
  return n ? (double)k / (double)n : 0;
}

/* Robust sigma of the noise from first differences: a step is one outlying difference, so it
 * barely moves their MAD. 1.4826 MAD / sqrt(2). */
static double step_noise(const double *y, size_t n)
{
  if (n < 3)
    return 0;
  double *d = malloc((n - 1) * sizeof(double));
  if (!d)
    return INFINITY;
  for (size_t i = 1; i < n; i++)
    d[i - 1] = y[i] - y[i - 1];
  double mad = ps_stats_mad(d, n - 1);
  free(d);
  return 1.4826 * mad / sqrt(2.0);
}

struct step_cand {
  size_t k;
  double score;
  int taken;
};

/* A candidate split at k: windows of up to 2L points either side (stopping at the ends). */
static int step_candidate(const double *y, size_t n, size_t k, size_t L, double noise,
                          const struct stepdetect_opts *o, double *score)
{
  size_t w = 2 * L, lo = k >= w ? k - w : 0, hi = k + w <= n ? k + w : n;
  if (k - lo < L || hi - k < L)
    return 0;
  double ml = ps_stats_median(y + lo, k - lo), mr = ps_stats_median(y + k, hi - k);
  double mid = (ml + mr) / 2.0, diff = fabs(mr - ml);
  if (ml == mr)
    return 0;
  /* The change begins at k: y[k] is on the new level, y[k-1] still on the old one. */
  if ((mr > ml) ? !(y[k] > mid && y[k - 1] < mid) : !(y[k] < mid && y[k - 1] > mid))
    return 0;
  if (step_side_share(y + lo, k - lo, mid, ml) < 2.0 / 3.0 ||
      step_side_share(y + k, hi - k, mid, mr) < 2.0 / 3.0)
    return 0;
  if ((ml != 0 && diff / fabs(ml) <= o->threshold) || diff <= o->sigmas * noise)
    return 0;
  *score = diff;
  return 1;
}

static int step_cand_cmp(const void *a, const void *b)
{
  double x = ((const struct step_cand *)a)->score, y = ((const struct step_cand *)b)->score;
  return (x < y) - (x > y);
}

static int step_index_cmp(const void *a, const void *b)
{
  size_t x = ((const struct step *)a)->index, y = ((const struct step *)b)->index;
  return (x > y) - (x < y);
}

size_t stepdetect(const double *y, size_t n, const struct stepdetect_opts *o, struct step *out,
                  size_t max)
{
  struct stepdetect_opts d;
  if (!o) {
    stepdetect_opts_init(&d);
    o = &d;
  }
  size_t L = o->min_segment ? o->min_segment : 1, nc = 0, count = 0;
  if (n < 2 * L || max == 0)
    return 0;
  double noise = step_noise(y, n);
  struct step_cand *c = malloc(n * sizeof(*c));
  if (!c)
    return 0;
  for (size_t k = L; k + L <= n; k++) {
    double score;
    if (step_candidate(y, n, k, L, noise, o, &score))
      c[nc++] = (struct step_cand){k, score, 0};
  }
  /* Greedy: the largest steps first, no two closer than L points. */
  qsort(c, nc, sizeof(*c), step_cand_cmp);
  for (size_t i = 0; i < nc && count < max; i++) {
    int near = 0;
    for (size_t j = 0; j < count && !near; j++) {
      size_t a = out[j].index, b = c[i].k;
      near = (a > b ? a - b : b - a) < L;
    }
    if (!near)
      out[count++] = (struct step){.index = c[i].k};
  }
  free(c);
  qsort(out, count, sizeof(*out), step_index_cmp);
  /* Levels are the medians of the final segments between steps. */
  for (size_t j = 0; j < count; j++) {
    size_t a = j ? out[j - 1].index : 0, k = out[j].index, b = j + 1 < count ? out[j + 1].index : n;
    out[j].before = ps_stats_median(y + a, k - a);
    out[j].after = ps_stats_median(y + k, b - k);
    out[j].change = out[j].before != 0 ? (out[j].after - out[j].before) / fabs(out[j].before) : NAN;
  }
  return count;
}
