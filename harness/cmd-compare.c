/* cmd-compare.c - `perfsweep compare BASE NEW`: the verdict a CI job gates on.
 *
 *   $ perfsweep compare base/ new/ --save-markdown report.md
 *   cell                  metric   base      new       change  95% CI            p       verdict
 *   batch=100,workers=1   wall     41.2 ms   49.8 ms   +20.9%  [+18.0%, +23.1%]  0.00018 regressed
 *   verdict: regressed (1 regressed, 0 improved, 3 unchanged, 0 inconclusive cells; 0 unmatched)
 *
 * Exit 0 no regression, 1 regression or budget breach, 2 inconclusive (only with
 * --fail-on-inconclusive), 3 bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "builtin.h"
#include "compare.h"
#include "junit.h"
#include "util.h"

static const char compare_usage[] =
  "usage: perfsweep compare [options] BASE NEW\n"
  "       perfsweep compare [options] --ab PARAM=A,B RESULTS\n"
  "       perfsweep compare --budget FILE RESULTS\n\n"
  "Compares two results (results.json files or 'perfsweep run' folders) cell by cell: the\n"
  "relative change of each metric with a 95% bootstrap CI, a Mann-Whitney U test, and a verdict\n"
  "(improved, regressed, unchanged, inconclusive). A regression needs significance AND a change\n"
  "beyond the noise threshold AND beyond the absolute floor; allocation counts compare exactly.\n\n"
  "Options:\n"
  "  --threshold [METRIC=]PCT  noise threshold in percent (default 5; alloc.* default 0)\n"
  "  --floor METRIC=VALUE      absolute floor in the metric's unit (defaults: wall/cpu/stage\n"
  "                            0.001 s, max_rss_kb 64, alloc.bytes 65536)\n"
  "  --alpha P                 significance level (default 0.05)\n"
  "  --holm                    Holm-Bonferroni correction over all tested metrics and cells\n"
  "  --seed N, --resamples N   bootstrap seed (default 42) and resamples (default 2000)\n"
  "  --fail-on-inconclusive    exit 2 when nothing regressed but some cell is inconclusive\n"
  "  --ab PARAM=A,B            A/B inside one interleaved sweep: cells with PARAM=A are the\n"
  "                            base, PARAM=B the new, matched by their other parameters\n"
  "  --budget FILE             absolute limits for NEW (JSON or lines; see docs/compare.md)\n"
  "  --format table|markdown|json|junit   what to print (default table), --json = --format json\n"
  "  -o FILE                   write the printed format to FILE instead of stdout\n"
  "  --save-markdown FILE, --save-json FILE, --save-junit FILE   extra outputs\n"
  "  --diff-dir DIR            write differential flame graphs of profiled cells into DIR\n\n"
  "Examples:\n"
  "  perfsweep compare base/results.json new/results.json\n"
  "  perfsweep compare base/ new/ --threshold wall=3 --save-markdown pr.md --save-junit junit.xml\n"
  "  perfsweep run --param side=old,new --runs 7 -o ab/ -- ./{side}/prog && \\\n"
  "    perfsweep compare --ab side=old,new ab/\n"
  "  perfsweep compare --budget budget.txt new/\n\n"
  "Exit codes: 0 no regression, 1 regression or budget breached, 2 inconclusive (with\n"
  "--fail-on-inconclusive), 3 bad usage or input, 6 an output could not be written.\n";

enum compare_format { FMT_TABLE, FMT_MARKDOWN, FMT_JSON, FMT_JUNIT };

struct compare_cli {
  struct compare_opts opts;
  enum compare_format format;
  const char *out, *save_md, *save_json, *save_junit, *budget, *ab;
  int fail_inconclusive;
};

static int compare_parse_format(const char *s, enum compare_format *f)
{
  static const char *names[] = {"table", "markdown", "json", "junit"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(names); i++)
    if (!strcmp(s, names[i])) {
      *f = (enum compare_format)i;
      return 0;
    }
  ps_error("unknown --format '%s'; use table, markdown, json or junit", s);
  return -1;
}

static int compare_number(const char *s, const char *flag, double *out)
{
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(*out) || *out < 0) {
    ps_error("%s expects a non-negative number, not '%s'", flag, s);
    return -1;
  }
  return 0;
}

/* "METRIC=VALUE" (or "VALUE" alone when allow_default) into a setting list. */
static int compare_add_setting(struct compare_setting **list, size_t *n, const char *arg,
                               const char *flag, double scale, double *dflt)
{
  const char *eq = strchr(arg, '=');
  double v;
  if (!eq) {
    if (!dflt) {
      ps_error("%s expects METRIC=VALUE (e.g. %s wall=0.002), not '%s'", flag, flag, arg);
      return -1;
    }
    if (compare_number(arg, flag, &v))
      return -1;
    *dflt = v * scale;
    return 0;
  }
  if (eq == arg) {
    ps_error("%s '%s' names no metric; e.g. %s wall=3", flag, arg, flag);
    return -1;
  }
  if (compare_number(eq + 1, flag, &v))
    return -1;
  *list = ps_xrealloc(*list, (*n + 1) * sizeof(**list));
  char *m = ps_xstrdup(arg);
  m[eq - arg] = 0;
  (*list)[(*n)++] = (struct compare_setting){m, v * scale};
  return 0;
}

