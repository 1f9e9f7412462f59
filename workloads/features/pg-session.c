/* pg-session.c - a timed, counted PostgreSQL connection for one worker, with transient-error
 * classification for retries, and the COPY text-format buffer.
 * It never prints: failures are left in s->err as masked sentences for the caller to report.
 */
#include "pg-session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exit-codes.h"

int pg_session_open(struct pg_session *s, const char *dsn, double slow_ms)
{
  memset(s, 0, sizeof *s);
  s->dsn = dsn;
  pg_stats_init(&s->stats, slow_ms);
  enum pg_conn_failure why;
  s->conn = pg_conn_open(dsn, &why, s->err, sizeof s->err);
  if (!s->conn) {
    s->transient = (why == PG_CONN_UNREACHABLE);
    return pg_conn_exit_code(why);
  }
  /* Our own statements are short; a stuck lock must not hang a run forever. */
  PQclear(PQexec(s->conn, "SET lock_timeout = '60s'; SET client_min_messages = warning"));
  return 0;
}

void pg_session_close(struct pg_session *s)
{
  if (!s)
    return;
  if (s->conn)
    PQfinish(s->conn);
  s->conn = NULL;
  pg_stats_release(&s->stats);
}

int pg_session_reconnect(struct pg_session *s)
{
  if (s->conn)
    PQfinish(s->conn);
  enum pg_conn_failure why;
  s->conn = pg_conn_open(s->dsn, &why, s->err, sizeof s->err);
  if (!s->conn) {
    s->transient = (why == PG_CONN_UNREACHABLE);
    return pg_conn_exit_code(why);
  }
  PQclear(PQexec(s->conn, "SET lock_timeout = '60s'; SET client_min_messages = warning"));
  return 0;
}

/* SQLSTATE classes worth a retry after reconnecting: connection exceptions (08), shutdown or
 * terminated backend (57P01-57P03), serialization failure and deadlock (40001, 40P01). */
static int sqlstate_transient(const char *st)
{
  return strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
         strcmp(st, "57P03") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0;
}

static void set_failure(struct pg_session *s, PGresult *r, const char *sql)
{
  const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  snprintf(s->sqlstate, sizeof s->sqlstate, "%s", st ? st : "");
  const char *raw = r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
                                                     : PQerrorMessage(s->conn);
  char *clean = pg_dsn_scrub(s->dsn, raw);
  const char *msg = clean ? clean : "out of memory";
  int n = (int)strcspn(msg, "\n");
  const char *p = msg;
  if (strncmp(p, "ERROR:  ", 8) == 0 || strncmp(p, "FATAL:  ", 8) == 0) {
    p += 8;
    n -= 8;
  }
  int lost = PQstatus(s->conn) != CONNECTION_OK;
  s->transient = lost || sqlstate_transient(s->sqlstate);
  snprintf(s->err, sizeof s->err, "%s%.*s (statement: %.60s%s)",
           lost ? "the connection to PostgreSQL was lost: " : "", n > 0 ? n : 0, p, sql,
           strlen(sql) > 60 ? "..." : "");
  free(clean);
  s->stats.errors++;
}

PGresult *pg_session_query(struct pg_session *s, enum pg_query_kind kind, const char *sql,
                           int nparams, const char *const *params)
{
  s->err[0] = s->sqlstate[0] = '\0';
  s->transient = 0;
  if (!s->conn) {
    snprintf(s->err, sizeof s->err, "no connection to PostgreSQL");
    s->transient = 1;
    return NULL;
  }
  double t0 = pg_now();
  PGresult *r = nparams > 0 ? PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(s->conn, sql);
  double dt = pg_now() - t0;
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    set_failure(s, r, sql);
    PQclear(r);
    return NULL;
  }
  uint64_t read = st == PGRES_TUPLES_OK ? (uint64_t)PQntuples(r) : 0;
  uint64_t written = 0;
  if (st == PGRES_COMMAND_OK && kind != PG_Q_TXN && kind != PG_Q_DDL && kind != PG_Q_WATERMARK) {
    const char *ct = PQcmdTuples(r);
    written = ct && *ct ? strtoull(ct, NULL, 10) : 0;
  }
  pg_stats_record(&s->stats, kind, sql, dt, read, written, 1);
  return r;
}

int pg_session_command(struct pg_session *s, enum pg_query_kind kind, const char *sql,
                       int nparams, const char *const *params)
{
  PGresult *r = pg_session_query(s, kind, sql, nparams, params);
  if (!r)
    return -1;
  PQclear(r);
  return 0;
}

int pg_session_copy_start(struct pg_session *s, const char *copy_sql)
{
  s->err[0] = s->sqlstate[0] = '\0';
  s->transient = 0;
  if (!s->conn) {
    snprintf(s->err, sizeof s->err, "no connection to PostgreSQL");
    s->transient = 1;
    return -1;
  }
  PGresult *r = PQexec(s->conn, copy_sql);
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    set_failure(s, r, copy_sql);
    PQclear(r);
    return -1;
  }
  PQclear(r);
  return 0;
}

int pg_session_copy_put(struct pg_session *s, const char *data, size_t len)
{
  const size_t chunk = 1 << 20;
  for (size_t off = 0; off < len; off += chunk) {
    size_t n = len - off < chunk ? len - off : chunk;
    if (PQputCopyData(s->conn, data + off, (int)n) != 1) {
      set_failure(s, NULL, "COPY data");
      return -1;
    }
  }
  return 0;
}

