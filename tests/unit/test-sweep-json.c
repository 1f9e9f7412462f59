/* test-sweep-json.c - the sweep's hand-formatted JSON (sweep-json.c): the same text as jansson's
 * json_dumps for the same value (compact and indented), and reals that read back bit for bit,
 * the nanosecond and microsecond figures of a run in their shortest exact decimals.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "sweep-json.h"

static char *fast_text(const json_t *v, int indent)
{
  struct ps_jbuf b = {0};
  ps_jbuf_dump(&b, v, indent);
  return b.p;
}

static uint64_t bits(double x)
{
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* Reals whose jansson text ("%.17g") is also what the fast formats write, or outside them. */
static json_t *sample_doc(void)
{
  return json_pack("{s:s, s:s, s:s, s:[i, I, I, i], s:[f, f, f, f, f, f, f, f], s:{}, s:[], "
                   "s:{s:b, s:b, s:n, s:[[], {}, [{s:[i]}]]}}",
                   "plain", "true", "escapes",
                   "quote \" backslash \\ nl \n tab \t cr \r bs \b ff \f",
                   "control", "\x01\x1f end/slash \xc3\xa9t\xc3\xa9", "ints", 0,
                   (json_int_t)-9223372036854775807LL - 1, (json_int_t)9223372036854775807LL, -42,
                   "reals", 1.5, 2.0, -0.0, 1e300, 0.30000000000000004, 1.2345678901234567e-12,
                   6.02214076e23, -123456.25, "empty_obj", "empty_arr", "nested", "yes", 1, "no",
                   0, "none", "deep", "x", 7);
}

Test(sweep_json, text_equals_jansson_compact_and_indented)
{
  json_t *doc = sample_doc();
  for (int indent = 0; indent <= 1; indent++) {
    char *want = json_dumps(doc, indent ? JSON_INDENT(1) : JSON_COMPACT);
    char *got = fast_text(doc, indent);
    cr_assert_str_eq(got, want, "indent %d: hand-written text differs from jansson's", indent);
    free(want);
    free(got);
  }
  json_decref(doc);
}

static void check_reads_back(double x)
{
  char buf[32];
  size_t n = ps_json_fmt_real(buf, x);
  cr_assert_eq(n, strlen(buf), "length of %s", buf);
  cr_assert(strchr(buf, '.') || strchr(buf, 'e'), "%s reads as a real, not an integer", buf);
  double y = strtod(buf, NULL);
  cr_assert_eq(bits(y), bits(x), "%.17g written as %s reads back as %.17g", x, buf, y);
  json_error_t e;
  json_t *v = json_loads(buf, JSON_DECODE_ANY, &e);
  cr_assert(json_is_real(v), "jansson reads %s as a real", buf);
  cr_assert_eq(bits(json_real_value(v)), bits(x), "jansson reads %s back as %.17g", buf, x);
  json_decref(v);
}

Test(sweep_json, reals_read_back_bit_for_bit)
{
  struct ps_rng rng;
  ps_rng_seed(&rng, 12345);
  for (int i = 0; i < 20000; i++) {
    uint64_t u = ps_rng_next(&rng);
    long long ns = (long long)(u % 5000000000000ULL);
    check_reads_back(ps_ns_to_s(ns));                        /* a wall time */
    check_reads_back((double)(long long)(u % 100000000) / 1e6); /* a CPU time */
    check_reads_back(-ps_ns_to_s(ns + 1));
    double any;
    do {
      uint64_t r = ps_rng_next(&rng);
      memcpy(&any, &r, sizeof any);
    } while (!isfinite(any));
    check_reads_back(any);                                   /* every kind of double */
    check_reads_back(ps_rng_uniform(&rng) * 1e4);
  }
  const double edge[] = {0.0, -0.0, 1e-9, 999999.999999999, 1e6, 9007199254740992.0,
                         9007199254740993.0 * 2, 5e-324, 1.7976931348623157e308, 0.1, 1e-10};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
    check_reads_back(edge[i]);
}

Test(sweep_json, run_figures_are_written_short)
{
  char buf[32];
  ps_json_fmt_real(buf, ps_ns_to_s(745123));
  cr_expect_str_eq(buf, "0.000745123");
  ps_json_fmt_real(buf, ps_ns_to_s(51860000000LL));
  cr_expect_str_eq(buf, "51.86");
  ps_json_fmt_real(buf, (double)1234 / 1e6);
  cr_expect_str_eq(buf, "0.001234");
  ps_json_fmt_real(buf, 2048.0);
  cr_expect_str_eq(buf, "2048.0");
  ps_json_fmt_real(buf, -0.0);
  cr_expect_str_eq(buf, "-0.0");
  ps_json_fmt_real(buf, 0.1 + 0.2); /* %.17g: 0.30000000000000004 */
  cr_expect_str_eq(buf, "0.30000000000000004", "17 digits when fewer do not name it");
  ps_json_fmt_real(buf, 2.0 / 3);
  cr_expect_str_eq(buf, "0.6666666666666666", "16 digits when they name it");
  ps_json_fmt_real(buf, 1e-12 / 3);
  char want[32];
  snprintf(want, sizeof want, "%.17g", 1e-12 / 3);
  char *e = strstr(want, "e-");
  cr_assert_not_null(e, "%s", want);
  cr_expect_str_eq(buf, want, "below 1e-7 a real is written as jansson does");
}

/* From 1e-4 to 1e16 (where %.17g writes plain decimals) a real is written as %.17g writes it,
 * or shorter when 15 or 16 digits name it exactly: never another 17-digit rounding. */
Test(sweep_json, seventeen_digits_are_printf_digits)
{
  struct ps_rng rng;
  ps_rng_seed(&rng, 77);
  int shorter = 0, same = 0;
  for (int i = 0; i < 50000; i++) {
    double x = pow(10, -4 + 20 * ps_rng_uniform(&rng)) * (1 + ps_rng_uniform(&rng));
    if (x >= 1e16 || x == floor(x))
      continue;
    char got[32], want[40];
    ps_json_fmt_real(got, x);
    snprintf(want, sizeof want, "%.17g", x);
    check_reads_back(x);
    if (!strcmp(got, want)) {
      same++;
      continue;
    }
    cr_assert_lt(strlen(got), strlen(want), "%s written as %s: not %%.17g, and not shorter", want,
                 got);
    shorter++;
  }
  cr_assert(same > 1000 && shorter > 1000, "both kinds seen: %d same, %d shorter", same, shorter);
}
