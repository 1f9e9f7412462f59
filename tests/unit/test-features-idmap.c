/* test-features-idmap.c - the id map answers exactly like a plain list of (id, value) pairs
 * for every id pattern normalize meets: consecutive ids (the dense window), gaps, ids below
 * the first one, far-away ids (the hash), ids put in the hash before the window grew over
 * them, duplicates, with and without a reserve hint.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "fx-idmap.h"

/* A tiny deterministic generator (xorshift64*). */
static uint64_t next(uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

enum { N = 6000 };
static int64_t ref_id[N];
static uint32_t ref_val[N];
static size_t ref_n;

static uint32_t ref_get(int64_t id)
{
  for (size_t i = 0; i < ref_n; i++)
    if (ref_id[i] == id)
      return ref_val[i];
  return FX_IDMAP_NONE;
}

/* Puts n ids made by pattern p into both maps and checks every answer. */
static void check_pattern(int p, uint64_t seed, size_t hint)
{
  struct fx_idmap m = {0};
  uint64_t s = seed;
  ref_n = 0;
  if (hint)
    fx_idmap_reserve(&m, hint);
  for (uint32_t i = 0; i < N; i++) {
    int64_t id;
    uint64_t r = next(&s);
    switch (p) {
    case 0: id = 1000000000LL + i; break;                            /* consecutive */
    case 1: id = 4000000000LL + 3 * (int64_t)i + (int64_t)(r % 3); break; /* gaps */
    case 2: id = 1000000000LL + (int64_t)(r % (2 * N)); break;        /* shuffled, repeats */
    case 3: id = 5000000LL - (int64_t)i; break;                       /* descending */
    case 4: id = r % 4 ? 7000LL + i : (int64_t)(r >> 2) + 1; break;  /* mostly dense + far */
    default: id = 100000LL + (int64_t)(r % 64) * (int64_t)i; break;  /* far first, nearer later */
    }
    uint32_t old = 12345, want = ref_get(id);
    int ins = fx_idmap_put(&m, id, i, &old);
    cr_assert_eq(ins, want == FX_IDMAP_NONE, "pattern %d put %lld: %d", p, (long long)id, ins);
    if (ins) {
      ref_id[ref_n] = id;
      ref_val[ref_n++] = i;
    } else {
      cr_assert_eq(old, want, "pattern %d: old value of %lld", p, (long long)id);
    }
    if (i % 97 == 0) /* gets of present and absent ids along the way */
      for (uint32_t k = 0; k < 50; k++) {
        int64_t q = k % 2 ? ref_id[next(&s) % ref_n] : (int64_t)(next(&s) % 20000000000ULL);
        cr_assert_eq(fx_idmap_get(&m, q), ref_get(q), "pattern %d get %lld", p, (long long)q);
      }
  }
  for (size_t i = 0; i < ref_n; i++)
    cr_assert_eq(fx_idmap_get(&m, ref_id[i]), ref_val[i], "pattern %d final get %lld", p,
                 (long long)ref_id[i]);
  cr_assert_eq(fx_idmap_get(&m, INT64_MAX), FX_IDMAP_NONE);
  cr_assert_eq(fx_idmap_get(&m, 1), ref_get(1));
  fx_idmap_free(&m);
}

Test(features_idmap, answers_like_a_list_for_every_id_pattern)
{
  for (int p = 0; p < 6; p++)
    for (uint64_t seed = 1; seed <= 3; seed++) {
      check_pattern(p, seed * 0x9e3779b97f4a7c15ULL, 0);
      check_pattern(p, seed * 0x9e3779b97f4a7c15ULL, N);
    }
}

Test(features_idmap, empty_map_finds_nothing)
{
  struct fx_idmap m = {0};
  cr_assert_eq(fx_idmap_get(&m, 0), FX_IDMAP_NONE);
  cr_assert_eq(fx_idmap_get(&m, 42), FX_IDMAP_NONE);
  fx_idmap_free(&m);
  fx_idmap_free(&m);
}

Test(features_idmap, window_holds_consecutive_ids_in_four_bytes_each)
{
  struct fx_idmap m = {0};
  for (uint32_t i = 0; i < 100000; i++)
    cr_assert_eq(fx_idmap_put(&m, 4000000000LL + i, i, NULL), 1);
  cr_assert_eq(m.n, 0, "consecutive ids must not reach the hash");
  cr_assert_leq(m.dense_len, 2 * 100000 + 1024, "window of %zu slots", m.dense_len);
  cr_assert_eq(fx_idmap_get(&m, 4000000000LL + 99999), 99999);
  cr_assert_eq(fx_idmap_get(&m, 4000000000LL + 100000), FX_IDMAP_NONE);
  cr_assert_eq(fx_idmap_put(&m, 1, 7, NULL), 1, "an id below the window goes to the hash");
  cr_assert_eq(m.n, 1);
  cr_assert_eq(fx_idmap_get(&m, 1), 7);
  fx_idmap_free(&m);
}