static void compare_free_settings(struct compare_setting *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(s[i].metric);
  free(s);
}

/* Renders one format into a malloc'd buffer. */
static char *compare_render(enum compare_format f, const struct compare_report *r,
                            const struct budget_alert *alerts, size_t nalerts, int color,
                            size_t *len)
{
  char *buf = NULL;
  FILE *m = open_memstream(&buf, len);
  if (!m)
    ps_die(PS_EXIT_ENVIRONMENT, "out of memory");
  if (f == FMT_JSON) {
    json_t *j = r ? compare_report_json(r) : json_pack("{s:s}", "schema", "perfsweep.compare/1");
    json_t *ja = json_array();
    for (size_t i = 0; i < nalerts; i++)
      json_array_append_new(ja, json_pack("{s:s, s:s, s:o, s:f, s:s, s:s}", "cell",
                                          alerts[i].cell, "metric", alerts[i].metric, "value",
                                          isnan(alerts[i].value) ? json_null()
                                                                 : json_real(alerts[i].value),
                                          "limit", alerts[i].limit, "kind",
                                          alerts[i].is_max ? "max" : "min", "message",
                                          alerts[i].line));
    json_object_set_new(j, "budget_alerts", ja);
    json_dumpf(j, m, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', m);
    json_decref(j);
  } else if (f == FMT_JUNIT) {
    junit_write(m, r, alerts, nalerts);
  } else if (f == FMT_MARKDOWN) {
    if (r)
      compare_print_markdown(m, r);
    if (nalerts) {
      fprintf(m, "\n### Budget: %zu breach%s\n\n", nalerts, nalerts == 1 ? "" : "es");
      for (size_t i = 0; i < nalerts; i++)
        fprintf(m, "- :red_circle: %s\n", alerts[i].line);
    }
  } else {
    if (r)
      compare_print_table(m, r, color);
    for (size_t i = 0; i < nalerts; i++)
      fprintf(m, "%s%s%s\n", color ? "\033[1;31m" : "", alerts[i].line, color ? "\033[0m" : "");
  }
  fclose(m);
  return buf;
}

static int compare_save(const char *path, enum compare_format f, const struct compare_report *r,
                        const struct budget_alert *alerts, size_t nalerts)
{
  size_t len;
  char *buf = compare_render(f, r, alerts, nalerts, 0, &len);
  int rc = ps_write_file_atomic(path, buf, len);
  free(buf);
  if (rc < 0) {
    ps_error("cannot write '%s': %s; check the folder exists and is writable", path,
             strerror(-rc));
    return PS_EXIT_IO;
  }
  return 0;
}

static int compare_parse_args(int argc, char **argv, struct compare_cli *c, int *help)
{
  enum { O_THR = 256, O_FLOOR, O_ALPHA, O_SEED, O_RES, O_FAIL, O_BUDGET, O_FORMAT, O_JSON,
         O_SMD, O_SJSON, O_SJUNIT, O_DIFF, O_AB, O_HOLM };
  static const struct option longopts[] = {
    {"threshold", required_argument, 0, O_THR}, {"floor", required_argument, 0, O_FLOOR},
    {"alpha", required_argument, 0, O_ALPHA}, {"seed", required_argument, 0, O_SEED},
    {"resamples", required_argument, 0, O_RES}, {"fail-on-inconclusive", no_argument, 0, O_FAIL},
    {"budget", required_argument, 0, O_BUDGET}, {"format", required_argument, 0, O_FORMAT},
    {"json", no_argument, 0, O_JSON}, {"output", required_argument, 0, 'o'},
    {"save-markdown", required_argument, 0, O_SMD}, {"save-json", required_argument, 0, O_SJSON},
    {"save-junit", required_argument, 0, O_SJUNIT}, {"diff-dir", required_argument, 0, O_DIFF},
    {"ab", required_argument, 0, O_AB}, {"holm", no_argument, 0, O_HOLM},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int ch;
  double v;
  optind = 0;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
    switch (ch) {
    case 'h': *help = 1; return 0;
    case 'o': c->out = optarg; break;
    case O_THR:
      if (compare_add_setting(&c->opts.thresholds, &c->opts.nthresholds, optarg, "--threshold",
                              0.01, &c->opts.threshold))
        return -1;
      break;
    case O_FLOOR:
      if (compare_add_setting(&c->opts.floors, &c->opts.nfloors, optarg, "--floor", 1.0, NULL))
        return -1;
      break;
    case O_ALPHA:
      if (compare_number(optarg, "--alpha", &v) || v <= 0 || v >= 1) {
        ps_error("--alpha must be between 0 and 1 (exclusive), e.g. 0.05");
        return -1;
      }
      c->opts.alpha = v;
      break;
    case O_SEED:
      if (compare_number(optarg, "--seed", &v))
        return -1;
      c->opts.seed = (unsigned long long)v;
      break;
    case O_RES:
      if (compare_number(optarg, "--resamples", &v) || v < 100 || v > 1e6) {
        ps_error("--resamples must be between 100 and 1000000");
        return -1;
      }
      c->opts.resamples = (int)v;
      break;
    case O_FAIL: c->fail_inconclusive = 1; break;
    case O_BUDGET: c->budget = optarg; break;
    case O_FORMAT:
      if (compare_parse_format(optarg, &c->format))
        return -1;
      break;
    case O_JSON: c->format = FMT_JSON; break;
    case O_SMD: c->save_md = optarg; break;
    case O_SJSON: c->save_json = optarg; break;
    case O_SJUNIT: c->save_junit = optarg; break;
    case O_DIFF: c->opts.diff_dir = optarg; break;
    case O_AB: c->ab = optarg; break;
    case O_HOLM: c->opts.holm = 1; break;
    default:
      ps_error("unknown or incomplete option '%s'; see 'perfsweep compare --help'",
               argv[optind - 1]);
      return -1;
    }
  }
  return 0;
}

/* A --threshold/--floor naming a metric no cell has is most likely a typo: say so. */
static void compare_check_settings(const struct compare_setting *set, size_t n, const char *flag,
                                   const struct compare_report *r)
{
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t c = 0; c < r->ncells && !seen; c++)
      for (size_t k = 0; k < r->cells[c].nmetrics && !seen; k++)
        seen = !strcmp(r->cells[c].metrics[k].metric, set[i].metric);
    if (!seen)
      ps_warn("%s names '%s', which no compared cell measured; metrics are wall, cpu, "
              "max_rss_kb, throughput, stage.<name>.seconds, alloc.calls, alloc.bytes, error_rate",
              flag, set[i].metric);
  }
}