int pg_session_copy_finish(struct pg_session *s, const char *copy_sql, uint64_t rows, double t0)
{
  int failed = 0;
  if (PQputCopyEnd(s->conn, s->err[0] ? "abandoned" : NULL) != 1) {
    if (!s->err[0])
      set_failure(s, NULL, copy_sql);
    failed = 1;
  }
  PGresult *r;
  while ((r = PQgetResult(s->conn)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !failed && !s->err[0]) {
      set_failure(s, r, copy_sql);
      failed = 1;
    }
    PQclear(r);
  }
  if (failed || s->err[0])
    return -1;
  pg_stats_record(&s->stats, PG_Q_COPY_IN, copy_sql, pg_now() - t0, 0, rows, 2);
  return 0;
}

int pg_session_copy_in(struct pg_session *s, const char *copy_sql, const char *data, size_t len,
                       uint64_t rows)
{
  double t0 = pg_now();
  if (pg_session_copy_start(s, copy_sql))
    return -1;
  pg_session_copy_put(s, data, len);
  return pg_session_copy_finish(s, copy_sql, rows, t0);
}

int pg_session_emit_metrics(const char *stage, const struct pg_session *s, int n, double wall,
                            const struct pg_server_snapshot *before,
                            const struct pg_server_snapshot *after, int peak_active,
                            int peak_connected, uint64_t records_in, long long records_out)
{
  struct pg_stats total;
  pg_stats_init(&total, n > 0 ? s[0].stats.slow_threshold_ms : 0);
  struct pg_stats *per = calloc(n > 0 ? (unsigned)n : 1u, sizeof *per);
  for (int i = 0; i < n; i++) {
    pg_stats_merge(&total, &s[i].stats);
    if (per)
      per[i] = s[i].stats; /* shallow: the sessions keep owning the buffers */
  }
  char *db = NULL;
  size_t len = 0;
  int rc = -ENOMEM;
  FILE *m = open_memstream(&db, &len);
  if (m) {
    pg_stats_write_json(m, &total, per, per ? (size_t)n : 0, wall, before, after, peak_active,
                        peak_connected);
    fclose(m);
    rc = pg_stats_append_metrics(stage, wall, records_in,
                                 records_out < 0 ? total.rows_written : (uint64_t)records_out,
                                 (size_t)(n > 0 ? n : 0), db);
  }
  free(db);
  free(per);
  pg_stats_release(&total);
  return rc;
}

void pg_session_backoff(int attempt)
{
  double ms = 100.0 * pow(2.0, attempt > 1 ? attempt - 1 : 0);
  if (ms > 5000)
    ms = 5000;
  struct timespec ts = {(time_t)(ms / 1000), (long)fmod(ms, 1000.0) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- COPY text buffer */

static void cb_reserve(struct pg_copybuf *b, size_t n)
{
  if (b->len + n + 1 <= b->cap)
    return;
  size_t ncap = b->cap ? b->cap : 4096;
  while (ncap < b->len + n + 1)
    ncap *= 2;
  char *nd = realloc(b->data, ncap);
  if (!nd) {
    fprintf(stderr, "perfsweep-features: error: out of memory growing a COPY buffer to %zu bytes\n",
            ncap);
    exit(PS_EXIT_ENVIRONMENT);
  }
  b->data = nd;
  b->cap = ncap;
}

static void cb_sep(struct pg_copybuf *b, int first)
{
  if (!first) {
    cb_reserve(b, 1);
    b->data[b->len++] = '\t';
  }
}

void pg_copybuf_text(struct pg_copybuf *b, int first, const char *str)
{
  cb_sep(b, first);
  if (!str) {
    cb_reserve(b, 2);
    memcpy(b->data + b->len, "\\N", 2);
    b->len += 2;
    return;
  }
  size_t n = strlen(str);
  cb_reserve(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    char c = str[i];
    const char *esc = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n"
                    : c == '\r' ? "\\r" : NULL;
    if (esc) {
      b->data[b->len++] = esc[0];
      b->data[b->len++] = esc[1];
    } else {
      b->data[b->len++] = c;
    }
  }
}

void pg_copybuf_i64(struct pg_copybuf *b, int first, long long v)
{
  cb_sep(b, first);
  cb_reserve(b, 24);
  b->len += (size_t)snprintf(b->data + b->len, 24, "%lld", v);
}

void pg_copybuf_f64(struct pg_copybuf *b, int first, double v)
{
  cb_sep(b, first);
  cb_reserve(b, 32);
  if (isnan(v))
    b->len += (size_t)snprintf(b->data + b->len, 32, "NaN");
  else
    b->len += (size_t)snprintf(b->data + b->len, 32, "%.17g", v);
}

void pg_copybuf_end_row(struct pg_copybuf *b)
{
  cb_reserve(b, 1);
  b->data[b->len++] = '\n';
  b->rows++;
}

void pg_copybuf_reset(struct pg_copybuf *b)
{
  b->len = 0;
  b->rows = 0;
}

void pg_copybuf_release(struct pg_copybuf *b)
{
  free(b->data);
  memset(b, 0, sizeof *b);
}
