/* stats.c - descriptive statistics, outlier flags and seeded bootstrap over double arrays.
 *
 * Pure computation: no I/O, no globals. See stats.h for the contracts.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <emmintrin.h>

#include "util.h"

/* ---------------------------------------------------------------- random numbers */

void ps_rng_seed(struct ps_rng *rng, uint64_t seed) { rng->state = seed; }

static inline uint64_t rng_step(struct ps_rng *rng)
{
  uint64_t z = (rng->state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t ps_rng_next(struct ps_rng *rng) { return rng_step(rng); }

/* ps_rng_below with the rejection limit of n computed once by the caller (same sequence). */
static inline size_t rng_below_lim(struct ps_rng *rng, uint64_t n, uint64_t limit)
{
  uint64_t r;
  do
    r = rng_step(rng);
  while (r >= limit);
  return (size_t)(r % n);
}

static inline uint64_t rng_limit(uint64_t n) { return UINT64_MAX - UINT64_MAX % n; }

/* The bootstrap's index draws. The seeded splitmix64 stream is cut into w-bit chunks, the low
 * bits of each 64-bit output first: w = 16 for n <= 256 (a cell's runs: four draws per output),
 * w = 32 for larger n. A chunk c maps to [0, n) by Lemire's multiply-shift, (c * n) >> w, and is
 * rejected when the low w bits of c * n fall below 2^w mod n: unbiased, and at most n / 2^w of
 * the chunks are rejected (0.4% for w = 16). A chunk wider than the bits left of the current
 * output starts a new output. n above 2^32 - 1 (never a sweep) takes whole 64-bit outputs,
 * rejection-sampled and reduced modulo n. The sequence is fixed by the seed: the same on every
 * machine ("Fast random integer generation in an interval", Lemire 2019). */
struct boot_src {
  struct ps_rng rng;
  uint64_t bits; /* what is left of the current output, the next chunk in the low bits */
  unsigned nbits;
};

static void boot_src_init(struct boot_src *s, uint64_t seed)
{
  ps_rng_seed(&s->rng, seed);
  s->bits = 0;
  s->nbits = 0;
}

struct rng_draw {
  uint64_t n, limit; /* limit: the 64-bit rejection limit, for n > 2^32 - 1 only */
  uint32_t thresh;   /* 2^w mod n */
  uint32_t mask;     /* 2^w - 1 */
  unsigned w;        /* chunk bits: 16, 32, or 0 for whole outputs (n > 2^32 - 1) */
};

static struct rng_draw rng_draw_init(uint64_t n)
{
  struct rng_draw d = {.n = n};
  if (n > UINT32_MAX) {
    d.limit = rng_limit(n);
    return d;
  }
  d.w = n <= 256 ? 16 : 32;
  d.mask = (uint32_t)((1ull << d.w) - 1);
  d.thresh = (uint32_t)((1ull << d.w) % n);
  return d;
}

static inline __attribute__((always_inline)) uint32_t boot_chunk(struct boot_src *s, unsigned w,
                                                                 uint32_t mask)
{
  if (s->nbits < w) {
    s->bits = rng_step(&s->rng);
    s->nbits = 64;
  }
  uint32_t c = (uint32_t)s->bits & mask;
  s->bits >>= w;
  s->nbits -= w;
  return c;
}

static inline __attribute__((always_inline)) size_t rng_draw(struct boot_src *s,
                                                              const struct rng_draw *d)
{
  if (__builtin_expect(!d->w, 0))
    return rng_below_lim(&s->rng, d->n, d->limit);
  uint64_t m;
  do
    m = (uint64_t)boot_chunk(s, d->w, d->mask) * d->n;
  while (((uint32_t)m & d->mask) < d->thresh);
  return (size_t)(m >> d->w);
}

/* The next draws, the same as calls of rng_draw, into idx: at least count of them and at most
 * count + 7 (16-bit chunks are mapped eight at a time, two outputs per SSE2 multiply: c * n's
 * high halves are the indices, its low halves say which to reject). Returns how many. */
static size_t boot_fill(struct boot_src *s, const struct rng_draw *d, uint32_t *idx, size_t count)
{
  size_t k = 0;
  if (d->w != 16) {
    for (; k < count; k++)
      idx[k] = (uint32_t)rng_draw(s, d);
    return k;
  }
  const uint32_t n = (uint32_t)d->n, thresh = d->thresh;
  while (s->nbits && k < count) { /* the chunks left of the current output, one by one */
    uint32_t m = boot_chunk(s, 16, 0xffff) * n;
    if ((m & 0xffff) >= thresh)
      idx[k++] = m >> 16;
  }
  const __m128i vn = _mm_set1_epi16((short)n), vt = _mm_set1_epi16((short)thresh);
  const __m128i zero = _mm_setzero_si128();
  while (k < count) {
    uint64_t r1 = rng_step(&s->rng), r2 = rng_step(&s->rng);
    __m128i v = _mm_set_epi64x((long long)r2, (long long)r1); /* lane 0: r1's low chunk */
    __m128i hi = _mm_mulhi_epu16(v, vn), lo = _mm_mullo_epi16(v, vn);
    __m128i ok = _mm_cmpeq_epi16(_mm_subs_epu16(vt, lo), zero); /* lo >= thresh */
    if (__builtin_expect(_mm_movemask_epi8(ok) == 0xffff, 1)) {
      _mm_storeu_si128((__m128i *)(idx + k), _mm_unpacklo_epi16(hi, zero));
      _mm_storeu_si128((__m128i *)(idx + k + 4), _mm_unpackhi_epi16(hi, zero));
      k += 8;
      continue;
    }
    uint64_t rs[2] = {r1, r2}; /* a rejection among the eight: in order, one by one */
    for (int o = 0; o < 2; o++)
      for (int c = 0; c < 4; c++) {
        uint32_t m = (uint32_t)((rs[o] >> (16 * c)) & 0xffff) * n;
        if ((m & 0xffff) >= thresh)
          idx[k++] = m >> 16;
      }
  }
  return k;
}

void ps__stats_index_draws(uint64_t seed, uint64_t n, size_t *idx, size_t count, int bulk)
{
  struct boot_src s;
  boot_src_init(&s, seed);
  struct rng_draw d = rng_draw_init(n);
  if (!bulk) {
    for (size_t j = 0; j < count; j++)
      idx[j] = rng_draw(&s, &d);
    return;
  }
  uint32_t *buf = ps_xmalloc((count + 64) * sizeof *buf);
  size_t j = 0;
  while (j < count) { /* in uneven pieces, as the means take them */
    size_t want = (count - j) < 37 ? count - j : 37;
    size_t got = boot_fill(&s, &d, buf + j, want);
    j += got;
  }
  for (size_t i = 0; i < count; i++)
    idx[i] = buf[i];
  free(buf);
}

uint64_t ps_rng_below(struct ps_rng *rng, uint64_t n) { return rng_below_lim(rng, n, rng_limit(n)); }

double ps_rng_uniform(struct ps_rng *rng) { return (ps_rng_next(rng) >> 11) * 0x1.0p-53; }

void ps_rng_shuffle(struct ps_rng *rng, void *base, size_t n, size_t size)
{
  unsigned char *b = base, tmp[256];
  if (size > sizeof(tmp) || n < 2)
    return;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)ps_rng_below(rng, i + 1);
    if (j == i)
      continue;
    memcpy(tmp, b + i * size, size);
    memcpy(b + i * size, b + j * size, size);
    memcpy(b + j * size, tmp, size);
  }
}

