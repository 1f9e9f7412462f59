/* test-compare-cli.c - `perfsweep compare` end to end on fixture results: verdicts and exit
 * codes, the markdown / JSON / JUnit outputs, budgets, and clear exit-3 errors on bad input.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR "/perfsweep"
#define FX PERFSWEEP_FIXTURES "/compare/"

static char dir[] = "/tmp/ps-test-compare-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(compare_cli, .init = setup);

/* Runs "perfsweep compare ARGS" with stdout and stderr into files; returns the exit code. */
static int run(const char *args)
{
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "NO_COLOR=1 %s compare %s >%s/out 2>%s/err", BIN, args, dir, dir);
  int st = system(cmd);
  cr_assert(WIFEXITED(st), "'%s' did not exit normally", cmd);
  return WEXITSTATUS(st);
}

static char *slurp(const char *name)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

Test(compare_cli, regression_exits_1_and_names_where)
{
  int rc = run(FX "base.json " FX "slower.json");
  char *out = slurp("out");
  cr_assert_eq(rc, 1, "a 20%% slower cell must exit 1; output:\n%s", out);
  cr_assert(strstr(out, "verdict: regressed"), "%s", out);
  cr_assert(strstr(out, "compute_user 40.0% -> 60.0%"), "grown function missing:\n%s", out);
  cr_assert(strstr(out, "load_rows (load.c:17)"), "grown allocation site missing:\n%s", out);
  cr_assert(strstr(out, "only in base (not compared): batch=100,workers=2"), "%s", out);
  cr_assert(strstr(out, "only in new (not compared): batch=10000,workers=1"), "%s", out);
}

Test(compare_cli, same_distribution_exits_0)
{
  int rc = run(FX "base.json " FX "same.json");
  char *out = slurp("out");
  cr_assert_eq(rc, 0, "same distributions must pass; output:\n%s", out);
  cr_assert(strstr(out, "verdict: unchanged"), "%s", out);
}

Test(compare_cli, improvement_exits_0)
{
  int rc = run(FX "base.json " FX "faster.json --json");
  cr_assert_eq(rc, 0);
  json_error_t je;
  json_t *j = json_loads(slurp("out"), 0, &je);
  cr_assert_not_null(j, "--json output is not JSON: %s", je.text);
  cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "improved");
  cr_assert_str_eq(json_string_value(json_object_get(j, "schema")), "perfsweep.compare/1");
  json_decref(j);
}

Test(compare_cli, three_runs_inconclusive_exit_2_only_when_asked)
{
  cr_assert_eq(run(FX "three-base.json " FX "three-new.json"), 0,
               "inconclusive alone must not fail the job");
  char *out = slurp("out");
  cr_assert(strstr(out, "3 runs each cannot reach p<0.05") && strstr(out, "use --runs >= 5"),
            "the reason must say why and what to do:\n%s", out);
  cr_assert_eq(run(FX "three-base.json " FX "three-new.json --fail-on-inconclusive"), 2);
}

Test(compare_cli, outputs_markdown_json_junit)
{
  char args[1024];
  snprintf(args, sizeof(args), FX "base.json " FX "slower.json --save-markdown %s/pr.md "
           "--save-json %s/c.json --save-junit %s/junit.xml -o %s/table.txt", dir, dir, dir, dir);
  cr_assert_eq(run(args), 1);
  char *md = slurp("pr.md");
  cr_assert(strstr(md, "| cell | metric |"), "markdown table header missing:\n%s", md);
  cr_assert(strstr(md, "**regressed**"), "%s", md);
  char *xml = slurp("junit.xml");
  cr_assert(strstr(xml, "<testcase classname=\"perfsweep.compare\" name=\"batch=100,workers=1\">"
                        "\n      <failure type=\"regression\""),
            "regressed cell must be a failed testcase:\n%s", xml);
  cr_assert(strstr(xml, "failures=\"1\""), "%s", xml);
  json_t *j = json_loads(slurp("c.json"), 0, NULL);
  cr_assert_not_null(j);
  json_t *cell = json_array_get(json_object_get(j, "cells"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(cell, "verdict")), "regressed");
  json_decref(j);
  cr_assert(strstr(slurp("table.txt"), "verdict: regressed"));
  cr_assert_eq(strlen(slurp("out")), 0, "-o FILE must leave stdout empty");
}

Test(compare_cli, budget_breach_exits_1_with_alert_lines)
{
  cr_assert_eq(run("--budget " FX "budget.txt " FX "slower.json"), 1);
  char *out = slurp("out");
  cr_assert(strstr(out, "budget breached: batch=100,workers=1 wall = 0.11999"), "%s", out);
  cr_assert(strstr(out, "limit 0.11 (max)"), "%s", out);
  cr_assert(strstr(out, "alloc_calls_per_record = 2.6 > limit 2.5"), "%s", out);
  cr_assert_eq(run("--budget " FX "budget.json " FX "base.json"), 0, "base holds the budget: %s",
               slurp("out"));
}

Test(compare_cli, bad_input_exits_3_with_a_sentence)
{
  static const char *cases[][2] = {
    {"malformed.json", "is not valid JSON"},
    {"truncated.json", "truncated"},
    {"wrong-schema.json", "perfsweep.results/2"},
    {"no-cells.json", "cells"},
    {"other-params.json", "matches a cell"},
    {"does-not-exist.json", "cannot read"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char args[512];
    snprintf(args, sizeof(args), FX "base.json " FX "%s", cases[i][0]);
    cr_assert_eq(run(args), 3, "%s must exit 3", cases[i][0]);
    char *err = slurp("err");
    cr_assert(strstr(err, cases[i][1]) && strstr(err, cases[i][0]),
              "%s: the message should name the file and say '%s': %s", cases[i][0], cases[i][1],
              err);
  }
  cr_assert_eq(run(FX "base.json"), 3, "one results without --budget is a usage error");
  cr_assert_eq(run("--threshold wall=abc " FX "base.json " FX "same.json"), 3);
  cr_assert_eq(run("--format yaml " FX "base.json " FX "same.json"), 3);
  cr_assert_eq(run("--help"), 0);
  cr_assert(strstr(slurp("out"), "Examples:"), "--help shows an example");
}

Test(compare_cli, differential_flame_graph_of_profiled_cells)
{
  char args[1024];
  snprintf(args, sizeof(args), FX "prof-base " FX "prof-slower --diff-dir %s/fg --json", dir);
  cr_assert_eq(run(args), 1, "the profiled fixture is 50%% slower");
  json_t *j = json_loads(slurp("out"), 0, NULL);
  cr_assert_not_null(j);
  json_t *cell = json_array_get(json_object_get(j, "cells"), 0);
  const char *svg = json_string_value(json_object_get(cell, "diff_flamegraph"));
  cr_assert_not_null(svg, "no differential flame graph: %s",
                     json_string_value(json_object_get(cell, "diff_flamegraph_note")));
  FILE *f = fopen(svg, "r");
  cr_assert_not_null(f, "%s was not written", svg);
  char head[256] = {0};
  fread(head, 1, sizeof(head) - 1, f);
  fclose(f);
  cr_assert(strstr(head, "<svg") || strstr(head, "<?xml"), "not an SVG: %s", head);
  json_t *fn = json_array_get(json_object_get(cell, "functions_grown"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(fn, "name")), "compute_user");
  json_decref(j);
}
