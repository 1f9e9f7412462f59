/* test-features-normalize.c - normalize counts each bad record in exactly one category
 * (tests/fixtures/features/dirty has one or more of each, counted by hand) and stops on
 * unreadable JSON with a message naming the file and line.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-collect.h"
#include "fx-normalize.h"

Test(features_normalize, counts_rejects_by_category)
{
  struct fx_raw raw = {0};
  struct fx_dataset ds = {0};
  char err[1024];
  cr_assert_eq(fx_collect_dir(PERFSWEEP_FIXTURES "/features/dirty", &raw, err, sizeof err), 0,
               "%s", err);
  cr_assert_eq(fx_normalize(&raw, &ds, err, sizeof err), 0, "%s", err);
  cr_expect_eq(ds.rejects.missing_fields, 7, "missing_fields %llu",
               (unsigned long long)ds.rejects.missing_fields);
  cr_expect_eq(ds.rejects.invalid_data, 9, "invalid_data %llu",
               (unsigned long long)ds.rejects.invalid_data);
  cr_expect_eq(ds.rejects.duplicates, 4, "duplicates %llu",
               (unsigned long long)ds.rejects.duplicates);
  cr_expect_eq(ds.rejects.fk_violations, 5, "fk_violations %llu",
               (unsigned long long)ds.rejects.fk_violations);
  cr_expect_eq(ds.rejects.future_timestamps, 3, "future_timestamps %llu",
               (unsigned long long)ds.rejects.future_timestamps);
  cr_expect_eq(ds.records_in, 34);
  cr_expect_eq(ds.n_shops, 1);
  cr_expect_eq(ds.n_products, 1);
  cr_expect_eq(ds.n_collections, 1);
  cr_expect_eq(ds.n_customers, 1);
  cr_expect_eq(ds.n_orders, 1);
  cr_expect_eq(ds.n_items, 1);
  cr_expect_eq(ds.n_events, 1);
  cr_expect_eq(ds.products[0].price_cents, 1000);
  fx_dataset_free(&ds);
  fx_raw_free(&raw);
}

Test(features_normalize, truncated_json_names_file_and_line)
{
  struct fx_raw raw = {0};
  struct fx_dataset ds = {0};
  char err[1024];
  cr_assert_eq(fx_collect_dir(PERFSWEEP_FIXTURES "/features/truncated", &raw, err, sizeof err),
               0, "%s", err);
  cr_assert_eq(fx_normalize(&raw, &ds, err, sizeof err), PS_EXIT_USAGE);
  cr_assert(strstr(err, "orders.jsonl:6:") != NULL, "message lacks file:line: %s", err);
  cr_assert(strstr(err, "truncated") != NULL, "message lacks the reason: %s", err);
  fx_dataset_free(&ds);
  fx_raw_free(&raw);
}

Test(features_normalize, folder_without_dataset_is_refused)
{
  struct fx_raw raw = {0};
  char err[1024];
  cr_assert_eq(fx_collect_dir(PERFSWEEP_FIXTURES "/features", &raw, err, sizeof err),
               PS_EXIT_USAGE);
  cr_assert(strstr(err, "dataset.json") != NULL && strstr(err, "generate") != NULL,
            "message must name the missing manifest and the fix: %s", err);
  fx_raw_free(&raw);
  cr_assert_eq(fx_collect_dir("/nonexistent/perfsweep", &raw, err, sizeof err), PS_EXIT_USAGE);
  cr_assert(strstr(err, "/nonexistent/perfsweep") != NULL, "%s", err);
  fx_raw_free(&raw);
}