/* ---------------------------------------------------------------- single statistics */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double *ps_stats_sorted_copy(const double *x, size_t n)
{
  double *c = ps_xmalloc((n ? n : 1) * sizeof(double));
  if (n)
    memcpy(c, x, n * sizeof(double));
  qsort(c, n, sizeof(double), cmp_double);
  return c;
}

double ps_stats_mean(const double *x, size_t n)
{
  if (!n)
    return NAN;
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  return s / (double)n;
}

double ps_stats_stddev(const double *x, size_t n)
{
  if (n < 2)
    return NAN;
  double m = ps_stats_mean(x, n), s = 0;
  for (size_t i = 0; i < n; i++)
    s += (x[i] - m) * (x[i] - m);
  return sqrt(s / (double)(n - 1));
}

double ps_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
  if (!n || !(q >= 0 && q <= 1))
    return NAN;
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  if (lo + 1 >= n)
    return sorted[n - 1];
  return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

/* Puts the k-th smallest of a[0..n) at a[k], smaller ones before, larger after (quickselect,
 * median-of-three pivot, expected O(n)). */
static void select_kth(double *a, size_t n, size_t k)
{
  size_t lo = 0, hi = n - 1;
  while (hi > lo) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) { double t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
    if (a[hi] < a[lo]) { double t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
    if (a[hi] < a[mid]) { double t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
    double pivot = a[mid];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot)
        i++;
      while (a[j] > pivot)
        j--;
      if (i <= j) {
        double t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        if (j == 0)
          break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return;
  }
}

/* Type-7 quantile of a scratch array (reordered). */
static double quantile_inplace(double *a, size_t n, double q)
{
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  select_kth(a, n, lo);
  double v = a[lo];
  if (lo + 1 >= n || h == (double)lo)
    return v;
  double next = a[lo + 1];
  for (size_t i = lo + 2; i < n; i++)
    if (a[i] < next)
      next = a[i];
  return v + (h - (double)lo) * (next - v);
}

double ps_stats_quantile(const double *x, size_t n, double q)
{
  if (!n || !(q >= 0 && q <= 1))
    return NAN;
  double buf[256];
  double *c = n <= 256 ? buf : ps_xmalloc(n * sizeof(double));
  memcpy(c, x, n * sizeof(double));
  double r = quantile_inplace(c, n, q);
  if (c != buf)
    free(c);
  return r;
}

double ps_stats_median(const double *x, size_t n) { return ps_stats_quantile(x, n, 0.5); }

double ps_stats_mad(const double *x, size_t n)
{
  if (!n)
    return NAN;
  double med = ps_stats_median(x, n);
  double *d = ps_xmalloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    d[i] = fabs(x[i] - med);
  double r = ps_stats_median(d, n);
  free(d);
  return r;
}

double ps_stats_min(const double *x, size_t n)
{
  if (!n)
    return NAN;
  double m = x[0];
  for (size_t i = 1; i < n; i++)
    if (x[i] < m)
      m = x[i];
  return m;
}

double ps_stats_max(const double *x, size_t n)
{
  if (!n)
    return NAN;
  double m = x[0];
  for (size_t i = 1; i < n; i++)
    if (x[i] > m)
      m = x[i];
  return m;
}

/* ---------------------------------------------------------------- outliers */

void ps_stats_zscores(const double *x, size_t n, double *z)
{
  if (!n)
    return;
  double med = ps_stats_median(x, n), mad = ps_stats_mad(x, n);
  double scale = 0;
  if (mad > 0) {
    scale = mad / 0.6745;
  } else {
    double mean_ad = 0;
    for (size_t i = 0; i < n; i++)
      mean_ad += fabs(x[i] - med);
    mean_ad /= (double)n;
    scale = 1.253314 * mean_ad;
  }
  for (size_t i = 0; i < n; i++)
    z[i] = scale > 0 ? (x[i] - med) / scale : 0.0;
}

size_t ps_stats_outliers(const double *x, size_t n, struct ps_outlier **out)
{
  *out = NULL;
  if (n < 3)
    return 0;
  double *z = ps_xmalloc(n * sizeof(double));
  ps_stats_zscores(x, n, z);
  double *s = ps_stats_sorted_copy(x, n);
  double q1 = ps_stats_quantile_sorted(s, n, 0.25), q3 = ps_stats_quantile_sorted(s, n, 0.75);
  double iqr = q3 - q1;
  free(s);
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    enum ps_tukey t = PS_TUKEY_NONE;
    if (n >= 4) {
      if (x[i] < q1 - 3 * iqr || x[i] > q3 + 3 * iqr)
        t = PS_TUKEY_FAR;
      else if (x[i] < q1 - 1.5 * iqr || x[i] > q3 + 1.5 * iqr)
        t = PS_TUKEY_MILD;
    }
    if (t == PS_TUKEY_NONE && !(fabs(z[i]) > PS_STATS_ZSCORE_LIMIT))
      continue;
    *out = ps_xrealloc(*out, (count + 1) * sizeof(**out));
    (*out)[count++] = (struct ps_outlier){.index = i, .value = x[i], .zscore = z[i], .tukey = t};
  }
  free(z);
  return count;
}