/* --ab PARAM=A,B: splits the one loaded results (*now) into the A side (*base) and B side. */
static int compare_ab_split(const struct compare_cli *c, json_t **base, char **base_file,
                            json_t **now, char **new_file, char **err)
{
  const char *eq = strchr(c->ab, '='), *comma = eq ? strchr(eq + 1, ',') : NULL;
  if (!eq || eq == c->ab || !comma || comma == eq + 1 || !comma[1] || strchr(comma + 1, ',')) {
    *err = ps_xasprintf("--ab expects PARAM=BASE,NEW (e.g. --ab side=old,new), not '%s'", c->ab);
    return PS_EXIT_USAGE;
  }
  char *param = ps_xasprintf("%.*s", (int)(eq - c->ab), c->ab);
  char *a = ps_xasprintf("%.*s", (int)(comma - eq - 1), eq + 1);
  json_t *whole = *now, *sa = NULL, *sb = NULL;
  int rc = compare_split(whole, *new_file, param, a, &sa, err);
  if (!rc)
    rc = compare_split(whole, *new_file, param, comma + 1, &sb, err);
  if (!rc) {
    *base = sa;
    *now = sb;
    json_decref(whole);
    *base_file = ps_xasprintf("%s [%s=%s]", *new_file, param, a);
    char *nf = ps_xasprintf("%s [%s=%s]", *new_file, param, comma + 1);
    free(*new_file);
    *new_file = nf;
  } else {
    json_decref(sa);
  }
  free(param);
  free(a);
  return rc;
}

