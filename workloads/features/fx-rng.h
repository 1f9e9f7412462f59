/* fx-rng.h - the generator's own pseudo-random numbers: splitmix64 to seed, xoshiro256** to
 * draw, integer-only helpers for ranges and skew. Never rand(), never floating point, so the
 * same seed gives the same stream on every machine and libc.
 */
#ifndef PERFSWEEP_FX_RNG_H
#define PERFSWEEP_FX_RNG_H

#include <stdint.h>

struct fx_rng { uint64_t s[4]; };

static inline uint64_t fx_splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* One independent stream per (seed, stream) pair. */
static inline void fx_rng_seed(struct fx_rng *r, uint64_t seed, uint64_t stream)
{
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
  for (int i = 0; i < 4; i++)
    r->s[i] = fx_splitmix64(&x);
}

static inline uint64_t fx_rng_next(struct fx_rng *r)
{
  uint64_t *s = r->s;
  uint64_t x = s[1] * 5;
  uint64_t out = ((x << 7) | (x >> 57)) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return out;
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t fx_rng_below(struct fx_rng *r, uint64_t n)
{
  return (uint64_t)(((unsigned __int128)fx_rng_next(r) * n) >> 64);
}

/* Skewed in [0, n): the cube of a uniform number, so low ranks are drawn far more often
 * (a power law with density ~ x^(-2/3)): Zipf-like popularity without floating point. */
static inline uint64_t fx_rng_skewed(struct fx_rng *r, uint64_t n)
{
  uint64_t u = fx_rng_next(r) >> 32;
  uint64_t x = (u * u) >> 32;
  x = (x * u) >> 32;
  return (x * n) >> 32;
}

#endif