/* ---------------------------------------------------------------- bootstrap */

double ps_stat_fn_mean(const double *x, size_t n, void *ctx)
{
  (void)ctx;
  return ps_stats_mean(x, n);
}

double ps_stat_fn_median(const double *x, size_t n, void *ctx)
{
  (void)ctx;
  return ps_stats_median(x, n);
}

/* Puts the k-th smallest of a[left..right] at a[k], smaller ones before, larger after, by
 * Floyd and Rivest's SELECT (CACM 1975): a pivot chosen from a recursively selected sample
 * lands next to k, so it takes about n + min(k, n - k) comparisons where quickselect takes 2-3 n
 * (the bootstrap interval selects its 2.5% and 97.5% points among 2000 values per metric). */
static void select_fr(double *a, ptrdiff_t left, ptrdiff_t right, ptrdiff_t k)
{
  while (right > left) {
    if (right - left > 600) {
      double n = (double)(right - left + 1), i = (double)(k - left + 1), z = log(n);
      double s = 0.5 * exp(2 * z / 3), sd = 0.5 * sqrt(z * s * (n - s) / n);
      if (i < n / 2)
        sd = -sd;
      ptrdiff_t nl = (ptrdiff_t)((double)k - i * s / n + sd);
      ptrdiff_t nr = (ptrdiff_t)((double)k + (n - i) * s / n + sd);
      select_fr(a, nl > left ? nl : left, nr < right ? nr : right, k);
    }
    double t = a[k], tmp;
    ptrdiff_t i = left, j = right;
#define SWAP(x, y) (tmp = a[x], a[x] = a[y], a[y] = tmp)
    SWAP(left, k);
    if (a[right] > t)
      SWAP(right, left);
    while (i < j) {
      SWAP(i, j);
      i++;
      j--;
      while (a[i] < t)
        i++;
      while (a[j] > t)
        j--;
    }
    if (a[left] == t) {
      SWAP(left, j);
    } else {
      j++;
      SWAP(j, right);
    }
#undef SWAP
    if (j <= k)
      left = j + 1;
    if (k <= j)
      right = j - 1;
  }
}

