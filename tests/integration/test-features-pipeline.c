/* test-features-pipeline.c - the real perfsweep-features binary: the digest is identical over
 * batch sizes {1,7,1000,>data} x workers {1,2,3,8} and between full and incremental runs, a
 * lost row fails the run (exit 7), metrics lines land in $PERFSWEEP_METRICS, bad input gives
 * one line naming the input and exit 3, and the streamed collect reads ceil(records / B) pages
 * per table whatever the read-chunk size.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit-codes.h"
#include "test-tmp.h"

#define FX PERFSWEEP_BIN_DIR "/perfsweep-features"

static char dir[] = "/tmp/ps-test-features-XXXXXX";
static char out[65536], err[8192];

static void setup(void) { ps_test_mkdtemp(dir); }

static void slurp(const char *path, char *buf, size_t len)
{
  FILE *fp = fopen(path, "r");
  size_t n = fp ? fread(buf, 1, len - 1, fp) : 0;
  buf[n] = '\0';
  if (fp)
    fclose(fp);
}

/* Runs a shell command with stdout/stderr captured into out/err; returns the exit code. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
  char cmd[4096], full[5000], o[300], e[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(o, sizeof o, "%s/.out", dir);
  snprintf(e, sizeof e, "%s/.err", dir);
  snprintf(full, sizeof full, "%s >'%s' 2>'%s'", cmd, o, e);
  int st = system(full);
  slurp(o, out, sizeof out);
  slurp(e, err, sizeof err);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void digest_of_output(char *d)
{
  const char *p = strstr(out, "digest ");
  cr_assert_not_null(p, "no digest line in: %s", out);
  memcpy(d, p + 7, 16);
  d[16] = '\0';
}

TestSuite(features_pipeline, .init = setup, .timeout = 120);

Test(features_pipeline, digest_identical_over_batch_sizes_and_workers)
{
  char want[17] = "", got[17];
  cr_assert_eq(run(FX " generate --scale tiny --seed 5 --out %s/data", dir), 0, "%s", err);
  static const char *batches[] = {"1", "7", "1000", "1000000"};
  static const char *workers[] = {"1", "2", "3", "8"};
  for (int b = 0; b < 4; b++)
    for (int w = 0; w < 4; w++) {
      cr_assert_eq(run(FX " run --source jsonl:%s/data --batch-size %s --workers %s", dir,
                       batches[b], workers[w]), 0, "batch %s workers %s: %s", batches[b],
                   workers[w], err);
      digest_of_output(got);
      if (!*want)
        strcpy(want, got);
      cr_assert_str_eq(got, want, "batch %s workers %s changed the digest", batches[b],
                       workers[w]);
    }
  cr_assert(strstr(out, "rows product 350 user 381 collection 12") != NULL, "%s", out);
}

Test(features_pipeline, incremental_equals_full_recompute)
{
  char full[17], incr[17], again[17];
  cr_assert_eq(run(FX " generate --scale tiny --seed 9 --cutoff-days 12 --out %s/early", dir), 0);
  cr_assert_eq(run(FX " generate --scale tiny --seed 9 --out %s/late", dir), 0);
  cr_assert_eq(run(FX " run --source jsonl:%s/late --batch-size 50", dir), 0, "%s", err);
  digest_of_output(full);
  cr_assert_eq(run(FX " run --source jsonl:%s/early --state %s/state --batch-size 7", dir, dir),
               0, "%s", err);
  cr_assert(strstr(out, "no state yet") != NULL, "first run must be full: %s", out);
  cr_assert_eq(run(FX " run --source jsonl:%s/late --state %s/state --batch-size 13 --workers 3",
                   dir, dir), 0, "%s", err);
  cr_assert(strstr(out, "watermarks applied") != NULL, "%s", out);
  cr_assert(strstr(out, "reused 0\n") == NULL, "an incremental run must reuse rows: %s", out);
  digest_of_output(incr);
  cr_assert_str_eq(incr, full, "incremental digest differs from a full recompute");
  cr_assert_eq(run(FX " run --source jsonl:%s/late --state %s/state --json", dir, dir), 0);
  cr_assert(strstr(out, "\"computed\":0") != NULL, "nothing new: nothing computed: %s", out);
  const char *d = strstr(out, "\"digest\":\"");
  cr_assert_not_null(d);
  memcpy(again, d + 10, 16);
  again[16] = '\0';
  cr_assert_str_eq(again, full);
}

Test(features_pipeline, late_record_below_watermark_is_not_lost)
{
  char full[17], incr[17];
  cr_assert_eq(run(FX " generate --scale tiny --seed 2 --cutoff-days 20 --out %s/d", dir), 0);
  cr_assert_eq(run(FX " run --source jsonl:%s/d --state %s/state", dir, dir), 0, "%s", err);
  /* a view arriving late: its time is older than the watermark */
  char path[512];
  snprintf(path, sizeof path, "%s/d/events.jsonl", dir);
  FILE *fp = fopen(path, "a");
  cr_assert_not_null(fp);
  fputs("{\"id\":7999999999,\"shop_id\":1,\"kind\":\"view\",\"customer_id\":4000000000,"
        "\"product_id\":1000000000,\"occurred_at\":\"2025-12-05T00:00:00Z\"}\n", fp);
  cr_assert_eq(fclose(fp), 0);
  cr_assert_eq(run(FX " run --source jsonl:%s/d", dir), 0, "%s", err);
  digest_of_output(full);
  cr_assert_eq(run(FX " run --source jsonl:%s/d --state %s/state", dir, dir), 0, "%s", err);
  digest_of_output(incr);
  cr_assert_str_eq(incr, full, "a late record below the watermark was dropped (low feature "
                   "counts): %s", out);
  cr_assert(strstr(out, "(3 shop x feature pairs in full") != NULL,
            "the late record must send its shop's three feature types to a full recompute: %s",
            out);
}

