/* cmd-history.c - `perfsweep history add|show|export`: record results over commits, print
 * and chart a metric per cell, and name the commit where a lasting change began.
 *
 *   $ perfsweep history add sweep/ --store bench-history.jsonl
 *   $ perfsweep history show --store bench-history.jsonl --metric wall --chart wall.svg
 *   cell batch=100,workers=1: wall
 *     #  commit      branch  machine  added                 n  median
 *     1  3f2a9c1e0b  main    ci-7     2026-11-20T10:00:00Z  5  41.2 ms
 *     step at commit 9e8d7c6b5a (run 7): 41.2 ms -> 55.0 ms (+33.5%)
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "compare.h"
#include "dsn.h"
#include "history.h"
#include "results.h"
#include "util.h"

static const char history_usage[] =
  "usage: perfsweep history add RESULTS --store STORE [--commit SHA] [--branch NAME] [--machine HOST]\n"
  "                             [--select PARAM=VALUE]   (one side of an --ab sweep)\n"
  "       perfsweep history show --store STORE [--metric wall] [--cell ID] [--machine HOST]\n"
  "                              [--branch NAME] [--chart out.svg|out.png] [--json]\n"
  "                              [--min-segment N] [--step-threshold PCT]\n"
  "       perfsweep history export --store STORE --commit SHA [--machine HOST] [-o FILE]\n\n"
  "Records results (a results.json or a 'perfsweep run' folder) with their commit, branch and\n"
  "machine, and shows a metric per cell over the recorded runs with the commit where a lasting\n"
  "change began (a step of at least --step-threshold %, default 5, held for --min-segment runs,\n"
  "default 3; single noisy points are ignored). 'export' writes the latest recorded run of a\n"
  "commit back as a results file, a base for 'perfsweep compare' without re-running it.\n\n"
  "STORE is a JSON-lines file (FILE.jsonl, created on first add) or a PostgreSQL DSN\n"
  "(postgresql://user@host/db; schema in docs/history-schema.sql, safe for concurrent runners).\n"
  "Metrics: wall, cpu, max_rss_kb, throughput, stage.<name>.seconds, alloc.calls, alloc.bytes.\n\n"
  "Examples:\n"
  "  perfsweep history add sweep/ --store history.jsonl --commit \"$GITHUB_SHA\" --branch main\n"
  "  perfsweep history show --store history.jsonl --metric wall --chart wall.svg\n"
  "  perfsweep history show --store postgresql://ci@db/bench --cell batch=100,workers=1 --json\n"
  "  perfsweep history export --store history.jsonl --commit 3f2a9c1 -o base.json\n";

struct history_cli {
  const char *store, *commit, *branch, *machine, *metric, *cell, *chart, *select, *out;
  int json;
  struct stepdetect_opts so;
};

static int history_parse(int argc, char **argv, struct history_cli *c, int *help)
{
  enum { O_STORE = 256, O_COMMIT, O_BRANCH, O_MACHINE, O_METRIC, O_CELL, O_CHART, O_JSON, O_MINSEG,
         O_STEPTHR, O_SELECT };
  static const struct option longopts[] = {
    {"store", required_argument, 0, O_STORE}, {"commit", required_argument, 0, O_COMMIT},
    {"branch", required_argument, 0, O_BRANCH}, {"machine", required_argument, 0, O_MACHINE},
    {"metric", required_argument, 0, O_METRIC}, {"cell", required_argument, 0, O_CELL},
    {"chart", required_argument, 0, O_CHART}, {"json", no_argument, 0, O_JSON},
    {"min-segment", required_argument, 0, O_MINSEG},
    {"step-threshold", required_argument, 0, O_STEPTHR}, {"select", required_argument, 0, O_SELECT},
    {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};
  int ch;
  char *end;
  optind = 0;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
    switch (ch) {
    case 'h': *help = 1; return 0;
    case 'o': c->out = optarg; break;
    case O_STORE: c->store = optarg; break;
    case O_COMMIT: c->commit = optarg; break;
    case O_BRANCH: c->branch = optarg; break;
    case O_MACHINE: c->machine = optarg; break;
    case O_METRIC: c->metric = optarg; break;
    case O_CELL: c->cell = optarg; break;
    case O_CHART: c->chart = optarg; break;
    case O_JSON: c->json = 1; break;
    case O_SELECT: c->select = optarg; break;
    case O_MINSEG: {
      long v = strtol(optarg, &end, 10);
      if (*end || end == optarg || v < 1 || v > 1000) {
        ps_error("--min-segment expects a number of runs from 1 to 1000, not '%s'", optarg);
        return -1;
      }
      c->so.min_segment = (size_t)v;
      break;
    }
    case O_STEPTHR: {
      double v = strtod(optarg, &end);
      if (*end || end == optarg || !(v >= 0 && v < 1000)) {
        ps_error("--step-threshold expects a percentage like 5, not '%s'", optarg);
        return -1;
      }
      c->so.threshold = v / 100.0;
      break;
    }
    default:
      ps_error("unknown or incomplete option '%s'; see 'perfsweep history --help'",
               argv[optind - 1]);
      return -1;
    }
  }
  return 0;
}

static int history_cmd_add(struct history_cli *c, int npos, char **pos)
{
  if (npos != 1 || !c->store) {
    ps_error("usage: perfsweep history add RESULTS --store STORE (got %d results and %s store)",
             npos, c->store ? "a" : "no");
    return PS_EXIT_USAGE;
  }
  json_t *results;
  char msg[1024], *err = NULL;
  int rc = ps_results_load(pos[0], &results, msg, sizeof(msg));
  if (rc) {
    ps_error("%s", msg);
    return PS_EXIT_USAGE;
  }
  if (c->select) {
    /* one side of an interleaved A/B sweep: the cells with PARAM=VALUE, without PARAM */
    const char *eq = strchr(c->select, '=');
    json_t *side = NULL;
    if (!eq || eq == c->select || !eq[1]) {
      ps_error("--select expects PARAM=VALUE (e.g. --select side=new), not '%s'", c->select);
      json_decref(results);
      return PS_EXIT_USAGE;
    }
    char *param = ps_xasprintf("%.*s", (int)(eq - c->select), c->select);
    rc = compare_split(results, pos[0], param, eq + 1, &side, &err);
    free(param);
    json_decref(results);
    if (rc) {
      ps_error("%s", err);
      free(err);
      return rc;
    }
    results = side;
  }
  struct history_record rec;
  struct history_meta meta = {c->commit, c->branch, c->machine};
  struct history_store *s = NULL;
  if (!(rc = history_record_from_results(results, &meta, &rec, &err))) {
    if (!(rc = history_open(c->store, &s, &err)) && !(rc = history_add(s, &rec, &err))) {
      char *name = ps_dsn_mask(c->store);
      printf("recorded %zu cells of commit %s (%s) from %s into %s\n", rec.ncells, rec.commit,
             rec.hostname, pos[0], name);
      free(name);
    }
    history_record_free(&rec);
  }
  if (rc)
    ps_error("%s", err);
  free(err);
  history_close(s);
  json_decref(results);
  return rc;
}