/* ps_stats_quantile_sorted(sorted copy of a, n, q), found by selection (a is reordered): the
 * same two order statistics and the same arithmetic, without sorting all of a. */
static double quantile_as_sorted(double *a, size_t n, double q)
{
  if (!n || !(q >= 0 && q <= 1))
    return NAN;
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  select_fr(a, 0, (ptrdiff_t)n - 1, (ptrdiff_t)lo);
  if (lo + 1 >= n)
    return a[lo];
  double next = a[lo + 1];
  for (size_t i = lo + 2; i < n; i++)
    if (a[i] < next)
      next = a[i];
  return a[lo] + (h - (double)lo) * (next - a[lo]);
}

/* Percentile interval of the m finite bootstrap values (reordered). */
static void interval(double *vals, size_t m, double level, double *lo, double *hi)
{
  if (!m) {
    *lo = *hi = NAN;
    return;
  }
  double a = (1 - level) / 2;
  *lo = quantile_as_sorted(vals, m, a);
  *hi = quantile_as_sorted(vals, m, 1 - a);
}

static void resample(struct boot_src *src, const struct rng_draw *d, const double *x, size_t n,
                     double *buf)
{
  for (size_t j = 0; j < n; j++)
    buf[j] = x[rng_draw(src, d)];
}

