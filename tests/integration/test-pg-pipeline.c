/* test-pg-pipeline.c - PostgreSQL as the feature workload's source and sink, on the real
 * binary: load (dirty data: rejected records are not loaded), run with the memory and the
 * postgres source into the postgres sink, verify against the SQL of docs/features.md, the
 * same digest as the in-memory run for several batch sizes and worker counts, a corrupted row
 * caught by verify, and the database figures in the stage metrics.
 * Needs $PERFSWEEP_TEST_DSN (eval "$(scripts/pg-start.sh)"); each test has its own database.
 */
#include "fixtures/pg/pg-test-run.h"

TestSuite(pg_pipeline, .init = pgt_setup, .fini = pgt_teardown, .timeout = 120);

/* Generates tiny with 5% dirty records into DIR/data and loads it. */
static void load_dirty_tiny(void)
{
  cr_assert_eq(pgt_run("%s generate --scale tiny --seed 7 --dirty 0.05 --out '%s/data'", FX,
                       pgt_dir), 0, "generate: %s", pgt_err);
  cr_assert_eq(pgt_run("%s load --dsn '%s' --from 'jsonl:%s/data' --json", FX, pgt_dsn, pgt_dir),
               0, "load: %s", pgt_err);
  cr_assert_not_null(strstr(pgt_out, "\"products\":350"), "load output: %s", pgt_out);
  cr_assert_null(strstr(pgt_out, "\"rejected\":0,"), "dirty data should have rejects: %s",
                 pgt_out);
}

Test(pg_pipeline, memory_and_postgres_sources_agree_with_sql_and_digest)
{
  load_dirty_tiny();
  char mem[17], viamem[17], viapg[17];
  cr_assert_eq(pgt_run("%s run --source 'jsonl:%s/data'", FX, pgt_dir), 0, "%s", pgt_err);
  pgt_digest(mem);

  cr_assert_eq(pgt_run("%s run --source 'jsonl:%s/data' --sink 'postgres:%s'", FX, pgt_dir,
                       pgt_dsn), 0, "memory source, postgres sink: %s", pgt_err);
  pgt_digest(viamem);
  cr_assert_str_eq(viamem, mem);
  cr_assert_eq(pgt_run("%s verify --dsn '%s'", FX, pgt_dsn), 0,
               "verify after the memory source:\n%s%s", pgt_out, pgt_err);

  const char *shapes[][2] = {{"7", "3"}, {"1000", "1"}, {"100000", "2"}};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(pgt_run("%s run --source 'postgres:%s' --sink 'postgres:%s' --batch-size %s "
                         "--workers %s", FX, pgt_dsn, pgt_dsn, shapes[i][0], shapes[i][1]),
                 0, "postgres source B=%s W=%s: %s", shapes[i][0], shapes[i][1], pgt_err);
    pgt_digest(viapg);
    cr_assert_str_eq(viapg, mem, "digest of the postgres source at B=%s W=%s", shapes[i][0],
                     shapes[i][1]);
    cr_assert_eq(pgt_run("%s verify --dsn '%s' --json", FX, pgt_dsn), 0,
                 "verify after the postgres source:\n%s%s", pgt_out, pgt_err);
    cr_assert_not_null(strstr(pgt_out, "\"agree\":true"), "%s", pgt_out);
  }
  cr_assert_eq(pgt_sql_num(pgt_dsn, "SELECT count(*) FROM watermarks WHERE complete"), 3,
               "every kind's watermark is complete after a finished run");
}

Test(pg_pipeline, verify_names_the_first_difference_and_fails)
{
  load_dirty_tiny();
  cr_assert_eq(pgt_run("%s run --source 'postgres:%s' --sink 'postgres:%s'", FX, pgt_dsn,
                       pgt_dsn), 0, "%s", pgt_err);
  pgt_sql_num(pgt_dsn, "UPDATE user_features SET distinct_products = distinct_products + 1 "
                       "WHERE customer_id = (SELECT min(customer_id) FROM user_features)");
  pgt_sql_num(pgt_dsn, "DELETE FROM collection_features WHERE collection_id = "
                       "(SELECT max(collection_id) FROM collection_features)");
  int rc = pgt_run("%s verify --dsn '%s'", FX, pgt_dsn);
  cr_assert_eq(rc, 7, "a wrong row must fail verify with exit 7, got %d:\n%s%s", rc, pgt_out,
               pgt_err);
  cr_assert_not_null(strstr(pgt_out, "distinct_products engine"), "%s", pgt_out);
  cr_assert_not_null(strstr(pgt_out, "the engine's table none"), "%s", pgt_out);
  cr_assert_not_null(strstr(pgt_out, "disagree on 2 rows"), "%s", pgt_out);
}

Test(pg_pipeline, stage_metrics_carry_database_figures)
{
  load_dirty_tiny();
  char metrics[400];
  snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", pgt_dir);
  cr_assert_eq(pgt_run("PERFSWEEP_METRICS='%s' PERFSWEEP_PG_SLOW_MS=0 %s run --source "
                       "'postgres:%s' --sink 'postgres:%s' --batch-size 50 --workers 2",
                       metrics, FX, pgt_dsn, pgt_dsn), 0, "%s", pgt_err);
  char m[1 << 16];
  pgt_slurp(metrics, m, sizeof m);
  const char *collect = strstr(m, "\"stage\":\"pg_collect\"");
  const char *sink = strstr(m, "\"stage\":\"pg_sink\"");
  cr_assert_not_null(collect, "no pg_collect line in:\n%s", m);
  cr_assert_not_null(sink, "no pg_sink line in:\n%s", m);
  cr_assert_not_null(strstr(m, "\"stage\":\"total\""), "the engine's lines are still there");
  const char *keys[] = {"\"round_trips\":", "\"read_rows\":{\"count\":", "\"p95_ms\":",
                        "\"p99_ms\":", "\"upsert\":{", "\"pool_utilization\":",
                        "\"peak_active_connections\":", "\"deadlocks\":", "\"conflicts\":",
                        "\"slow_queries\":{\"count\":", "\"statement\":"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    cr_assert_not_null(strstr(m, keys[i]), "metrics lack %s:\n%s", keys[i], m);
  cr_assert_null(strstr(m, "\"server\":null"), "pg_stat_database figures missing:\n%s", m);
}

Test(pg_pipeline, load_rejects_bad_arguments_in_one_line)
{
  int rc = pgt_run("%s load --dsn '%s'", FX, pgt_dsn);
  cr_assert_eq(rc, 3, "missing --from: %d %s", rc, pgt_err);
  cr_assert_not_null(strstr(pgt_err, "--from is required"), "%s", pgt_err);
  rc = pgt_run("%s load --dsn '%s' --from 'postgres:%s'", FX, pgt_dsn, pgt_dsn);
  cr_assert_eq(rc, 3, "postgres is not loadable into itself: %d %s", rc, pgt_err);
  rc = pgt_run("%s run --source 'postgres:%s'", FX, pgt_dsn);
  cr_assert_eq(rc, 3, "running before load must say so: %d %s", rc, pgt_err);
  cr_assert_not_null(strstr(pgt_err, "perfsweep-features load"), "%s", pgt_err);
  cr_assert_eq(pgt_run("%s load --help", FX), 0);
  cr_assert_not_null(strstr(pgt_out, "example:"), "%s", pgt_out);
  cr_assert_eq(pgt_run("%s verify --help", FX), 0);
  cr_assert_not_null(strstr(pgt_out, "example:"), "%s", pgt_out);
}