static const char *history_unit(const char *metric)
{
  struct compare_metric_info info;
  compare_metric_info(metric, &info);
  return info.unit;
}

/* Distinct machines in a series: steps across machines are not changes of the code. */
static size_t history_machines(const struct history_point *p, const struct history_series *s)
{
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++) {
    size_t j = 0;
    while (j < i && strcmp(p[s->idx[j]].machine, p[s->idx[i]].machine))
      j++;
    n += j == i;
  }
  return n;
}

static void history_print(const struct history_cli *c, const struct history_point *p,
                          const struct history_series *s, size_t ns)
{
  const char *unit = history_unit(c->metric);
  for (size_t k = 0; k < ns; k++) {
    printf("%scell %s: %s (median per recorded run)\n", k ? "\n" : "", s[k].cell, c->metric);
    printf("  %4s  %-12s %-14s %-14s %-20s %4s  %s\n", "#", "commit", "branch", "machine", "added",
           "n", "median");
    for (size_t i = 0; i < s[k].n; i++) {
      const struct history_point *q = &p[s[k].idx[i]];
      char v[48];
      compare_fmt_value(v, sizeof(v), q->median, unit);
      printf("  %4zu  %-12.12s %-14.14s %-14.14s %-20.20s %4zu  %s\n", i + 1, q->commit, q->branch,
             q->machine, q->added, q->n, v);
    }
    struct step st[16];
    size_t m = history_steps(p, &s[k], &c->so, st, 16);
    for (size_t j = 0; j < m; j++) {
      char b[48], a[48];
      compare_fmt_value(b, sizeof(b), st[j].before, unit);
      compare_fmt_value(a, sizeof(a), st[j].after, unit);
      printf("  step at commit %s (run %zu): %s -> %s (%+.1f%%)\n", p[s[k].idx[st[j].index]].commit,
             st[j].index + 1, b, a, 100.0 * st[j].change);
    }
    if (!m)
      printf("  no lasting change (%zu runs; a step needs %zu runs on each side)\n", s[k].n,
             c->so.min_segment);
    size_t nm = history_machines(p, &s[k]);
    if (nm > 1)
      printf("  warning: this series mixes %zu machines; a step may be a change of machine: "
             "filter with --machine HOST\n", nm);
  }
}