/* Fast paths of the bootstrap for the two statistics of every summary (mean and median of each
 * metric of each cell: the bulk of a sweep's final CPU time). They draw the same indices in the
 * same order as resample() and give bit-identical values: the mean adds the drawn values in draw
 * order; the median counts how often each rank of the sorted sample is drawn and reads the
 * middle order statistics off the counts (what select_kth finds in a copy, without moving data).
 * Only for finite samples without -0 (quickselect's order is undefined with NaN, and of 0 and -0
 * it may pick either). */
struct boot_median {
  double *sorted;  /* x sorted */
  size_t *rank;    /* rank[i]: position of x[i] in sorted */
  uint32_t *count; /* draws per rank, zeroed per resample */
};

struct rank_ent {
  double v;
  size_t i;
};

static int cmp_rank_ent(const void *a, const void *b)
{
  const struct rank_ent *x = a, *y = b;
  if (x->v != y->v)
    return (x->v > y->v) - (x->v < y->v);
  return (x->i > y->i) - (x->i < y->i);
}

static void boot_median_init(struct boot_median *b, const double *x, size_t n)
{
  struct rank_ent *e = ps_xmalloc(n * sizeof *e);
  for (size_t i = 0; i < n; i++)
    e[i] = (struct rank_ent){x[i], i};
  qsort(e, n, sizeof *e, cmp_rank_ent);
  b->sorted = ps_xmalloc(n * sizeof *b->sorted);
  b->rank = ps_xmalloc(n * sizeof *b->rank);
  b->count = ps_xmalloc(n * sizeof *b->count);
  for (size_t k = 0; k < n; k++) {
    b->sorted[k] = e[k].v;
    b->rank[e[k].i] = k;
  }
  free(e);
}

static void boot_median_free(struct boot_median *b)
{
  free(b->sorted);
  free(b->rank);
  free(b->count);
}

/* The median of one resample, as quantile_inplace(resample, n, 0.5) computes it. */
static double boot_median_one(struct boot_median *b, struct boot_src *rng, size_t n,
                              const struct rng_draw *d)
{
  memset(b->count, 0, n * sizeof *b->count);
  for (size_t j = 0; j < n; j++)
    b->count[b->rank[rng_draw(rng, d)]]++;
  double h = (double)(n - 1) * 0.5;
  size_t lo = (size_t)floor(h);
  size_t k = 0, seen = b->count[0];
  while (seen <= lo)
    seen += b->count[++k];
  double v = b->sorted[k];
  if (lo + 1 >= n || h == (double)lo)
    return v;
  while (seen <= lo + 1)
    seen += b->count[++k];
  double next = b->sorted[k];
  return v + (h - (double)lo) * (next - v);
}

static double boot_mean_one(struct boot_src *rng, const double *x, size_t n,
                            const struct rng_draw *d)
{
  double s = 0;
  for (size_t j = 0; j < n; j++)
    s += x[rng_draw(rng, d)];
  return s / (double)n;
}

static int all_finite(const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]) || (x[i] == 0 && signbit(x[i])))
      return 0;
  return 1;
}

