/* cmd-report.c - `perfsweep report`: charts, flame graphs, tables and the capacity plan of a
 * sweep, as one self-contained HTML page and a markdown summary.
 *
 *   $ perfsweep report sweep/results.json --memory-limit 4G --dataset-size 1000000
 *   perfsweep report: Recommended: batch 1000 with 2 workers, about 9.1 k records/s ...
 *   wrote sweep/report/report.html, sweep/report/report.md, 9 charts in sweep/report/charts
 *
 * Reads the results through ps_results_load (another schema version, a truncated or non-JSON
 * file is refused with its name); writes only inside --out.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "chart-gnuplot.h"
#include "report.h"
#include "results.h"
#include "util.h"

static const char usage_text[] =
    "usage: perfsweep report RESULTS [--out DIR] [--format html,md] [--no-charts]\n"
    "                        [--memory-limit SIZE] [--target-throughput RECORDS_PER_HOUR]\n"
    "                        [--dataset-size N] [--x AXIS] [--series AXIS] [--json]\n"
    "\n"
    "Turns a results file (or the folder holding results.json) into charts drawn by gnuplot,\n"
    "flame graphs, tables and a capacity plan (a Universal Scalability Law fit per batch size,\n"
    "a memory model, and the recommended batch size and worker count).\n"
    "\n"
    "  -o, --out DIR               output folder (default: <results folder>/report)\n"
    "  -f, --format LIST           html, md or both (default: html,md)\n"
    "      --no-charts             tables and plan only; gnuplot is not needed\n"
    "      --memory-limit SIZE     only recommend configurations whose peak RSS fits (512M, 4G)\n"
    "      --target-throughput N   records per hour to reach with the fewest workers (2.5M ok)\n"
    "      --dataset-size N        predict the run time for N records\n"
    "      --x AXIS                the x axis of the charts (default: batch, else the first axis)\n"
    "      --series AXIS           one line per value of AXIS (default: workers, else the second)\n"
    "      --json                  print the findings, chart files and plan as JSON\n"
    "  -h, --help                  this text\n"
    "\n"
    "Example:\n"
    "  perfsweep run features --batch-sizes 100,1000,10000 --workers 1,2,4 -o sweep/\n"
    "  perfsweep report sweep/ --memory-limit 4G --target-throughput 20M --dataset-size 1e6\n"
    "  open sweep/report/report.html   # PNG charts for the README: sweep/report/charts/*.png\n";

/* "4G", "512MiB", "1e9": bytes (binary units). Returns -1 when malformed. */
static double parse_size(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !(v >= 0))
    return -1;
  double mul = 1;
  switch (toupper((unsigned char)*end)) {
  case 'K': mul = 1024.0; end++; break;
  case 'M': mul = 1048576.0; end++; break;
  case 'G': mul = 1073741824.0; end++; break;
  case 'T': mul = 1099511627776.0; end++; break;
  default: break;
  }
  if (mul > 1 && (*end == 'i' || *end == 'I'))
    end++;
  if (mul > 1 && (*end == 'b' || *end == 'B'))
    end++;
  else if (mul == 1 && (*end == 'b' || *end == 'B'))
    end++;
  return *end ? -1 : v * mul;
}

/* "2.5M", "20000", "1e6": a count (decimal units). Returns -1 when malformed. */
static double parse_count(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !(v > 0) || !isfinite(v))
    return -1;
  switch (*end) {
  case 'k': case 'K': v *= 1e3; end++; break;
  case 'M': v *= 1e6; end++; break;
  case 'G': v *= 1e9; end++; break;
  default: break;
  }
  return *end ? -1 : v;
}

static int bad(const char *fmt, const char *arg)
{
  ps_error(fmt, arg);
  fprintf(stderr, "see 'perfsweep report --help'\n");
  return PS_EXIT_USAGE;
}

static void print_human(const struct report *r, const char *html, const char *md)
{
  for (size_t i = 0; i < r->nfindings; i++)
    printf("  - %s\n", r->findings[i]);
  size_t drawn = 0, skipped = 0;
  for (size_t i = 0; i < r->charts.n; i++)
    r->charts.c[i].ok ? drawn++ : skipped++;
  if (r->charts.n)
    printf("charts: %zu drawn in %s/charts (SVG and PNG)%s\n", drawn, r->opts.out,
           skipped ? ", some skipped (reasons in the report)" : "");
  else
    printf("charts: %s\n", r->charts_why);
  for (size_t i = 0; i < r->nflames; i++)
    printf("flame graph %s: %s\n", r->flames[i].kind,
           r->flames[i].ok ? r->flames[i].svg : r->flames[i].why);
  if (html)
    printf("wrote %s\n", html);
  if (md)
    printf("wrote %s\n", md);
}

