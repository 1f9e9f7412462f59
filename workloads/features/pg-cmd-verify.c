/* pg-cmd-verify.c - `perfsweep-features verify`: runs the SQL of every feature documented in
 * docs/features.md inside PostgreSQL and compares it with the rows the engine wrote to the
 * feature tables (run --sink postgres:DSN). Exit 0 when they agree, 7 when they do not.
 *
 *   $ perfsweep-features verify --dsn postgresql://perfsweep@127.0.0.1:5432/perfsweep
 *   table                  engine      sql  compared  mismatched  sql_seconds
 *   product_features          350      350       350           0       0.0123
 *   ...
 *   verify: the engine agrees with the documented SQL on 743 rows
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-cli.h"
#include "fx-command.h"
#include "fx-metrics.h"
#include "pg-config.h"
#include "pg-schema.h"
#include "pg-verify.h"

static void usage(FILE *out)
{
  fputs("usage: perfsweep-features verify --dsn DSN [--doc FILE] [--max-diffs N] [--json]\n"
        "  --dsn DSN        the database holding the dataset (load) and the engine's feature\n"
        "                   rows (run --sink postgres:DSN)\n"
        "  --doc FILE       the features document whose ```sql blocks define the features\n"
        "                   (default: docs/features.md of the source tree)\n"
        "  --max-diffs N    differences printed before stopping to print (10)\n"
        "  --json           print the comparison as one JSON object\n"
        "exit: 0 the engine agrees with the SQL, 7 it does not (first differences printed)\n"
        "example:\n"
        "  perfsweep-features load --dsn \"$PERFSWEEP_TEST_DSN\" --from gen:tiny\n"
        "  perfsweep-features run --source gen:tiny --sink postgres:\"$PERFSWEEP_TEST_DSN\"\n"
        "  perfsweep-features verify --dsn \"$PERFSWEEP_TEST_DSN\"\n",
        out);
}

struct verify_opts {
  const char *dsn, *doc;
  uint64_t max_diffs;
  int json;
};

static int parse(int argc, char **argv, struct verify_opts *o)
{
  static const struct option opts[] = {
      {"dsn", required_argument, 0, 'd'},       {"doc", required_argument, 0, 'D'},
      {"max-diffs", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
      {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
  int c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': o->dsn = optarg; break;
    case 'D': o->doc = optarg; break;
    case 'j': o->json = 1; break;
    case 'm':
      if (fx_parse_u64(optarg, 0, 1000000, &o->max_diffs)) {
        fx_cli_error("verify", "--max-diffs %s: must be a whole number from 0 to 1000000",
                     optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'h': usage(stdout); return -1;
    case ':':
      fx_cli_error("verify", "%s needs a value; see perfsweep-features verify --help",
                   argv[optind - 1]);
      return PS_EXIT_USAGE;
    default:
      fx_cli_error("verify", "unknown option '%s'; see perfsweep-features verify --help",
                   argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fx_cli_error("verify", "unexpected argument '%s'; see perfsweep-features verify --help",
                 argv[optind]);
    return PS_EXIT_USAGE;
  }
  if (!o->dsn) {
    fx_cli_error("verify", "--dsn is required; e.g. perfsweep-features verify --dsn "
                 "postgresql://perfsweep@127.0.0.1:5432/perfsweep");
    return PS_EXIT_USAGE;
  }
  return 0;
}

static void print_report(const struct verify_opts *o, const struct pg_verify_report *rep,
                         const char *doc, const char *diffs)
{
  uint64_t rows = 0;
  double sql_s = 0;
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    rows += rep->kind[k].compared;
    sql_s += rep->kind[k].sql_seconds;
  }
  if (o->json) {
    printf("{\"doc\":");
    pg_json_string(stdout, doc);
    printf(",\"agree\":%s,\"problems\":%llu,\"sql_seconds\":%.6f,\"tables\":{",
           rep->problems ? "false" : "true", (unsigned long long)rep->problems, sql_s);
    for (int k = 0; k < FX_KIND_COUNT; k++) {
      const struct pg_verify_kind *v = &rep->kind[k];
      printf("%s\"%s\":{\"engine_rows\":%llu,\"sql_rows\":%llu,\"compared\":%llu,"
             "\"mismatched_rows\":%llu,\"mismatched_values\":%llu,\"missing_in_engine\":%llu,"
             "\"missing_in_sql\":%llu,\"sql_seconds\":%.6f}",
             k ? "," : "", fx_table_desc((enum fx_kind)k)->table,
             (unsigned long long)v->rows_engine, (unsigned long long)v->rows_sql,
             (unsigned long long)v->compared, (unsigned long long)v->mismatched_rows,
             (unsigned long long)v->mismatched_values, (unsigned long long)v->missing_in_engine,
             (unsigned long long)v->missing_in_sql, v->sql_seconds);
    }
    printf("},\"first_differences\":");
    pg_json_string(stdout, diffs);
    printf("}\n");
    return;
  }
  printf("%-22s %9s %9s %9s %11s %9s %9s %12s\n", "table", "engine", "sql", "compared",
         "mismatched", "only_sql", "only_eng", "sql_seconds");
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    const struct pg_verify_kind *v = &rep->kind[k];
    printf("%-22s %9llu %9llu %9llu %11llu %9llu %9llu %12.4f\n",
           fx_table_desc((enum fx_kind)k)->table, (unsigned long long)v->rows_engine,
           (unsigned long long)v->rows_sql, (unsigned long long)v->compared,
           (unsigned long long)v->mismatched_rows, (unsigned long long)v->missing_in_engine,
           (unsigned long long)v->missing_in_sql, v->sql_seconds);
  }
  if (rep->problems) {
    printf("first differences:\n%s", diffs);
    printf("verify: the engine and the documented SQL (%s) disagree on %llu rows\n", doc,
           (unsigned long long)rep->problems);
  } else {
    printf("verify: the engine agrees with the documented SQL (%s) on %llu rows\n", doc,
           (unsigned long long)rows);
  }
}

static int verify_main(int argc, char **argv)
{
  struct verify_opts o = {.max_diffs = 10};
  int rc = parse(argc, argv, &o);
  if (rc)
    return rc < 0 ? PS_EXIT_OK : rc;
  char *doc = o.doc ? strdup(o.doc) : pg_verify_default_doc();
  char *md = NULL, *diffs = NULL, *sql[FX_KIND_COUNT] = {0};
  size_t dlen = 0;
  char err[1024];
  struct pg_session s;
  memset(&s, 0, sizeof s);
  if (!doc) {
    fx_cli_error("verify", "docs/features.md was not found next to the source tree or the "
                 "binary; pass it with --doc FILE or PERFSWEEP_FEATURES_DOC");
    rc = PS_EXIT_USAGE;
    goto out;
  }
  FILE *fp = fopen(doc, "r");
  if (fp) {
    size_t cap = 0;
    ssize_t n = getdelim(&md, &cap, '\0', fp);
    fclose(fp);
    if (n < 0) {
      free(md);
      md = NULL;
    }
  }
  if (!md) {
    fx_cli_error("verify", "%s: cannot read the features document; check the path", doc);
    rc = PS_EXIT_USAGE;
    goto out;
  }
  if (pg_verify_extract_sql(md, sql, err, sizeof err)) {
    fx_cli_error("verify", "%s: %s", doc, err);
    rc = PS_EXIT_USAGE;
    goto out;
  }
  char *dsn = strdup(o.dsn);
  pg_dsn_hide_in_place((char *)o.dsn);
  rc = pg_session_open(&s, dsn, pg_config()->slow_ms);
  s.dsn = dsn;
  if (rc) {
    fx_cli_error("verify", "%s", s.err);
    goto out_dsn;
  }
  if (pg_schema_check_loaded(&s)) {
    fx_cli_error("verify", "%s", s.err);
    rc = s.transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_USAGE;
    goto out_dsn;
  }
  if (pg_schema_ensure_features(&s)) {
    fx_cli_error("verify", "%s", s.err);
    rc = PS_EXIT_ENVIRONMENT;
    goto out_dsn;
  }
  FILE *dm = open_memstream(&diffs, &dlen);
  struct pg_verify_report rep;
  double t0 = pg_now();
  int vr = pg_verify_run(&s, sql, o.max_diffs, dm ? dm : stderr, &rep);
  if (dm)
    fclose(dm);
  if (vr) {
    fx_cli_error("verify", "%s", s.err);
    rc = s.transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_USAGE;
    goto out_dsn;
  }
  print_report(&o, &rep, doc, diffs ? diffs : "");
  uint64_t rows = 0;
  for (int k = 0; k < FX_KIND_COUNT; k++)
    rows += rep.kind[k].rows_sql;
  if (rep.kind[0].rows_engine + rep.kind[1].rows_engine + rep.kind[2].rows_engine == 0 && rows)
    fx_cli_error("verify", "the feature tables are empty: write the engine's rows first with "
                 "perfsweep-features run --source postgres:DSN --sink postgres:DSN");
  pg_session_emit_metrics("pg_verify", &s, 1, pg_now() - t0, NULL, NULL, -1, -1, rows,
                          (long long)(rows - rep.problems));
  rc = rep.problems ? PS_EXIT_DATA : PS_EXIT_OK;
out_dsn:
  pg_session_close(&s);
  free(dsn);
out:
  for (int k = 0; k < FX_KIND_COUNT; k++)
    free(sql[k]);
  free(md);
  free(diffs);
  free(doc);
  return rc;
}

const struct fx_command fx_cmd_verify = {
    "verify", verify_main, "check the engine's feature rows against the documented SQL"};
