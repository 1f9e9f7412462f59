/* pg-stats.c - database-side metrics: per-connection counters and latencies, slow statements,
 * pg_stat_database snapshots, a pg_stat_activity poller for peak connections, and the "db"
 * JSON object written into the stage metrics. Recording never fails a run: when memory runs
 * out a sample is dropped, when a stats query fails the figure is reported as unknown.
 */
#include "pg-stats.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[] = {
#define PG_QK_NAME(name, text) text,
    PG_QUERY_KIND_MAP(PG_QK_NAME)
#undef PG_QK_NAME
};

const char *pg_query_kind_name(enum pg_query_kind kind)
{
  return (unsigned)kind < PG_Q__COUNT ? kind_names[kind] : "unknown";
}

double pg_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void pg_stats_init(struct pg_stats *st, double slow_ms)
{
  memset(st, 0, sizeof *st);
  st->slow_threshold_ms = slow_ms;
}

void pg_stats_release(struct pg_stats *st)
{
  if (!st)
    return;
  for (size_t k = 0; k < PG_Q__COUNT; k++)
    free(st->lat[k].ms);
  for (size_t i = 0; i < st->nslow; i++)
    free(st->slow_stmt[i]);
  memset(st, 0, sizeof *st);
}

static void lat_push(struct pg_latencies *l, double ms)
{
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 256;
    double *nm = realloc(l->ms, ncap * sizeof *nm);
    if (!nm)
      return;
    l->ms = nm;
    l->cap = ncap;
  }
  l->ms[l->n++] = ms;
}

/* Keeps the PG_STATS_MAX_SLOW slowest statements; takes ownership of stmt (may be NULL). */
static void slow_keep(struct pg_stats *st, char *stmt, double ms)
{
  if (!stmt)
    return;
  if (st->nslow < PG_STATS_MAX_SLOW) {
    st->slow_stmt[st->nslow] = stmt;
    st->slow_ms[st->nslow++] = ms;
    return;
  }
  size_t min = 0;
  for (size_t i = 1; i < st->nslow; i++)
    if (st->slow_ms[i] < st->slow_ms[min])
      min = i;
  if (ms <= st->slow_ms[min]) {
    free(stmt);
    return;
  }
  free(st->slow_stmt[min]);
  st->slow_stmt[min] = stmt;
  st->slow_ms[min] = ms;
}

void pg_stats_record(struct pg_stats *st, enum pg_query_kind kind, const char *stmt,
                     double seconds, uint64_t rows_read, uint64_t rows_written,
                     unsigned round_trips)
{
  if ((unsigned)kind >= PG_Q__COUNT)
    kind = PG_Q_OTHER;
  double ms = seconds * 1e3;
  st->queries++;
  st->round_trips += round_trips;
  st->rows_read += rows_read;
  st->rows_written += rows_written;
  st->busy_s += seconds;
  lat_push(&st->lat[kind], ms);
  if (st->slow_threshold_ms >= 0 && ms >= st->slow_threshold_ms) {
    st->slow_count++;
    char *text = NULL; /* its first 200 bytes */
    if (stmt && asprintf(&text, "%.200s", stmt) < 0)
      text = NULL;
    slow_keep(st, text, ms);
  }
}

void pg_stats_merge(struct pg_stats *into, const struct pg_stats *from)
{
  into->queries += from->queries;
  into->round_trips += from->round_trips;
  into->rows_read += from->rows_read;
  into->rows_written += from->rows_written;
  into->errors += from->errors;
  into->busy_s += from->busy_s;
  into->slow_count += from->slow_count;
  for (size_t k = 0; k < PG_Q__COUNT; k++)
    for (size_t i = 0; i < from->lat[k].n; i++)
      lat_push(&into->lat[k], from->lat[k].ms[i]);
  for (size_t i = 0; i < from->nslow; i++)
    slow_keep(into, strdup(from->slow_stmt[i]), from->slow_ms[i]);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double pg_stats_quantile(double *samples, size_t n, double p)
{
  if (n == 0)
    return 0;
  qsort(samples, n, sizeof *samples, cmp_double);
  if (p <= 0)
    return samples[0];
  if (p >= 1)
    return samples[n - 1];
  double pos = p * (double)(n - 1);
  size_t lo = (size_t)pos;
  double frac = pos - (double)lo;
  return lo + 1 < n ? samples[lo] + frac * (samples[lo + 1] - samples[lo]) : samples[lo];
}

/* ---------------------------------------------------------------- server counters */

void pg_server_snapshot_take(PGconn *conn, struct pg_server_snapshot *snap)
{
  memset(snap, 0, sizeof *snap);
  if (!conn)
    return;
  PQclear(PQexec(conn, "SELECT pg_stat_clear_snapshot()"));
  PGresult *r = PQexec(conn,
                       "SELECT deadlocks, conflicts, xact_commit, xact_rollback, tup_returned,"
                       " tup_inserted, tup_updated, blks_read, blks_hit, temp_bytes"
                       " FROM pg_stat_database WHERE datname = current_database()");
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    int64_t *f[] = {&snap->deadlocks,    &snap->conflicts,    &snap->xact_commit,
                    &snap->xact_rollback, &snap->tup_returned, &snap->tup_inserted,
                    &snap->tup_updated,  &snap->blks_read,    &snap->blks_hit,
                    &snap->temp_bytes};
    for (int i = 0; i < 10; i++)
      *f[i] = PQgetisnull(r, 0, i) ? 0 : strtoll(PQgetvalue(r, 0, i), NULL, 10);
    snap->ok = 1;
  }
  PQclear(r);
}