int ps_stats_bootstrap(const double *x, size_t n, ps_stat_fn fn, void *ctx, size_t resamples,
                       double level, uint64_t seed, double *lo, double *hi)
{
  *lo = *hi = NAN;
  if (!n || !(level > 0 && level < 1))
    return -EINVAL;
  if (!resamples)
    resamples = PS_STATS_RESAMPLES;
  struct boot_src rng;
  boot_src_init(&rng, seed);
  struct rng_draw d = rng_draw_init(n);
  double *vals = ps_xmalloc(resamples * sizeof(double));
  size_t m = 0;
  int fast = (fn == ps_stat_fn_mean || fn == ps_stat_fn_median) && all_finite(x, n);
  size_t same = 1;
  while (fast && same < n && x[same] == x[0])
    same++;
  if (fast && same == n) {
    /* a constant sample (sys time 0, the same peak RSS...): every resample is the sample itself,
     * so each of them gives the same value v and the interval of `resamples` copies of v is v
     * (what the draws would give, without drawing) */
    double v = x[0];
    if (fn == ps_stat_fn_mean) {
      double sum = 0;
      for (size_t j = 0; j < n; j++)
        sum += x[0];
      v = sum / (double)n;
    }
    if (isfinite(v))
      *lo = *hi = v;
    free(vals);
    return 0;
  }
  if (fast && fn == ps_stat_fn_mean) {
    for (size_t i = 0; i < resamples; i++) {
      double v = boot_mean_one(&rng, x, n, &d);
      if (isfinite(v))
        vals[m++] = v;
    }
  } else if (fast) {
    struct boot_median b;
    boot_median_init(&b, x, n);
    for (size_t i = 0; i < resamples; i++) {
      double v = boot_median_one(&b, &rng, n, &d);
      if (isfinite(v))
        vals[m++] = v;
    }
    boot_median_free(&b);
  } else {
    double *buf = ps_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < resamples; i++) {
      resample(&rng, &d, x, n, buf);
      double v = fn(buf, n, ctx);
      if (isfinite(v))
        vals[m++] = v;
    }
    free(buf);
  }
  interval(vals, m, level, lo, hi);
  free(vals);
  return 0;
}

int ps_stats_bootstrap2(const double *x, size_t nx, const double *y, size_t ny, ps_stat2_fn fn,
                        void *ctx, size_t resamples, double level, uint64_t seed, double *lo,
                        double *hi)
{
  *lo = *hi = NAN;
  if (!nx || !ny || !(level > 0 && level < 1))
    return -EINVAL;
  if (!resamples)
    resamples = PS_STATS_RESAMPLES;
  struct boot_src rng;
  boot_src_init(&rng, seed);
  struct rng_draw dx = rng_draw_init(nx), dy = rng_draw_init(ny);
  double *bx = ps_xmalloc(nx * sizeof(double)), *by = ps_xmalloc(ny * sizeof(double));
  double *vals = ps_xmalloc(resamples * sizeof(double));
  size_t m = 0;
  for (size_t i = 0; i < resamples; i++) {
    resample(&rng, &dx, x, nx, bx);
    resample(&rng, &dy, y, ny, by);
    double v = fn(bx, nx, by, ny, ctx);
    if (isfinite(v))
      vals[m++] = v;
  }
  interval(vals, m, level, lo, hi);
  free(bx);
  free(by);
  free(vals);
  return 0;
}

/* ---------------------------------------------------------------- summary */

/* A constant sample's mean interval without draws (every resample is the sample itself; the
 * same sum in the same order as the draws would give). 1 when x is constant and finite. */
static int constant_mean(const double *x, size_t n, double *lo, double *hi)
{
  for (size_t i = 1; i < n; i++)
    if (x[i] != x[0])
      return 0;
  double sum = 0;
  for (size_t j = 0; j < n; j++)
    sum += x[0];
  double v = sum / (double)n;
  *lo = *hi = isfinite(v) ? v : NAN;
  return 1;
}

/* The first of xs[0..i) with the same n values as xs[i], bit for bit; i when there is none. */
static size_t same_sample(const double *const *xs, size_t i, size_t n)
{
  for (size_t j = 0; j < i; j++)
    if (!memcmp(xs[j], xs[i], n * sizeof(double)))
      return j;
  return i;
}

/* Two doubles added lane by lane (one SSE2 addition). */
typedef double v2d __attribute__((vector_size(16)));