static json_t *history_json(const struct history_cli *c, const struct history_point *p,
                            const struct history_series *s, size_t ns)
{
  json_t *cells = json_array();
  for (size_t k = 0; k < ns; k++) {
    json_t *pts = json_array(), *steps = json_array();
    for (size_t i = 0; i < s[k].n; i++) {
      const struct history_point *q = &p[s[k].idx[i]];
      json_array_append_new(pts, json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "commit", q->commit,
                                           "branch", q->branch, "machine", q->machine, "added",
                                           q->added, "n", (json_int_t)q->n, "median",
                                           isfinite(q->median) ? json_real(q->median)
                                                               : json_null()));
    }
    struct step st[16];
    size_t m = history_steps(p, &s[k], &c->so, st, 16);
    for (size_t j = 0; j < m; j++)
      json_array_append_new(steps, json_pack("{s:s, s:I, s:f, s:f, s:o}", "commit",
                                             p[s[k].idx[st[j].index]].commit, "index",
                                             (json_int_t)st[j].index, "before", st[j].before,
                                             "after", st[j].after, "change",
                                             isfinite(st[j].change) ? json_real(st[j].change)
                                                                    : json_null()));
    json_array_append_new(cells, json_pack("{s:s, s:I, s:o, s:o}", "cell", s[k].cell,
                                           "machines", (json_int_t)history_machines(p, &s[k]),
                                           "points", pts, "steps", steps));
  }
  return json_pack("{s:s, s:s, s:o}", "schema", "perfsweep.history-show/1", "metric", c->metric,
                   "cells", cells);
}

static int history_cmd_show(struct history_cli *c, int npos)
{
  if (npos != 0 || !c->store) {
    ps_error("usage: perfsweep history show --store STORE [--metric M] [--cell ID] (%s)",
             c->store ? "unexpected argument" : "no --store given");
    return PS_EXIT_USAGE;
  }
  if (!c->metric)
    c->metric = "wall";
  struct history_store *s = NULL;
  struct history_point *p = NULL;
  size_t n = 0;
  char *err = NULL;
  struct history_query q = {c->metric, c->cell, c->machine, c->branch};
  int rc = history_open(c->store, &s, &err);
  if (!rc)
    rc = history_query(s, &q, &p, &n, &err);
  if (!rc && n == 0) {
    char *name = ps_dsn_mask(c->store);
    err = ps_xasprintf("no recorded point of metric '%s'%s%s in %s; check --metric (wall, cpu, "
                       "max_rss_kb, throughput, stage.<name>.seconds, alloc.calls) and --cell",
                       c->metric, c->cell ? " for cell " : "", c->cell ? c->cell : "", name);
    free(name);
    rc = PS_EXIT_USAGE;
  }
  if (!rc) {
    struct history_series *ser;
    size_t ns = history_group(p, n, &ser);
    if (c->json) {
      json_t *j = history_json(c, p, ser, ns);
      json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
      putchar('\n');
      json_decref(j);
    } else {
      history_print(c, p, ser, ns);
    }
    history_series_free(ser, ns);
    if (c->chart && !(rc = history_chart(c->chart, c->metric, p, n, &c->so, &err)) && !c->json)
      printf("\nchart: %s\n", c->chart);
  }
  if (rc)
    ps_error("%s", err);
  free(err);
  history_points_free(p, n);
  history_close(s);
  return rc;
}

static int history_cmd_export(struct history_cli *c, int npos)
{
  if (npos != 0 || !c->store || !c->commit) {
    ps_error("usage: perfsweep history export --store STORE --commit SHA [-o FILE] (%s)",
             npos ? "unexpected argument" : !c->store ? "no --store given" : "no --commit given");
    return PS_EXIT_USAGE;
  }
  struct history_store *s = NULL;
  struct history_record rec = {0};
  char *err = NULL;
  int rc = history_open(c->store, &s, &err);
  if (!rc)
    rc = history_find(s, c->commit, c->machine, &rec, &err);
  if (!rc) {
    json_t *j = history_results_json(&rec);
    if (c->out) {
      int w = ps_results_write(c->out, j);
      if (w < 0) {
        err = ps_xasprintf("cannot write '%s': %s", c->out, strerror(-w));
        rc = PS_EXIT_IO;
      } else {
        fprintf(stderr, "perfsweep history: wrote %zu cells of commit %s (%s) to %s\n",
                rec.ncells, rec.commit, rec.hostname, c->out);
      }
    } else {
      json_dumpf(j, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
      putchar('\n');
    }
    json_decref(j);
  }
  if (rc)
    ps_error("%s", err);
  free(err);
  history_record_free(&rec);
  history_close(s);
  return rc;
}

int cmd_history(int argc, char **argv)
{
  struct history_cli c = {0};
  int help = 0;
  stepdetect_opts_init(&c.so);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(history_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? PS_EXIT_USAGE : PS_EXIT_OK;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "add") && strcmp(sub, "show") && strcmp(sub, "export")) {
    ps_error("unknown history command '%s'; use add, show or export (see 'perfsweep history --help')",
             sub);
    return PS_EXIT_USAGE;
  }
  if (history_parse(argc - 1, argv + 1, &c, &help))
    return PS_EXIT_USAGE;
  if (help) {
    fputs(history_usage, stdout);
    return PS_EXIT_OK;
  }
  int npos = argc - 1 - optind;
  char **pos = argv + 1 + optind;
  if (!strcmp(sub, "export"))
    return history_cmd_export(&c, npos);
  return !strcmp(sub, "add") ? history_cmd_add(&c, npos, pos) : history_cmd_show(&c, npos);
}