/* Non-empty lines of DIR/<table>.jsonl, the records collect pages. */
static uint64_t records_of(const char *table)
{
  char path[512], line[65536];
  snprintf(path, sizeof path, "%s/data/%s.jsonl", dir, table);
  FILE *fp = fopen(path, "r");
  cr_assert_not_null(fp, "%s", path);
  uint64_t n = 0;
  int empty = 1;
  while (fgets(line, sizeof line, fp)) {
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n') {
      n += !(empty && len == 1);
      empty = 1;
    } else {
      empty = 0; /* a line longer than the buffer continues */
    }
  }
  fclose(fp);
  return n;
}

Test(features_pipeline, streamed_collect_reads_real_pages_and_chunks_change_nothing)
{
  static const char *tables[] = {"shops", "products", "collections", "customers", "orders",
                                 "events"};
  char want[17], got[17];
  cr_assert_eq(run(FX " generate --scale tiny --seed 5 --dirty 0.05 --out %s/data", dir), 0,
               "%s", err);
  cr_assert_eq(run(FX " run --source jsonl:%s/data --batch-size 1000", dir), 0, "%s", err);
  digest_of_output(want);
  static const unsigned batches[] = {1, 7, 1000};
  for (int b = 0; b < 3; b++) {
    uint64_t pages = 0;
    for (int t = 0; t < 6; t++)
      pages += (records_of(tables[t]) + batches[b] - 1) / batches[b];
    cr_assert_eq(run("PERFSWEEP_FX_READ_CHUNK=61 " FX " run --source jsonl:%s/data "
                     "--batch-size %u --json", dir, batches[b]), 0, "%s", err);
    const char *c = strstr(out, "\"stage\":\"collect\"");
    cr_assert_not_null(c, "%s", out);
    const char *bt = strstr(c, "\"batches\":");
    cr_assert_not_null(bt);
    cr_assert_eq(strtoull(bt + 10, NULL, 10), pages, "batch %u: collect batches must be the "
                 "pages read (%llu): %s", batches[b], (unsigned long long)pages, out);
    const char *d = strstr(out, "\"digest\":\"");
    cr_assert_not_null(d);
    memcpy(got, d + 10, 16);
    got[16] = '\0';
    cr_assert_str_eq(got, want, "61-byte read chunks, batch %u changed the digest", batches[b]);
  }
}

Test(features_pipeline, lost_row_fails_loudly)
{
  cr_assert_eq(run(FX " run --source gen:tiny --fault drop-row"), PS_EXIT_DATA,
               "a missing feature row must exit %d; stderr: %s", PS_EXIT_DATA, err);
  cr_assert(strstr(err, "no feature row") != NULL, "%s", err);
}

Test(features_pipeline, metrics_lines_and_sinks)
{
  cr_assert_eq(run("PERFSWEEP_METRICS=%s/m.jsonl " FX " run --source gen:tiny --sink gorse:%s/g",
                   dir, dir), 0, "%s", err);
  char path[512], m[8192];
  snprintf(path, sizeof path, "%s/m.jsonl", dir);
  slurp(path, m, sizeof m);
  int lines = 0;
  for (char *p = m; *p; p++)
    lines += *p == '\n';
  cr_assert_eq(lines, 5, "one line per stage: %s", m);
  cr_assert(strstr(m, "\"stage\":\"total\"") != NULL, "%s", m);
  cr_assert(strstr(m, "\"schema\":\"perfsweep.metrics/1\"") != NULL, "%s", m);
  cr_assert(strstr(m, "\"records_in\":8244,") != NULL, "total records_in is the raw count: %s",
            m);
  snprintf(path, sizeof path, "%s/g/items.jsonl", dir);
  cr_assert_eq(access(path, R_OK), 0, "gorse items missing");
  cr_assert_eq(run("wc -l < %s/g/users.jsonl", dir), 0);
  cr_assert_eq(atoi(out), 381, "one gorse user per customer, got %s", out);
}

Test(features_pipeline, bad_input_is_one_line_and_exit_3)
{
  static const struct { const char *args, *needle; } cases[] = {
    {"run --bogus", "--bogus"},
    {"run --batch-size 0", "--batch-size 0"},
    {"run --workers x", "--workers x"},
    {"run --source gen:huge", "gen:huge"},
    {"run --source ftp:x", "ftp:x"},
    {"run --source jsonl:" PERFSWEEP_FIXTURES "/features/truncated", "orders.jsonl:6"},
    {"run --source jsonl:" PERFSWEEP_FIXTURES "/features", "dataset.json"},
    {"run --source jsonl:/nonexistent/ps", "/nonexistent/ps"},
    {"generate --scale huge --out /tmp/x", "huge"},
    {"generate --scale tiny", "--out"},
    {"generate --scale tiny --dirty 2 --out /tmp/x", "--dirty 2"},
    {"frobnicate", "frobnicate"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run(FX " %s", cases[i].args);
    cr_assert_eq(rc, PS_EXIT_USAGE, "'%s' exited %d: %s", cases[i].args, rc, err);
    cr_assert(strstr(err, cases[i].needle) != NULL, "'%s': message must name %s: %s",
              cases[i].args, cases[i].needle, err);
    char *nl = strchr(err, '\n');
    cr_assert(nl && nl[1] == '\0', "'%s': message must be one line: %s", cases[i].args, err);
  }
  cr_assert_eq(run(FX " run --help"), 0);
  cr_assert(strstr(out, "example:") != NULL, "--help shows an example");
}