void ps_stats_bootstrap_means(const double *const *xs, size_t k, size_t n, size_t resamples,
                              double level, uint64_t seed, double (*ci)[2])
{
  if (!resamples)
    resamples = PS_STATS_RESAMPLES;
  size_t *todo = ps_xmalloc((k + 1) * sizeof *todo), m = 0;
  size_t *todo_dup = ps_xcalloc(k + 1, sizeof *todo_dup); /* earlier equal sample + 1, or 0 */
  for (size_t i = 0; i < k; i++) {
    ci[i][0] = ci[i][1] = NAN;
    if (!n || !(level > 0 && level < 1))
      continue;
    size_t same = same_sample(xs, i, n);
    if (same < i) { /* the same values as an earlier sample: the same interval, after the draws */
      todo_dup[i] = same + 1;
      continue;
    }
    if (!all_finite(xs[i], n)) /* NaN, inf, -0: the generic path, alone */
      ps_stats_bootstrap(xs[i], n, ps_stat_fn_mean, NULL, resamples, level, seed, &ci[i][0],
                         &ci[i][1]);
    else if (!constant_mean(xs[i], n, &ci[i][0], &ci[i][1]))
      todo[m++] = i;
  }
  if (m) {
    /* one draw of an index serves every sample: the same draws ps_stats_bootstrap makes with
     * this seed, so each interval is the one it would give alone. A drawn run's values are one
     * row of nv pairs (zeros after m) added lane by lane in vectors: each lane is the same
     * sequence of double additions, in draw order, as the sum of that sample alone. */
    size_t nv = (m + 1) / 2;
    nv = nv <= 2 ? 2 : nv <= 4 ? 4 : nv; /* pairs per row: the specialised loops below */
    double *vals = ps_xmalloc(resamples * m * sizeof *vals);
    v2d *rows = ps_xcalloc(n * nv, sizeof *rows); /* rows[idx * nv ..]: one draw, one row */
    for (size_t j = 0; j < n; j++)
      for (size_t t = 0; t < m; t++)
        rows[j * nv + t / 2][t % 2] = xs[todo[t]][j];
    v2d *sum = ps_xmalloc(nv * sizeof *sum);
    struct boot_src rng;
    boot_src_init(&rng, seed);
    struct rng_draw d = rng_draw_init(n);
    /* the draws, made in bulk ahead of the sums (boot_fill); a resample's n are contiguous */
    size_t cap = (n > 4096 ? n : 4096) + n + 8, pos = 0, have = 0;
    uint32_t *idx = ps_xmalloc(cap * sizeof *idx);
    for (size_t r = 0; r < resamples; r++) {
      if (have - pos < n) {
        memmove(idx, idx + pos, (have - pos) * sizeof *idx);
        have -= pos;
        pos = 0;
        have += boot_fill(&rng, &d, idx + have, cap - 8 - have);
      }
      const uint32_t *ix = idx + pos;
      pos += n;
      if (nv == 2) { /* up to 4 metrics: the sums stay in registers */
        v2d s0 = {0, 0}, s1 = {0, 0};
        for (size_t j = 0; j < n; j++) {
          const v2d *row = rows + (size_t)ix[j] * 2;
          s0 += row[0];
          s1 += row[1];
        }
        sum[0] = s0;
        sum[1] = s1;
      } else if (nv == 4) { /* up to 8 (a sweep's wall, user, sys, cpu, RSS ...) */
        v2d s0 = {0, 0}, s1 = {0, 0}, s2 = {0, 0}, s3 = {0, 0};
        size_t j = 0;
        for (; j + 1 < n; j += 2) { /* two draws a pass, added in draw order */
          const v2d *row = rows + (size_t)ix[j] * 4, *row2 = rows + (size_t)ix[j + 1] * 4;
          s0 += row[0];
          s1 += row[1];
          s2 += row[2];
          s3 += row[3];
          s0 += row2[0];
          s1 += row2[1];
          s2 += row2[2];
          s3 += row2[3];
        }
        if (j < n) {
          const v2d *row = rows + (size_t)ix[j] * 4;
          s0 += row[0];
          s1 += row[1];
          s2 += row[2];
          s3 += row[3];
        }
        sum[0] = s0;
        sum[1] = s1;
        sum[2] = s2;
        sum[3] = s3;
      } else {
        memset(sum, 0, nv * sizeof *sum);
        for (size_t j = 0; j < n; j++) {
          const v2d *row = rows + (size_t)ix[j] * nv;
          for (size_t q = 0; q < nv; q++)
            sum[q] += row[q];
        }
      }
      const v2d nn = {(double)n, (double)n};
      for (size_t q = 0; q < (m + 1) / 2; q++)
        sum[q] /= nn; /* each lane the same division as alone */
      const double *mean = (const double *)sum;
      for (size_t t = 0; t < m; t++)
        vals[t * resamples + r] = mean[t];
    }
    free(idx);
    for (size_t t = 0; t < m; t++) { /* non-finite means (an overflowed sum) are left out */
      double *v = vals + t * resamples;
      size_t fin = 0;
      for (size_t r = 0; r < resamples; r++)
        if (isfinite(v[r]))
          v[fin++] = v[r];
      interval(v, fin, level, &ci[todo[t]][0], &ci[todo[t]][1]);
    }
    free(vals);
    free(sum);
    free(rows);
  }
  for (size_t i = 0; i < k; i++)
    if (todo_dup[i]) {
      ci[i][0] = ci[todo_dup[i] - 1][0];
      ci[i][1] = ci[todo_dup[i] - 1][1];
    }
  free(todo_dup);
  free(todo);
}

