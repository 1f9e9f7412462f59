/* test-report-gnuplot.c - gnuplot as an external program: quoted user text never becomes a
 * command, one failing script does not cost the others their charts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart-gnuplot.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-report-gnuplot-XXXXXX";

static void setup(void)
{
  ps_test_mkdtemp(dir);
  if (!chart_gnuplot_available())
    cr_skip_test("gnuplot is not installed (Debian package gnuplot-nox)");
}

TestSuite(report_gnuplot, .init = setup, .timeout = 60);

Test(report_gnuplot, quoted_text_never_runs)
{
  char *flag = ps_xasprintf("%s/pwned", dir);
  char *evil = ps_xasprintf("x'; system('touch %s'); y = '`touch %s`\nshow version", flag, flag);
  char *body = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&body, &len);
  fputs("set title ", f);
  chart_quote(f, evil);
  fputs("\nplot [0:1] x title ", f);
  chart_quote(f, "operator<<");
  fputc('\n', f);
  fclose(f);
  char why[512] = "";
  cr_assert_eq(chart_write_script(dir, "evil", body, 400, 300, why, sizeof(why)), 0, "%s", why);
  char *names[] = {"evil"};
  int ok[1];
  char whys[1][512];
  cr_assert_eq(chart_run(dir, names, 1, ok, whys), 0, "gnuplot failed: %s", whys[0]);
  cr_expect_neq(access(flag, F_OK), 0, "quoted text ran a command");
  char *svg = ps_xasprintf("%s/evil.svg", dir), *data = NULL;
  cr_assert_eq(ps_read_file(svg, &data, &len), 0);
  cr_expect_not_null(strstr(data, "system("), "the title text is missing from the chart");
  free(data);
  free(svg);
  free(body);
  free(evil);
  free(flag);
}

Test(report_gnuplot, one_failing_script_keeps_the_others)
{
  char why[512] = "";
  cr_assert_eq(chart_write_script(dir, "good", "plot [0:1] x*x notitle\n", 400, 300, why,
                                  sizeof(why)), 0);
  cr_assert_eq(chart_write_script(dir, "bad", "plot [0:1] nosuchfunction(x)\n", 400, 300, why,
                                  sizeof(why)), 0);
  cr_assert_eq(chart_write_script(dir, "good2", "plot [0:1] sin(x) notitle\n", 400, 300, why,
                                  sizeof(why)), 0);
  char *names[] = {"good", "bad", "good2"};
  int ok[3];
  char whys[3][512];
  cr_expect_eq(chart_run(dir, names, 3, ok, whys), -1);
  cr_expect(ok[0] && ok[2], "the good charts were lost with the bad one");
  cr_expect_not(ok[1], "the broken script was reported drawn");
  cr_expect_not_null(strstr(whys[1], "bad.log"), "the reason does not point at the log: %s",
                     whys[1]);
  char *png = ps_xasprintf("%s/good2.png", dir);
  cr_expect_eq(access(png, F_OK), 0, "good2.png missing");
  free(png);
}
