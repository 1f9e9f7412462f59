/* test-sweep-matrix.c - harness/sweep.c: value lists and ranges, matrix expansion and cell ids,
 * placeholders and shell quoting, shard partition, schedule determinism. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static void free_vals(char **v, long n)
{
  for (long i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static void expect_values(const char *spec, const char *joined)
{
  char **v, err[256] = "";
  long n = ps_sweep_parse_values(spec, &v, err, sizeof(err));
  cr_assert_geq(n, 0, "'%s' should parse: %s", spec, err);
  char buf[1024] = "";
  for (long i = 0; i < n; i++)
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "", v[i]);
  cr_assert_str_eq(buf, joined, "values of '%s'", spec);
  free_vals(v, n);
}

static void expect_bad(const char *spec, const char *needle)
{
  char **v, err[256] = "";
  long n = ps_sweep_parse_values(spec, &v, err, sizeof(err));
  cr_assert_eq(n, -1, "'%s' should be refused", spec);
  cr_assert(strstr(err, needle), "message for '%s' says '%s': %s", spec, needle, err);
}

Test(sweep, values_lists_and_ranges)
{
  expect_values("100,1000,10000", "100 1000 10000");
  expect_values("1..64*2", "1 2 4 8 16 32 64");
  expect_values("1..10+3", "1 4 7 10");
  expect_values("3..5", "3 4 5");
  expect_values("1..100*10", "1 10 100");
  expect_values("glibc,jemalloc", "glibc jemalloc");
  expect_values("0,8..32*2", "0 8 16 32");
  expect_values("5..5", "5");
}

Test(sweep, values_refused)
{
  expect_bad("", "empty");
  expect_bad("1,,2", "empty value");
  expect_bad("1..x", "not a range");
  expect_bad("9..1", "empty");
  expect_bad("0..8*2", "never advances");
  expect_bad("1..8+0", "never advances");
}

Test(sweep, matrix_cells_first_axis_slowest)
{
  struct ps_sweep s = {0};
  char err[256];
  cr_assert_eq(ps_sweep_add_axis(&s, "batch", PS_AXIS_PARAM, "100,1000", err, sizeof(err)), 0);
  cr_assert_eq(ps_sweep_add_axis(&s, "workers", PS_AXIS_PARAM, "1..4*2", err, sizeof(err)), 0);
  cr_assert_eq(ps_sweep_ncells(&s), 6);
  const char *ids[] = {"batch=100,workers=1", "batch=100,workers=2", "batch=100,workers=4",
                       "batch=1000,workers=1", "batch=1000,workers=2", "batch=1000,workers=4"};
  for (size_t c = 0; c < 6; c++) {
    char *id = ps_sweep_cell_id(&s, c);
    cr_assert_str_eq(id, ids[c], "cell %zu", c);
    free(id);
  }
  cr_assert_eq(ps_sweep_add_axis(&s, "batch", PS_AXIS_PARAM, "1", err, sizeof(err)), -1,
               "a duplicate axis is refused");
  cr_assert_eq(ps_sweep_add_axis(&s, "bad-name", PS_AXIS_PARAM, "1", err, sizeof(err)), -1);
  ps_sweep_release(&s);
  struct ps_sweep none = {0};
  cr_assert_eq(ps_sweep_ncells(&none), 1, "no axes: one cell");
  char *id = ps_sweep_cell_id(&none, 0);
  cr_assert_str_eq(id, "default");
  free(id);
}

Test(sweep, placeholders_expand_check_and_quote)
{
  struct ps_sweep s = {0};
  char err[512];
  ps_sweep_add_axis(&s, "b", PS_AXIS_PARAM, "10,x'; rm -rf /", err, sizeof(err));
  char *w = ps_sweep_expand(&s, 0, "--batch={b}", 0);
  cr_assert_str_eq(w, "--batch=10");
  free(w);
  w = ps_sweep_expand(&s, 1, "echo {b} {{b}} {} {1}", 1);
  cr_assert_str_eq(w, "echo 'x'\\''; rm -rf /' {b} {} {1}", "shell-quoted: %s", w);
  free(w);
  char *ok[] = {"prog", "{b}", "{}", "{{w}}"};
  cr_assert_eq(ps_sweep_check_placeholders(&s, ok, 4, err, sizeof(err)), 0, "%s", err);
  char *bad[] = {"prog", "--threads", "{w}"};
  cr_assert_eq(ps_sweep_check_placeholders(&s, bad, 3, err, sizeof(err)), -1);
  cr_assert(strstr(err, "{w}") && strstr(err, "{b}"), "names the unknown and known: %s", err);
  ps_sweep_release(&s);
  char *q = ps_shell_quote("it's");
  cr_assert_str_eq(q, "'it'\\''s'");
  free(q);
}

Test(sweep, shards_partition_the_cells)
{
  char err[256];
  unsigned k, n;
  cr_assert_eq(ps_shard_parse("2/3", &k, &n, err, sizeof(err)), 0);
  cr_assert(k == 2 && n == 3);
  cr_assert_eq(ps_shard_parse("4/3", &k, &n, err, sizeof(err)), -1);
  cr_assert_eq(ps_shard_parse("0/3", &k, &n, err, sizeof(err)), -1);
  cr_assert_eq(ps_shard_parse("1/2x", &k, &n, err, sizeof(err)), -1);
  for (unsigned shards = 1; shards <= 5; shards++)
    for (size_t cell = 0; cell < 17; cell++) {
      int owners = 0;
      for (unsigned i = 1; i <= shards; i++)
        owners += ps_shard_has(cell, i, shards);
      cr_assert_eq(owners, 1, "cell %zu has exactly one owner among %u shards", cell, shards);
    }
}

Test(sweep, schedule_is_seeded_and_complete)
{
  size_t cells[] = {0, 1, 2, 3, 4, 5, 6, 7};
  struct ps_slot *a, *b, *c;
  size_t na = ps_sweep_schedule(cells, 8, 1, 3, 42, &a);
  size_t nb = ps_sweep_schedule(cells, 8, 1, 3, 42, &b);
  size_t nc = ps_sweep_schedule(cells, 8, 1, 3, 43, &c);
  cr_assert_eq(na, 32);
  cr_assert_eq(nb, 32);
  cr_assert_eq(nc, 32);
  int same = 1, differs = 0, count[8][4] = {{0}};
  for (size_t i = 0; i < na; i++) {
    same &= a[i].cell == b[i].cell && a[i].index == b[i].index;
    differs |= a[i].cell != c[i].cell;
    count[a[i].cell][a[i].index]++;
    cr_assert_eq(a[i].warmup, a[i].index == 0, "round 0 is the warm-up");
  }
  cr_assert(same, "same seed, same schedule");
  cr_assert(differs, "another seed, another order");
  for (int i = 0; i < 8; i++)
    for (int r = 0; r < 4; r++)
      cr_assert_eq(count[i][r], 1, "cell %d repeat %d planned once", i, r);
  free(a);
  free(b);
  free(c);
}