int cmd_report(int argc, char **argv)
{
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},       {"format", required_argument, NULL, 'f'},
      {"no-charts", no_argument, NULL, 'C'},       {"memory-limit", required_argument, NULL, 'm'},
      {"target-throughput", required_argument, NULL, 't'},
      {"dataset-size", required_argument, NULL, 'd'},
      {"x", required_argument, NULL, 'x'},         {"series", required_argument, NULL, 's'},
      {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct report r;
  memset(&r, 0, sizeof(r));
  r.opts.html = r.opts.md = r.opts.charts = 1;
  const char *x_axis = NULL, *s_axis = NULL;
  int json = 0, c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': r.opts.out = optarg; break;
    case 'f': {
      r.opts.html = r.opts.md = 0;
      char *list = ps_xstrdup(optarg), *save = NULL;
      for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "html"))
          r.opts.html = 1;
        else if (!strcmp(t, "md") || !strcmp(t, "markdown"))
          r.opts.md = 1;
        else {
          int rc = bad("unknown --format '%s'; use html, md or html,md", t);
          free(list);
          return rc;
        }
      }
      free(list);
      break;
    }
    case 'C': r.opts.charts = 0; break;
    case 'm':
      if ((r.opts.memory_limit = parse_size(optarg)) <= 0)
        return bad("--memory-limit '%s' is not a size; write it like 512M or 4G", optarg);
      break;
    case 't':
      if ((r.opts.target_per_hour = parse_count(optarg)) <= 0)
        return bad("--target-throughput '%s' is not a positive number of records per hour "
                   "(like 20000 or 2.5M)", optarg);
      break;
    case 'd':
      if ((r.opts.dataset_size = parse_count(optarg)) <= 0)
        return bad("--dataset-size '%s' is not a positive number of records", optarg);
      break;
    case 'x': x_axis = optarg; break;
    case 's': s_axis = optarg; break;
    case 'j': json = 1; break;
    case 'h': fputs(usage_text, stdout); return PS_EXIT_OK;
    default:
      return bad("unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc - 1) {
    ps_error(optind >= argc ? "which results? give a results.json file or its folder"
                            : "give exactly one results file");
    fputs(usage_text, stderr);
    return PS_EXIT_USAGE;
  }
  r.opts.results = argv[optind];
  if (!r.opts.html && !r.opts.md && !json)
    return bad("%s: nothing to write; use --format html,md or --json", "--format");

  json_t *root = NULL;
  int rc = ps_results_load_or_report(r.opts.results, &root);
  if (rc)
    return rc;
  char err[1024];
  rc = report_data_build(root, r.opts.results, x_axis, s_axis, &r.d, err, sizeof(err));
  json_decref(root);
  if (rc) {
    ps_error("%s", err);
    report_free(&r);
    return rc;
  }
  if (r.opts.charts && !chart_gnuplot_available()) {
    ps_error("gnuplot is not installed (it draws the charts); install the Debian package "
             "gnuplot-nox (apt-get install gnuplot-nox), or run with --no-charts for the tables "
             "and plan only");
    report_free(&r);
    return PS_EXIT_ENVIRONMENT;
  }
  char *out = r.opts.out ? ps_xstrdup(r.opts.out) : ps_xasprintf("%s/report", r.d.dir);
  r.opts.out = out;
  char *html = NULL, *md = NULL;
  if ((rc = ps_mkdir_p(out, 0755)) < 0) {
    ps_error("cannot create the output folder %s: %s; choose another with --out", out,
             strerror(-rc));
    rc = PS_EXIT_IO;
    goto done;
  }
  report_analyse(&r);
  if (r.opts.charts) {
    if (chart_sweep_write(&r.d, r.have_plan ? &r.plan : NULL, r.focus, out, &r.charts) < 0) {
      ps_error("cannot create %s/charts; choose another folder with --out", out);
      rc = PS_EXIT_IO;
      goto done;
    }
  } else {
    snprintf(r.charts_why, sizeof(r.charts_why), "not drawn (--no-charts)");
  }
  report_flames(&r);
  if (r.opts.html) {
    html = ps_xasprintf("%s/report.html", out);
    if ((rc = report_write_html(&r, html)) < 0) {
      ps_error("cannot write %s: %s", html, strerror(-rc));
      rc = PS_EXIT_IO;
      goto done;
    }
  }
  if (r.opts.md) {
    md = ps_xasprintf("%s/report.md", out);
    if ((rc = report_write_markdown(&r, md)) < 0) {
      ps_error("cannot write %s: %s", md, strerror(-rc));
      rc = PS_EXIT_IO;
      goto done;
    }
  }
  if (json) {
    json_t *o = report_json(&r, html, md);
    json_dumpf(o, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(o);
  } else {
    print_human(&r, html, md);
  }
  rc = PS_EXIT_OK;
done:
  free(html);
  free(md);
  report_free(&r);
  free(out);
  return rc;
}
