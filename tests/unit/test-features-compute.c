/* test-features-compute.c - every feature on the hand-made fixture tests/fixtures/features/hand
 * (2 shops, 4 products, 3 collections, 4 customers, 6 orders, 7 events) against values
 * computed by hand from the definitions in docs/features.md; and batch/worker invariance.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fx-collect.h"
#include "fx-compute.h"
#include "fx-digest.h"
#include "fx-normalize.h"

#define T_REF 1767225600LL
#define DEC10 (T_REF - 22 * 86400LL)
#define DEC31 (T_REF - 86400LL)
#define NOV01_NOON (T_REF - 61 * 86400LL + 43200)

static struct fx_dataset ds;
static struct fx_features f;

static void compute_hand(size_t batch, int workers)
{
  struct fx_raw raw = {0};
  char err[1024];
  struct fx_compute_stats st;
  uint32_t *todo[FX_KIND_COUNT] = {0};
  size_t n[FX_KIND_COUNT] = {0};
  memset(&ds, 0, sizeof ds);
  cr_assert_eq(fx_collect_dir(PERFSWEEP_FIXTURES "/features/hand", &raw, err, sizeof err), 0,
               "%s", err);
  cr_assert_eq(fx_normalize(&raw, &ds, err, sizeof err), 0, "%s", err);
  fx_raw_free(&raw);
  cr_assert_eq(fx_dataset_index(&ds), 0);
  cr_assert_eq(fx_features_alloc(&ds, &f), 0);
  struct fx_compute_opts co = {batch, workers, 0};
  cr_assert_eq(fx_compute(&ds, &co, todo, n, &f, &st), 0);
  cr_assert_eq(fx_features_check(&ds, &f, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
  fx_features_free(&f);
  fx_dataset_free(&ds);
}

static const int64_t *row_of(enum fx_kind k, int64_t id)
{
  size_t nf = fx_table_desc(k)->n_fields;
  for (size_t i = 0; i < f.n_rows[k]; i++)
    if (f.rows[k][i * nf + 1] == id)
      return f.rows[k] + i * nf;
  cr_assert_fail("no %s row for id %lld", fx_table_desc(k)->kind, (long long)id);
  return NULL;
}

static void expect(enum fx_kind k, int64_t id, const int64_t *want)
{
  const struct fx_table_desc *d = fx_table_desc(k);
  const int64_t *got = row_of(k, id);
  for (size_t i = 0; i < d->n_fields; i++)
    cr_expect_eq(got[i], want[i], "%s %lld: %s = %lld, want %lld", d->kind, (long long)id,
                 d->fields[i], (long long)got[i], (long long)want[i]);
}

TestSuite(features_compute, .fini = teardown);

Test(features_compute, product_features_match_hand_values)
{
  compute_hand(2, 2);
  cr_assert_eq(f.n_rows[FX_KIND_PRODUCT], 4, "every product gets a row");
  /* shop, id, views30, carts30, paid, paid30, units, revenue, conv, refunded, refund_rate,
   * last_sale, days_since */
  expect(FX_KIND_PRODUCT, 11, (int64_t[]){1, 11, 2, 1, 2, 1, 3, 3250, 5000, 1, 3333, DEC10, 22});
  expect(FX_KIND_PRODUCT, 12, (int64_t[]){1, 12, 1, 0, 1, 1, 1, 550, 10000, 0, 0, DEC10, 22});
  expect(FX_KIND_PRODUCT, 13, (int64_t[]){1, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1});
  expect(FX_KIND_PRODUCT, 21, (int64_t[]){2, 21, 1, 0, 1, 1, 4, 796, 10000, 0, 0, DEC31, 1});
}

Test(features_compute, user_features_match_hand_values)
{
  compute_hand(1, 3);
  cr_assert_eq(f.n_rows[FX_KIND_USER], 4, "every customer gets a row, also without orders");
  /* shop, id, paid, spent, aov, first, last, recency, distinct, views30, carts30, refunds */
  expect(FX_KIND_USER, 1001,
         (int64_t[]){1, 1001, 2, 3800, 1900, NOV01_NOON, DEC10, 22, 2, 2, 1, 0});
  expect(FX_KIND_USER, 1002, (int64_t[]){1, 1002, 0, 0, 0, -1, -1, -1, 0, 1, 0, 1});
  expect(FX_KIND_USER, 1003, (int64_t[]){1, 1003, 0, 0, 0, -1, -1, -1, 0, 0, 0, 0});
  expect(FX_KIND_USER, 2001, (int64_t[]){2, 2001, 1, 796, 796, DEC31, DEC31, 1, 1, 1, 0, 0});
}

Test(features_compute, collection_features_match_hand_values)
{
  compute_hand(1000, 1);
  cr_assert_eq(f.n_rows[FX_KIND_COLLECTION], 3);
  /* shop, id, product_count, units, revenue, views30, avg_price, conv */
  expect(FX_KIND_COLLECTION, 101, (int64_t[]){1, 101, 2, 4, 3800, 3, 775, 6666});
  expect(FX_KIND_COLLECTION, 102, (int64_t[]){1, 102, 1, 0, 0, 0, 2000, 0});
  expect(FX_KIND_COLLECTION, 201, (int64_t[]){2, 201, 0, 0, 0, 0, 0, 0});
}

Test(features_compute, digest_is_the_same_for_any_batch_and_worker_count)
{
  compute_hand(1, 1);
  uint64_t want = fx_digest(&f);
  teardown();
  static const size_t batches[] = {1, 2, 3, 7, 1000};
  static const int workers[] = {1, 2, 3, 8};
  for (size_t b = 0; b < 5; b++)
    for (size_t w = 0; w < 4; w++) {
      compute_hand(batches[b], workers[w]);
      cr_assert_eq(fx_digest(&f), want, "batch %zu workers %d changed the digest", batches[b],
                   workers[w]);
      teardown();
    }
}
