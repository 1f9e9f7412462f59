/* cmd-export.c - `perfsweep export`: a results file as CSV (one row per run), markdown (one row
 * per cell) or Prometheus text exposition (for a node_exporter textfile collector or a push
 * gateway). Metric names are documented in docs/cli.md.
 *
 *   $ perfsweep export sweep/results.json --format prometheus > perfsweep.prom
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "results-export.h"
#include "results.h"
#include "util.h"

static const char export_usage[] =
    "usage: perfsweep export RESULTS [--format csv|markdown|prometheus] [-o FILE]\n\n"
    "Writes a results file (results.json or its folder) as:\n"
    "  csv         one row per run: cell, parameters, status, wall, user, sys, RSS, throughput\n"
    "  markdown    one row per cell: median, 95% CI, cv, success rate (for a PR comment)\n"
    "  prometheus  text exposition: perfsweep_run_duration_seconds histogram, perfsweep_runs_total\n"
    "              by status, perfsweep_cell_wall_seconds{stat=...}, ... (see docs/cli.md)\n\n"
    "Example:\n"
    "  perfsweep export sweep/ --format prometheus -o /var/lib/node_exporter/perfsweep.prom\n";

int cmd_export(int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *format = "csv", *out = NULL;
  int c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
    if (c == 'f')
      format = optarg;
    else if (c == 'o')
      out = optarg;
    else if (c == 'h') {
      fputs(export_usage, stdout);
      return PS_EXIT_OK;
    } else {
      ps_error("unknown option or missing value '%s'; see 'perfsweep export --help'",
               argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
  }
  if (optind + 1 != argc) {
    ps_error("give one results file: perfsweep export RESULTS --format csv|markdown|prometheus");
    return PS_EXIT_USAGE;
  }
  enum ps_export_format f;
  if (!strcmp(format, "csv"))
    f = PS_EXPORT_CSV;
  else if (!strcmp(format, "markdown") || !strcmp(format, "md"))
    f = PS_EXPORT_MARKDOWN;
  else if (!strcmp(format, "prometheus") || !strcmp(format, "prom"))
    f = PS_EXPORT_PROMETHEUS;
  else {
    ps_error("--format '%s' is not known; use csv, markdown or prometheus", format);
    return PS_EXIT_USAGE;
  }
  json_t *root;
  int rc = ps_results_load_or_report(argv[optind], &root);
  if (rc)
    return rc;
  char *text = ps_export(root, f);
  json_decref(root);
  if (out) {
    int wr = ps_write_file_atomic(out, text, strlen(text));
    if (wr < 0) {
      ps_error("cannot write %s: %s", out, strerror(-wr));
      rc = PS_EXIT_IO;
    }
  } else {
    fputs(text, stdout);
  }
  free(text);
  return rc;
}
