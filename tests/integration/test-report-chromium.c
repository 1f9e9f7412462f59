/* test-report-chromium.c - the HTML report in a real headless Chromium: it loads with no
 * console message, its script runs (tables become sortable), it reads without JavaScript,
 * and a screenshot is taken; and a small real sweep (perfsweep run) reports end to end. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-report-run.h"
#include "util.h"
#include "test-tmp.h"

#define PERFSWEEP PERFSWEEP_BIN_DIR "/perfsweep"
#define FIX PERFSWEEP_FIXTURES "/report"

static char dir[] = "/tmp/ps-test-report-chromium-XXXXXX";

/* Chromium writes crash-report settings and a dconf cache under $HOME even with its own
 * --user-data-dir: its home is the test's folder, never the developer's. */
static void setup(void)
{
  ps_test_mkdtemp(dir);
  char *config = ps_xasprintf("%s/.config", dir), *cache = ps_xasprintf("%s/.cache", dir);
  setenv("HOME", dir, 1);
  setenv("XDG_CONFIG_HOME", config, 1);
  setenv("XDG_CACHE_HOME", cache, 1);
  free(config);
  free(cache);
}

TestSuite(report_chromium, .init = setup, .timeout = 300);

/* Runs argv with stdout and stderr into out_path; returns the exit status (or -1). */
static const char *chromium(void)
{
  static const char *c[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
  for (size_t i = 0; i < 2; i++)
    if (access(c[i], X_OK) == 0)
      return c[i];
  return NULL;
}

/* Chromium headless with a fresh profile; extra is --dump-dom or --screenshot=... */
static char *browse(const char *url, const char *extra, const char *extra2, const char *tag)
{
  char *profile = ps_xasprintf("%s/chromium-%s", dir, tag);
  char *udd = ps_xasprintf("--user-data-dir=%s", profile);
  char *log = ps_xasprintf("%s/chromium-%s.log", dir, tag);
  char *argv[] = {(char *)chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", udd, "--enable-logging=stderr", "--v=0",
                  "--window-size=1280,2400", (char *)extra, (char *)extra2, (char *)url, NULL};
  if (!extra2) { /* shift the url into the place of the missing option */
    argv[13] = (char *)url;
    argv[14] = NULL;
  }
  int rc = report_test_run(argv, log, NULL);
  cr_assert_eq(rc, 0, "chromium failed (%d); see %s", rc, log);
  char *text = NULL;
  size_t len;
  cr_assert_eq(ps_read_file(log, &text, &len), 0);
  free(profile);
  free(udd);
  free(log);
  return text;
}

static void make_report(const char *results, const char *out)
{
  char *log = ps_xasprintf("%s/report.log", dir);
  char *argv[] = {PERFSWEEP, "report", (char *)results, "--out", (char *)out, NULL};
  int rc = report_test_run(argv, log, NULL);
  char *text = NULL;
  size_t len;
  ps_read_file(log, &text, &len);
  cr_assert_eq(rc, 0, "perfsweep report failed (%d):\n%s", rc, text ? text : "");
  free(text);
  free(log);
}

Test(report_chromium, page_loads_without_console_messages_and_script_runs)
{
  if (!chromium())
    cr_skip_test("chromium is not installed (Debian package chromium)");
  char *out = ps_xasprintf("%s/r", dir), *url = ps_xasprintf("file://%s/r/report.html", dir);
  make_report(FIX "/sweep-3x3/results.json", out);
  char *log = browse(url, "--dump-dom", NULL, "dom");
  cr_expect_null(strstr(log, ":CONSOLE"), "the page logged to the console:\n%s", log);
  cr_expect_null(strstr(log, "Uncaught"), "a script error:\n%s", log);
  cr_expect_not_null(strstr(log, "title=\"click to sort\""), "the table script did not run");
  cr_expect_not_null(strstr(log, "<svg"), "no inline chart in the DOM");
  cr_expect_null(strstr(log, "<script>alert"), "an injected script reached the DOM");
  free(log);

  /* Without JavaScript the page is already whole: it is written complete and the script only
   * adds sorting. (Headless Chromium's --disable-javascript still runs page scripts for
   * --dump-dom, so the check reads the file as written.) */
  char *html = NULL;
  size_t hlen;
  char *hpath = ps_xasprintf("%s/r/report.html", dir);
  cr_assert_eq(ps_read_file(hpath, &html, &hlen), 0);
  cr_expect_not_null(strstr(html, "Recommended: batch 1000"), "findings are not in the page");
  cr_expect_not_null(strstr(html, "Per-cell statistics"), "tables are not in the page");
  cr_expect_not_null(strstr(html, "<svg"), "charts are not inline in the page");
  free(html);
  free(hpath);

  char *shot = ps_xasprintf("--screenshot=%s/shot.png", dir);
  log = browse(url, shot, NULL, "shot");
  char *png = ps_xasprintf("%s/shot.png", dir);
  struct stat st;
  cr_expect(stat(png, &st) == 0 && st.st_size > 50000,
            "the screenshot %s is missing or nearly blank (%lld bytes)", png,
            (long long)st.st_size);
  free(png);
  free(shot);
  free(log);
  free(url);
  free(out);
}

Test(report_chromium, real_sweep_reports_end_to_end)
{
  char *features = ps_xasprintf("%s/perfsweep-features", PERFSWEEP_BIN_DIR);
  if (access(features, X_OK) != 0)
    cr_skip_test("the features workload is not built (%s)", features);
  char *sweep = ps_xasprintf("%s/sweep", dir), *log = ps_xasprintf("%s/run.log", dir);
  char *argv[] = {PERFSWEEP, "run", "features", "--scale", "tiny", "--batch-sizes", "100,1000",
                  "--workers", "1,2,3", "--runs", "2", "--warmup", "0", "--seed", "1",
                  "-q", "-o", sweep, NULL};
  int rc = report_test_run(argv, log, NULL);
  char *text = NULL;
  size_t len;
  ps_read_file(log, &text, &len);
  cr_assert_eq(rc, 0, "perfsweep run failed (%d):\n%s", rc, text ? text : "");
  free(text);
  char *out = ps_xasprintf("%s/sweep/report", dir);
  make_report(sweep, out);
  char *html = ps_xasprintf("%s/report.html", out), *png = ps_xasprintf("%s/charts/throughput.png", out);
  cr_expect_eq(access(html, F_OK), 0, "no %s", html);
  cr_expect_eq(access(png, F_OK), 0, "no %s", png);
  if (chromium()) {
    char *url = ps_xasprintf("file://%s", html);
    char *dom = browse(url, "--dump-dom", NULL, "sweep");
    cr_expect_null(strstr(dom, ":CONSOLE"), "console messages on the real report:\n%s", dom);
    cr_expect_not_null(strstr(dom, "Recommended"), "no recommendation on the real report");
    free(dom);
    free(url);
  }
  free(html);
  free(png);
  free(out);
  free(log);
  free(sweep);
  free(features);
}