int cmd_compare(int argc, char **argv)
{
  struct compare_cli c = {0};
  struct compare_report report = {0};
  struct budget budget = {0};
  struct budget_alert *alerts = NULL;
  size_t nalerts = 0;
  json_t *base = NULL, *now = NULL;
  char *base_file = NULL, *new_file = NULL, *err = NULL;
  int help = 0, rc = PS_EXIT_USAGE, have_report = 0;

  compare_opts_init(&c.opts);
  if (compare_parse_args(argc, argv, &c, &help))
    goto out;
  if (help) {
    fputs(compare_usage, stdout);
    rc = PS_EXIT_OK;
    goto out;
  }
  int npos = argc - optind;
  if (npos != 2 && !(npos == 1 && (c.budget || c.ab))) {
    ps_error("expected BASE and NEW results (or --ab PARAM=A,B or --budget FILE and one results), "
             "got %d argument%s; see 'perfsweep compare --help'", npos, npos == 1 ? "" : "s");
    goto out;
  }
  if (c.ab && npos != 1) {
    ps_error("--ab compares two sides of ONE results file; give one, not %d", npos);
    goto out;
  }
  if (c.budget && (rc = budget_load(c.budget, &budget, &err)))
    goto out_err;
  const char *new_arg = argv[argc - 1];
  if (npos == 2 && (rc = compare_load(argv[optind], &base, &base_file, &err)))
    goto out_err;
  if ((rc = compare_load(new_arg, &now, &new_file, &err)))
    goto out_err;
  if (c.ab && (rc = compare_ab_split(&c, &base, &base_file, &now, &new_file, &err)))
    goto out_err;
  if (base) {
    if ((rc = compare_results(base, base_file, now, new_file, &c.opts, &report, &err)))
      goto out_err;
    have_report = 1;
    compare_check_settings(c.opts.thresholds, c.opts.nthresholds, "--threshold", &report);
    compare_check_settings(c.opts.floors, c.opts.nfloors, "--floor", &report);
  }
  if (c.budget)
    nalerts = budget_check(&budget, now, &alerts);

  const struct compare_report *r = have_report ? &report : NULL;
  if ((c.save_md && (rc = compare_save(c.save_md, FMT_MARKDOWN, r, alerts, nalerts))) ||
      (c.save_json && (rc = compare_save(c.save_json, FMT_JSON, r, alerts, nalerts))) ||
      (c.save_junit && (rc = compare_save(c.save_junit, FMT_JUNIT, r, alerts, nalerts))) ||
      (c.out && (rc = compare_save(c.out, c.format, r, alerts, nalerts))))
    goto out;
  if (!c.out) {
    size_t len;
    char *buf = compare_render(c.format, r, alerts, nalerts,
                               c.format == FMT_TABLE && ps_use_color(stdout), &len);
    fwrite(buf, 1, len, stdout);
    free(buf);
  }
  if ((r && r->verdict == CMP_REGRESSED) || nalerts)
    rc = PS_EXIT_REGRESSION;
  else if (r && r->verdict == CMP_INCONCLUSIVE && c.fail_inconclusive)
    rc = PS_EXIT_INCONCLUSIVE;
  else
    rc = PS_EXIT_OK;
  goto out;
out_err:
  ps_error("%s", err);
out:
  free(err);
  if (have_report)
    compare_report_free(&report);
  budget_alerts_free(alerts, nalerts);
  budget_free(&budget);
  json_decref(base);
  json_decref(now);
  free(base_file);
  free(new_file);
  compare_free_settings(c.opts.thresholds, c.opts.nthresholds);
  compare_free_settings(c.opts.floors, c.opts.nfloors);
  return rc;
}
