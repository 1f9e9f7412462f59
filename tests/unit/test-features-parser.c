/* test-features-parser.c - the hot-path JSON-lines cursor (fx-json) and the integer-only
 * timestamp and price conversions (fx-time): values read right, every truncation caught.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fx-json.h"
#include "fx-time.h"

static const char record[] =
  "{\"id\":5001,\"name\":\"a\\\"b\",\"cancelled_at\":null,\"ok\":true,\"f\":1.5e3,"
  "\"customer\":{\"id\":7,\"tags\":[]},\"line_items\":[{\"quantity\":2},{\"quantity\":-3}]}";

Test(features_parser, reads_nested_record)
{
  struct fx_json j;
  const char *k, *s;
  size_t kl, sn;
  int64_t id = 0, cust = 0, q[2] = {0, 0};
  int nq = 0, m;
  fx_json_init(&j, record, strlen(record));
  cr_assert_eq(fx_json_object(&j), FX_J_OK);
  while ((m = fx_json_member(&j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id")) {
      cr_assert_eq(fx_json_int(&j, &id), FX_J_OK);
    } else if (fx_json_key_is(k, kl, "name")) {
      cr_assert_eq(fx_json_string(&j, &s, &sn), FX_J_OK);
      cr_assert_eq(sn, 4, "raw string keeps its escape, got length %zu", sn);
    } else if (fx_json_key_is(k, kl, "cancelled_at")) {
      cr_assert(fx_json_null(&j), "null must be recognised");
    } else if (fx_json_key_is(k, kl, "customer")) {
      cr_assert_eq(fx_json_object(&j), FX_J_OK);
      while ((m = fx_json_member(&j, &k, &kl)) == 1)
        cr_assert_eq(fx_json_key_is(k, kl, "id") ? fx_json_int(&j, &cust) : fx_json_skip(&j),
                     FX_J_OK);
      cr_assert_eq(m, 0);
    } else if (fx_json_key_is(k, kl, "line_items")) {
      cr_assert_eq(fx_json_array(&j), FX_J_OK);
      while (fx_json_element(&j) == 1) {
        cr_assert_eq(fx_json_object(&j), FX_J_OK);
        while (fx_json_member(&j, &k, &kl) == 1)
          cr_assert_eq(fx_json_int(&j, &q[nq]), FX_J_OK);
        nq++;
      }
    } else {
      cr_assert_eq(fx_json_skip(&j), FX_J_OK, "skipping member %.*s", (int)kl, k);
    }
  }
  cr_assert_eq(m, 0, "object must close cleanly");
  cr_assert_eq(fx_json_end(&j), FX_J_OK);
  cr_assert_eq(id, 5001);
  cr_assert_eq(cust, 7);
  cr_assert_eq(nq, 2);
  cr_assert_eq(q[0], 2);
  cr_assert_eq(q[1], -3);
}

Test(features_parser, every_truncation_is_a_syntax_error)
{
  size_t n = strlen(record);
  for (size_t len = 0; len < n; len++) {
    struct fx_json j;
    fx_json_init(&j, record, len);
    int rc = fx_json_skip(&j);
    if (rc == FX_J_OK)
      rc = fx_json_end(&j);
    cr_assert_eq(rc, FX_J_SYNTAX, "prefix of %zu/%zu bytes was accepted", len, n);
    cr_assert_not_null(j.err, "prefix of %zu bytes: no reason given", len);
  }
}

Test(features_parser, rejects_malformed_records)
{
  static const char *bad[] = {"{\"a\":1,}", "{\"a\" 1}", "{,\"a\":1}", "[1,,2]", "[1 2]",
                              "{\"a\":01}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":1} x",
                              "{\"a\":\"\\q\"}", "{\"a\":-}", "{\"a\":1.}", "{a:1}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct fx_json j;
    fx_json_init(&j, bad[i], strlen(bad[i]));
    int rc = fx_json_skip(&j);
    if (rc == FX_J_OK)
      rc = fx_json_end(&j);
    cr_assert_eq(rc, FX_J_SYNTAX, "malformed %s was accepted", bad[i]);
  }
}

Test(features_parser, wrong_type_is_skipped_not_fatal)
{
  const char *line = "{\"q\":\"2\",\"r\":[1,{\"x\":2}],\"s\":3}";
  struct fx_json j;
  const char *k, *s;
  size_t kl, sn;
  int64_t v;
  fx_json_init(&j, line, strlen(line));
  cr_assert_eq(fx_json_object(&j), FX_J_OK);
  cr_assert_eq(fx_json_member(&j, &k, &kl), 1);
  cr_assert_eq(fx_json_int(&j, &v), FX_J_TYPE, "a string is not an integer");
  cr_assert_eq(fx_json_member(&j, &k, &kl), 1);
  cr_assert_eq(fx_json_string(&j, &s, &sn), FX_J_TYPE, "an array is not a string");
  cr_assert_eq(fx_json_member(&j, &k, &kl), 1);
  cr_assert_eq(fx_json_int(&j, &v), FX_J_OK);
  cr_assert_eq(v, 3, "cursor must be usable after skipped values");
  cr_assert_eq(fx_json_member(&j, &k, &kl), 0);
  cr_assert_eq(fx_json_end(&j), FX_J_OK);
}

Test(features_parser, timestamps_round_trip)
{
  fx_time t;
  char out[21];
  cr_assert_eq(fx_time_parse("2026-01-01T00:00:00Z", 20, &t), 0);
  cr_assert_eq(t, 1767225600, "2026-01-01 is %lld", (long long)t);
  cr_assert_eq(fx_time_parse("2024-02-29T23:59:59Z", 20, &t), 0);
  fx_time_format(t, out);
  cr_assert_str_eq(out, "2024-02-29T23:59:59Z");
  fx_time_format(0, out);
  cr_assert_str_eq(out, "1970-01-01T00:00:00Z");
  static const char *bad[] = {"2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z",
                              "2025-01-01 00:00:00Z", "2025-01-01T24:00:00Z", "yesterday"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_neq(fx_time_parse(bad[i], strlen(bad[i]), &t), 0, "%s was accepted", bad[i]);
}

Test(features_parser, prices_are_exact_cents)
{
  int64_t c;
  cr_assert_eq(fx_price_parse("19.99", 5, &c), 0);
  cr_assert_eq(c, 1999);
  cr_assert_eq(fx_price_parse("5.5", 3, &c), 0);
  cr_assert_eq(c, 550);
  cr_assert_eq(fx_price_parse("20", 2, &c), 0);
  cr_assert_eq(c, 2000);
  static const char *bad[] = {"-1.00", "1.001", "abc", "", "1.", ".5", "12.3x", "1e3"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_neq(fx_price_parse(bad[i], strlen(bad[i]), &c), 0, "price %s was accepted", bad[i]);
}