/* ---------------------------------------------------------------- activity monitor */

struct pg_activity_monitor {
  PGconn *conn;
  pthread_t thread;
  int interval_ms;
  atomic_int stop;
  int peak_active, peak_connected;
};

static void *monitor_main(void *arg)
{
  struct pg_activity_monitor *m = arg;
  const char *sql = "SELECT count(*) FILTER (WHERE state = 'active'), count(*)"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name = 'perfsweep-features' AND pid <> pg_backend_pid()";
  while (!atomic_load(&m->stop)) {
    PGresult *r = PQexec(m->conn, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      int a = atoi(PQgetvalue(r, 0, 0)), c = atoi(PQgetvalue(r, 0, 1));
      if (a > m->peak_active)
        m->peak_active = a;
      if (c > m->peak_connected)
        m->peak_connected = c;
    }
    PQclear(r);
    if (PQstatus(m->conn) != CONNECTION_OK)
      break;
    struct timespec ts = {m->interval_ms / 1000, (long)(m->interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

struct pg_activity_monitor *pg_activity_monitor_start(const char *dsn, int interval_ms)
{
  struct pg_activity_monitor *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *vals[] = {"5", "perfsweep-monitor", dsn, NULL};
  m->conn = PQconnectdbParams(keys, vals, 1);
  m->interval_ms = interval_ms > 0 ? interval_ms : 50;
  if (PQstatus(m->conn) != CONNECTION_OK ||
      pthread_create(&m->thread, NULL, monitor_main, m) != 0) {
    PQfinish(m->conn);
    free(m);
    return NULL;
  }
  return m;
}

void pg_activity_monitor_stop(struct pg_activity_monitor *m, int *peak_active,
                              int *peak_connected)
{
  if (!m) {
    *peak_active = *peak_connected = -1;
    return;
  }
  atomic_store(&m->stop, 1);
  pthread_join(m->thread, NULL);
  *peak_active = m->peak_active;
  *peak_connected = m->peak_connected;
  PQfinish(m->conn);
  free(m);
}

/* ---------------------------------------------------------------- JSON */

void pg_json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p == '\t')
      fputs("\\t", out);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

/* A finite double as JSON (non-finite values have no JSON spelling: null). */
static void json_num(FILE *out, double v)
{
  if (v != v || v > 1e300 || v < -1e300)
    fputs("null", out);
  else
    fprintf(out, "%.6f", v);
}

static void latency_json(FILE *out, const struct pg_stats *st)
{
  fputc('{', out);
  int first = 1;
  for (size_t k = 0; k < PG_Q__COUNT; k++) {
    const struct pg_latencies *l = &st->lat[k];
    if (l->n == 0)
      continue;
    double *copy = malloc(l->n * sizeof *copy);
    if (!copy)
      continue;
    memcpy(copy, l->ms, l->n * sizeof *copy);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
      sum += copy[i];
    fprintf(out, "%s\"%s\":{\"count\":%zu,\"p50_ms\":", first ? "" : ",",
            pg_query_kind_name((enum pg_query_kind)k), l->n);
    json_num(out, pg_stats_quantile(copy, l->n, 0.50));
    fputs(",\"p95_ms\":", out);
    json_num(out, pg_stats_quantile(copy, l->n, 0.95));
    fputs(",\"p99_ms\":", out);
    json_num(out, pg_stats_quantile(copy, l->n, 0.99));
    fputs(",\"max_ms\":", out);
    json_num(out, copy[l->n - 1]);
    fputs(",\"total_ms\":", out);
    json_num(out, sum);
    fputc('}', out);
    first = 0;
    free(copy);
  }
  fputc('}', out);
}

static void server_json(FILE *out, const struct pg_server_snapshot *b,
                        const struct pg_server_snapshot *a)
{
  if (!b || !a || !b->ok || !a->ok) {
    fputs("null", out);
    return;
  }
  fprintf(out,
          "{\"deadlocks\":%lld,\"conflicts\":%lld,\"xact_commit\":%lld,\"xact_rollback\":%lld,"
          "\"tup_returned\":%lld,\"tup_inserted\":%lld,\"tup_updated\":%lld,\"blks_read\":%lld,"
          "\"blks_hit\":%lld,\"temp_bytes\":%lld}",
          (long long)(a->deadlocks - b->deadlocks), (long long)(a->conflicts - b->conflicts),
          (long long)(a->xact_commit - b->xact_commit),
          (long long)(a->xact_rollback - b->xact_rollback),
          (long long)(a->tup_returned - b->tup_returned),
          (long long)(a->tup_inserted - b->tup_inserted),
          (long long)(a->tup_updated - b->tup_updated), (long long)(a->blks_read - b->blks_read),
          (long long)(a->blks_hit - b->blks_hit), (long long)(a->temp_bytes - b->temp_bytes));
}

void pg_stats_write_json(FILE *out, const struct pg_stats *total, const struct pg_stats *per_conn,
                         size_t nconn, double wall_s, const struct pg_server_snapshot *before,
                         const struct pg_server_snapshot *after, int peak_active,
                         int peak_connected)
{
  fprintf(out,
          "{\"queries\":%llu,\"round_trips\":%llu,\"rows_read\":%llu,\"rows_written\":%llu,"
          "\"errors\":%llu,\"busy_seconds\":",
          (unsigned long long)total->queries, (unsigned long long)total->round_trips,
          (unsigned long long)total->rows_read, (unsigned long long)total->rows_written,
          (unsigned long long)total->errors);
  json_num(out, total->busy_s);
  fputs(",\"latency\":", out);
  latency_json(out, total);
  fputs(",\"slow_threshold_ms\":", out);
  json_num(out, total->slow_threshold_ms);
  fprintf(out, ",\"slow_queries\":{\"count\":%llu,\"slowest\":[",
          (unsigned long long)total->slow_count);
  for (size_t i = 0; i < total->nslow; i++) {
    fprintf(out, "%s{\"ms\":", i ? "," : "");
    json_num(out, total->slow_ms[i]);
    fputs(",\"statement\":", out);
    pg_json_string(out, total->slow_stmt[i]);
    fputc('}', out);
  }
  fputs("]},\"connections\":[", out);
  double util_sum = 0;
  for (size_t i = 0; i < nconn; i++) {
    double u = wall_s > 0 ? per_conn[i].busy_s / wall_s : 0;
    util_sum += u;
    fprintf(out, "%s{\"connection\":%zu,\"queries\":%llu,\"busy_seconds\":", i ? "," : "", i,
            (unsigned long long)per_conn[i].queries);
    json_num(out, per_conn[i].busy_s);
    fputs(",\"utilization\":", out);
    json_num(out, u);
    fputc('}', out);
  }
  fputs("],\"pool_utilization\":", out);
  json_num(out, nconn ? util_sum / (double)nconn : 0);
  fputs(",\"peak_active_connections\":", out);
  if (peak_active >= 0)
    fprintf(out, "%d", peak_active);
  else
    fputs("null", out);
  fputs(",\"peak_connections\":", out);
  if (peak_connected >= 0)
    fprintf(out, "%d", peak_connected);
  else
    fputs("null", out);
  fputs(",\"server\":", out);
  server_json(out, before, after);
  fputc('}', out);
}

int pg_stats_append_metrics(const char *stage, double seconds, uint64_t records_in,
                            uint64_t records_out, size_t workers, const char *db_json)
{
  const char *path = getenv("PERFSWEEP_METRICS");
  if (!path || !*path)
    return 0;
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (!m)
    return -ENOMEM;
  fputs("{\"schema\":\"perfsweep.metrics/1\",\"stage\":", m);
  pg_json_string(m, stage);
  fputs(",\"seconds\":", m);
  json_num(m, seconds);
  fprintf(m, ",\"records_in\":%llu,\"records_out\":%llu,\"workers\":%zu,\"db\":%s}\n",
          (unsigned long long)records_in, (unsigned long long)records_out, workers,
          db_json ? db_json : "null");
  if (fclose(m) != 0) {
    free(text);
    return -ENOMEM;
  }
  int rc = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = -errno;
  } else {
    if (write(fd, text, len) != (ssize_t)len)
      rc = -EIO;
    close(fd);
  }
  free(text);
  return rc;
}
