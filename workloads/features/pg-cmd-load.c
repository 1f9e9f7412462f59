/* pg-cmd-load.c - `perfsweep-features load`: normalizes a dataset (jsonl:DIR or gen:SCALE)
 * and loads it into PostgreSQL with COPY, creating the schema of docs/postgres.md.
 *
 *   $ perfsweep-features load --dsn postgresql://perfsweep@127.0.0.1:5432/perfsweep --from gen:tiny
 *   table                   rows
 *   products                 350
 *   ...
 *   loaded 14517 rows in 0.41 s (copy 0.21 s, keys and indexes 0.20 s) into postgresql://...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-cli.h"
#include "fx-command.h"
#include "fx-metrics.h"
#include "fx-source.h"
#include "pg-load.h"

static void usage(FILE *out)
{
  fputs("usage: perfsweep-features load --dsn DSN --from jsonl:DIR|gen:SCALE [--seed N] "
        "[--json]\n"
        "  --dsn DSN      PostgreSQL connection string (postgresql://USER[:PASS]@HOST:PORT/DB);\n"
        "                 the normalized, feature and watermark tables are (re)created there\n"
        "  --from SPEC    the data: jsonl:DIR (written by generate, may be dirty) or gen:SCALE;\n"
        "                 it is normalized first: rejected records are counted, not loaded\n"
        "  --seed N       seed of a gen: source (1)\n"
        "  --json         print the loaded row counts and seconds as one JSON object\n"
        "example:\n"
        "  eval \"$(scripts/pg-start.sh)\"\n"
        "  perfsweep-features load --dsn \"$PERFSWEEP_TEST_DSN\" --from gen:tiny\n",
        out);
}

struct load_opts {
  const char *dsn, *from;
  uint64_t seed;
  int json;
};

static int parse(int argc, char **argv, struct load_opts *o)
{
  static const struct option opts[] = {
      {"dsn", required_argument, 0, 'd'}, {"from", required_argument, 0, 'f'},
      {"seed", required_argument, 0, 'S'}, {"json", no_argument, 0, 'j'},
      {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
  int c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': o->dsn = optarg; break;
    case 'f': o->from = optarg; break;
    case 'j': o->json = 1; break;
    case 'S':
      if (fx_parse_u64(optarg, 0, UINT64_MAX, &o->seed)) {
        fx_cli_error("load", "--seed %s: not a whole number; e.g. --seed 1", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'h': usage(stdout); return -1;
    case ':':
      fx_cli_error("load", "%s needs a value; see perfsweep-features load --help",
                   argv[optind - 1]);
      return PS_EXIT_USAGE;
    default:
      fx_cli_error("load", "unknown option '%s'; see perfsweep-features load --help",
                   argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fx_cli_error("load", "unexpected argument '%s'; see perfsweep-features load --help",
                 argv[optind]);
    return PS_EXIT_USAGE;
  }
  if (!o->dsn || !o->from) {
    fx_cli_error("load", "%s is required; e.g. perfsweep-features load --dsn "
                 "postgresql://perfsweep@127.0.0.1:5432/perfsweep --from gen:tiny",
                 !o->dsn ? "--dsn" : "--from");
    return PS_EXIT_USAGE;
  }
  return 0;
}

static void print_report(const struct load_opts *o, const char *masked,
                         const struct pg_load_report *rep, const struct fx_dataset *ds,
                         double total_s)
{
  uint64_t sum = 0;
  for (int t = 0; t < PG_T_COUNT; t++)
    sum += rep->rows[t];
  uint64_t rejected = fx_rejects_total(&ds->rejects);
  if (o->json) {
    printf("{\"dsn\":\"%s\",\"from\":\"%s\",\"rows\":{", masked, o->from);
    for (int t = 0; t < PG_T_COUNT; t++)
      printf("%s\"%s\":%llu", t ? "," : "", pg_table_names[t],
             (unsigned long long)rep->rows[t]);
    printf("},\"rows_total\":%llu,\"rejected\":%llu,\"seconds\":%.6f,\"copy_seconds\":%.6f,"
           "\"index_seconds\":%.6f}\n",
           (unsigned long long)sum, (unsigned long long)rejected, total_s, rep->seconds_copy,
           rep->seconds_index);
    return;
  }
  printf("%-22s %12s\n", "table", "rows");
  for (int t = 0; t < PG_T_COUNT; t++)
    printf("%-22s %12llu\n", pg_table_names[t], (unsigned long long)rep->rows[t]);
  printf("loaded %llu rows in %.2f s (copy %.2f s, keys and indexes %.2f s, %.0f rows/s) into "
         "%s; %llu records rejected by normalize\n",
         (unsigned long long)sum, total_s, rep->seconds_copy, rep->seconds_index,
         rep->seconds_copy > 0 ? (double)sum / rep->seconds_copy : 0.0, masked,
         (unsigned long long)rejected);
}

static int load_main(int argc, char **argv)
{
  struct load_opts o = {.seed = 1};
  int rc = parse(argc, argv, &o);
  if (rc)
    return rc < 0 ? PS_EXIT_OK : rc;
  const char *arg;
  const struct fx_source_ops *src = fx_source_find(o.from, &arg);
  if (!src || strcmp(src->scheme, "postgres") == 0) {
    fx_cli_error("load", "--from %s: not a loadable source; use jsonl:DIR or gen:SCALE",
                 o.from);
    return PS_EXIT_USAGE;
  }
  char *masked = pg_dsn_mask(o.dsn);
  struct fx_dataset ds = {0};
  struct fx_stage collect = {.name = "collect"}, normalize = {.name = "normalize"};
  struct fx_source_params sp = {1000, o.seed, 1};
  struct pg_session s;
  struct pg_load_report rep;
  char err[2048];
  double t0 = pg_now();

  rc = pg_session_open(&s, o.dsn, 1000);
  if (rc) {
    fx_cli_error("load", "%s", s.err);
    goto out;
  }
  rc = src->load(arg, &sp, &ds, &collect, &normalize, err, sizeof err);
  if (rc) {
    fx_cli_error("load", "%s", err);
    goto out;
  }
  if (pg_load_dataset(&s, &ds, o.from, &rep) != 0) {
    fx_cli_error("load", "loading %s into %s failed, nothing was changed: %s", o.from,
                 masked ? masked : "the database", s.err);
    rc = s.transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
    goto out;
  }
  double total = pg_now() - t0;
  print_report(&o, masked ? masked : "", &rep, &ds, total);
  uint64_t sum = 0;
  for (int t = 0; t < PG_T_COUNT; t++)
    sum += rep.rows[t];
  if (pg_session_emit_metrics("pg_load", &s, 1, total, NULL, NULL, -1, -1, ds.records_in,
                              (long long)sum) != 0) {
    fx_cli_error("load", "PERFSWEEP_METRICS=%s: cannot append the metrics; point it at a "
                 "writable file", getenv("PERFSWEEP_METRICS"));
    rc = PS_EXIT_IO;
  }
out:
  pg_session_close(&s);
  fx_dataset_free(&ds);
  free(masked);
  return rc;
}

const struct fx_command fx_cmd_load = {"load", load_main,
                                       "load a dataset into PostgreSQL (schema + COPY)"};