/* Everything but the mean's interval. */
static void summary_fill(const double *x, size_t n, uint64_t seed, struct ps_summary *s)
{
  memset(s, 0, sizeof(*s));
  s->n = n;
  s->mean = ps_stats_mean(x, n);
  s->stddev = ps_stats_stddev(x, n);
  s->median = ps_stats_median(x, n);
  s->mad = ps_stats_mad(x, n);
  s->min = ps_stats_min(x, n);
  s->max = ps_stats_max(x, n);
  s->p90 = n >= 10 ? ps_stats_quantile(x, n, 0.90) : NAN;
  s->p99 = n >= 100 ? ps_stats_quantile(x, n, 0.99) : NAN;
  s->cv = (n >= 2 && s->mean != 0) ? s->stddev / fabs(s->mean) : NAN;
  s->ci95_mean[0] = s->ci95_mean[1] = NAN;
  /* the median's interval in closed form (stats-median-ci.c); resampled when a value is not
   * finite, where the closed form does not apply */
  if (ps_stats_median_ci_exact(x, n, 0.95, &s->ci95_median[0], &s->ci95_median[1]))
    ps_stats_bootstrap(x, n, ps_stat_fn_median, NULL, 0, 0.95, seed ^ 0x5bd1e995ULL,
                       &s->ci95_median[0], &s->ci95_median[1]);
  s->noutliers = ps_stats_outliers(x, n, &s->outliers);
}

void ps_summary_compute(const double *x, size_t n, uint64_t seed, struct ps_summary *s)
{
  summary_fill(x, n, seed, s);
  ps_stats_bootstrap(x, n, ps_stat_fn_mean, NULL, 0, 0.95, seed, &s->ci95_mean[0],
                     &s->ci95_mean[1]);
}

void ps_summary_compute_many(const double *const *xs, size_t k, size_t n, uint64_t seed,
                             struct ps_summary *out)
{
  double(*ci)[2] = ps_xmalloc((k + 1) * sizeof *ci);
  ps_stats_bootstrap_means(xs, k, n, 0, 0.95, seed, ci);
  for (size_t i = 0; i < k; i++) {
    /* a sample equal to an earlier one (a sweep's avg_rss_kb is its max_rss_kb when no run was
     * polled; cpu is user when sys stays 0) has the same summary: copied, not recomputed */
    size_t j = same_sample(xs, i, n);
    if (j < i) {
      out[i] = out[j];
      out[i].outliers = NULL;
      if (out[j].noutliers) {
        out[i].outliers = ps_xmalloc(out[j].noutliers * sizeof *out[i].outliers);
        memcpy(out[i].outliers, out[j].outliers, out[j].noutliers * sizeof *out[i].outliers);
      }
    } else {
      summary_fill(xs[i], n, seed, &out[i]);
    }
    out[i].ci95_mean[0] = ci[i][0];
    out[i].ci95_mean[1] = ci[i][1];
  }
  free(ci);
}

void ps_summary_release(struct ps_summary *s)
{
  if (!s)
    return;
  free(s->outliers);
  s->outliers = NULL;
  s->noutliers = 0;
}
