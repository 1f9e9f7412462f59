/* test-pg-stats.c - database metrics: quantiles, slow statements kept and bounded, merging
 * per-connection stats, and the shape of the "db" JSON object and metrics line.
 * The module is compiled into this test directly: it depends on libpq and jansson only.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../../workloads/features/pg-stats.c"
#include "test-tmp.h"

Test(pg_stats, quantiles_interpolate)
{
  double v[] = {5, 1, 4, 2, 3};
  cr_assert_float_eq(pg_stats_quantile(v, 5, 0.5), 3.0, 1e-12);
  cr_assert_float_eq(pg_stats_quantile(v, 5, 0.0), 1.0, 1e-12);
  cr_assert_float_eq(pg_stats_quantile(v, 5, 1.0), 5.0, 1e-12);
  cr_assert_float_eq(pg_stats_quantile(v, 5, 0.95), 4.8, 1e-12);
  cr_assert_float_eq(pg_stats_quantile(NULL, 0, 0.5), 0.0, 1e-12);
}

Test(pg_stats, slow_queries_counted_and_slowest_kept)
{
  struct pg_stats st;
  pg_stats_init(&st, 10.0);
  for (int i = 0; i < 20; i++) {
    char sql[32];
    snprintf(sql, sizeof sql, "SELECT %d", i);
    pg_stats_record(&st, PG_Q_READ_ROWS, sql, i * 0.001, 2, 0, 1);
  }
  cr_assert_eq(st.queries, 20);
  cr_assert_eq(st.rows_read, 40);
  cr_assert_eq(st.slow_count, 10, "statements of 10..19 ms are slow, got %llu",
               (unsigned long long)st.slow_count);
  cr_assert_eq(st.nslow, PG_STATS_MAX_SLOW);
  for (size_t i = 0; i < st.nslow; i++)
    cr_assert_geq(st.slow_ms[i], 15.0 - 1e-9, "kept a statement of %.1f ms, not among slowest",
                  st.slow_ms[i]);
  pg_stats_release(&st);
}

Test(pg_stats, merge_adds_counters_and_samples)
{
  struct pg_stats a, b;
  pg_stats_init(&a, 0);
  pg_stats_init(&b, 0);
  pg_stats_record(&a, PG_Q_COPY_IN, "COPY", 0.002, 0, 100, 2);
  pg_stats_record(&b, PG_Q_COPY_IN, "COPY", 0.004, 0, 50, 2);
  pg_stats_record(&b, PG_Q_UPSERT, "INSERT", 0.001, 0, 50, 1);
  pg_stats_merge(&a, &b);
  cr_assert_eq(a.queries, 3);
  cr_assert_eq(a.round_trips, 5);
  cr_assert_eq(a.rows_written, 200);
  cr_assert_eq(a.lat[PG_Q_COPY_IN].n, 2);
  cr_assert_float_eq(a.busy_s, 0.007, 1e-12);
  pg_stats_release(&a);
  pg_stats_release(&b);
}

Test(pg_stats, json_line_has_latency_and_utilization)
{
  char path[] = "/tmp/ps-test-pg-stats-XXXXXX";
  close(ps_test_mkstemp(path));
  setenv("PERFSWEEP_METRICS", path, 1);
  struct pg_stats conn[2];
  pg_stats_init(&conn[0], 1000);
  pg_stats_init(&conn[1], 1000);
  pg_stats_record(&conn[0], PG_Q_READ_KEYS, "SELECT", 0.5, 10, 0, 1);
  pg_stats_record(&conn[1], PG_Q_READ_KEYS, "SELECT", 0.25, 10, 0, 1);
  struct pg_stats total;
  pg_stats_init(&total, 1000);
  pg_stats_merge(&total, &conn[0]);
  pg_stats_merge(&total, &conn[1]);
  struct pg_server_snapshot b = {.ok = 1, .deadlocks = 1}, a = {.ok = 1, .deadlocks = 3};
  char *db = NULL;
  size_t dblen = 0;
  FILE *m = open_memstream(&db, &dblen);
  pg_stats_write_json(m, &total, conn, 2, 1.0, &b, &a, 2, 3);
  fclose(m);
  cr_assert_eq(pg_stats_append_metrics("db", 1.0, 20, 0, 2, db), 0);
  free(db);

  json_error_t err;
  json_t *line = json_load_file(path, JSON_DISABLE_EOF_CHECK, &err);
  cr_assert_not_null(line, "metrics line does not parse: %s", err.text);
  cr_assert_str_eq(json_string_value(json_object_get(line, "schema")), "perfsweep.metrics/1");
  cr_assert_str_eq(json_string_value(json_object_get(line, "stage")), "db");
  json_t *d = json_object_get(line, "db");
  cr_assert_eq(json_integer_value(json_object_get(d, "round_trips")), 2);
  cr_assert_float_eq(json_real_value(json_object_get(d, "pool_utilization")), 0.375, 1e-9);
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "server"), "deadlocks")), 2);
  json_t *rk = json_object_get(json_object_get(d, "latency"), "read_keys");
  cr_assert_not_null(rk, "latency.read_keys missing");
  cr_assert_float_eq(json_real_value(json_object_get(rk, "p50_ms")), 375.0, 1e-9);
  cr_assert_eq(json_integer_value(json_object_get(d, "peak_active_connections")), 2);
  json_decref(line);
  unlink(path);
  pg_stats_release(&conn[0]);
  pg_stats_release(&conn[1]);
  pg_stats_release(&total);
}
