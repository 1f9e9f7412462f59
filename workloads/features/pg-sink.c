/* pg-sink.c - the postgres:DSN sink: feature rows into product_features, user_features and
 * collection_features. Rows are sorted by key and cut into batches of B; W workers, each with
 * its own connection, write a batch as one transaction: COPY into a temporary staging table,
 * upsert into the feature table, advance the kind's watermark, COMMIT. So a failure never
 * leaves half a batch, and the watermark never passes a batch that is not committed. A rerun
 * over the same rows (same fingerprint) resumes after the watermark; transient failures are
 * retried after reconnecting with backoff (--retries / PERFSWEEP_PG_RETRIES).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exit-codes.h"
#include "fx-digest.h"
#include "fx-sink.h"
#include "pg-config.h"
#include "pg-schema.h"
#include "pg-session.h"

struct kind_plan {
  const struct fx_table_desc *d;
  const int64_t *rows;   /* f->rows[k] */
  uint32_t *order;       /* row indices sorted by (shop_id, entity_id) */
  size_t n, first;       /* rows; first row still to write (resume) */
  size_t nb, b0;         /* batches of this kind; index of its first batch in the queue */
  char fp[40];           /* fingerprint of the rows: count and order-independent hash */
  uint8_t *done;         /* per batch: committed */
  int resumed;
  char upsert[2048], staging[96], copy[128];
};

struct sink_ctx {
  struct kind_plan kp[FX_KIND_COUNT];
  struct pg_session *sess;
  int n_sess;
  size_t batch, total_batches;
  int retries;
  atomic_size_t next;
  atomic_int failed;
  atomic_long committed;
  atomic_int fault_fired;
  pthread_mutex_t lock;
  int rc;
  char err[1536];
};

static const int64_t *row_at(const struct kind_plan *p, size_t i)
{
  return p->rows + (size_t)p->order[i] * p->d->n_fields;
}

static const int64_t *sort_rows;
static size_t sort_nf;
static int cmp_key(const void *a, const void *b)
{
  const int64_t *x = sort_rows + (size_t) * (const uint32_t *)a * sort_nf;
  const int64_t *y = sort_rows + (size_t) * (const uint32_t *)b * sort_nf;
  if (x[0] != y[0])
    return x[0] < y[0] ? -1 : 1;
  return (x[1] > y[1]) - (x[1] < y[1]);
}

static int plan_kind(struct kind_plan *p, enum fx_kind k, const struct fx_features *f,
                     size_t batch)
{
  p->d = fx_table_desc(k);
  p->rows = f->rows[k];
  p->n = f->n_rows[k];
  p->order = malloc((p->n ? p->n : 1) * sizeof *p->order);
  if (!p->order)
    return -1;
  uint64_t h = 0;
  for (size_t i = 0; i < p->n; i++) {
    p->order[i] = (uint32_t)i;
    h += fx_fnv1a64((const char *)(p->rows + i * p->d->n_fields), p->d->n_fields * 8);
  }
  sort_rows = p->rows; /* single-threaded here */
  sort_nf = p->d->n_fields;
  qsort(p->order, p->n, sizeof *p->order, cmp_key);
  snprintf(p->fp, sizeof p->fp, "%zu-%016" PRIx64, p->n, h);
  snprintf(p->staging, sizeof p->staging, "staging_%s", p->d->table);
  snprintf(p->copy, sizeof p->copy, "COPY %s FROM STDIN", p->staging);
  int n = snprintf(p->upsert, sizeof p->upsert,
                   "INSERT INTO %s SELECT * FROM %s ON CONFLICT (%s, %s) DO UPDATE SET ",
                   p->d->table, p->staging, p->d->fields[0], p->d->fields[1]);
  for (size_t i = 2; i < p->d->n_fields; i++)
    n += snprintf(p->upsert + n, sizeof p->upsert - (size_t)n, "%s%s = EXCLUDED.%s",
                  i > 2 ? ", " : "", p->d->fields[i], p->d->fields[i]);
  (void)batch;
  return 0;
}

/* Reads the kind's watermark and decides: resume after it, or start a new pass (emptying the
 * table when the rows differ from the ones the watermark was written for). */
static int prepare_kind(struct pg_session *s, struct kind_plan *p, size_t batch)
{
  const char *params[] = {p->d->kind};
  PGresult *r = pg_session_query(s, PG_Q_WATERMARK,
                                 "SELECT fingerprint, last_shop_id, last_entity_id, complete"
                                 " FROM watermarks WHERE kind = $1",
                                 1, params);
  if (!r)
    return -1;
  int have = PQntuples(r) == 1;
  int same = have && strcmp(PQgetvalue(r, 0, 0), p->fp) == 0;
  int complete = have && strcmp(PQgetvalue(r, 0, 3), "t") == 0;
  p->first = 0;
  if (same && !complete && !PQgetisnull(r, 0, 1)) {
    int64_t ls = strtoll(PQgetvalue(r, 0, 1), NULL, 10), le = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    while (p->first < p->n) {
      const int64_t *row = row_at(p, p->first);
      if (row[0] > ls || (row[0] == ls && row[1] > le))
        break;
      p->first++;
    }
    p->resumed = 1;
  }
  PQclear(r);
  if (!p->resumed) {
    char sql[512];
    const char *wp[] = {p->d->kind, p->fp};
    if (pg_session_command(s, PG_Q_TXN, "BEGIN", 0, NULL))
      return -1;
    if (!same) {
      snprintf(sql, sizeof sql, "TRUNCATE %s", p->d->table);
      if (pg_session_command(s, PG_Q_DDL, sql, 0, NULL))
        return -1;
    }
    if (pg_session_command(s, PG_Q_WATERMARK,
                           "INSERT INTO watermarks (kind, fingerprint) VALUES ($1, $2)"
                           " ON CONFLICT (kind) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
                           " last_shop_id = NULL, last_entity_id = NULL, rows_done = 0,"
                           " complete = false, updated_at = now()",
                           2, wp) ||
        pg_session_command(s, PG_Q_TXN, "COMMIT", 0, NULL))
      return -1;
  }
  size_t left = p->n - p->first;
  p->nb = (left + batch - 1) / batch;
  p->done = calloc(p->nb ? p->nb : 1, 1);
  return p->done ? 0 : -1;
}

/* The watermark statement to commit with batch b of p, or "" when it would not advance:
 * only when every earlier batch is committed, up to the end of the committed run after b. */
static void watermark_sql(struct sink_ctx *c, struct kind_plan *p, size_t b, char *sql,
                          size_t len)
{
  sql[0] = '\0';
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < b; i++)
    if (!p->done[i]) {
      pthread_mutex_unlock(&c->lock);
      return;
    }
  size_t j = b;
  while (j + 1 < p->nb && p->done[j + 1])
    j++;
  pthread_mutex_unlock(&c->lock);
  size_t end = p->first + (j + 1) * c->batch;
  if (end > p->n)
    end = p->n;
  const int64_t *last = row_at(p, end - 1);
  snprintf(sql, len,
           "UPDATE watermarks SET last_shop_id = %" PRId64 ", last_entity_id = %" PRId64
           ", rows_done = %zu, updated_at = now() WHERE kind = '%s' AND fingerprint = '%s'"
           " AND (last_shop_id IS NULL OR (last_shop_id, last_entity_id) < (%" PRId64
           ", %" PRId64 "))",
           last[0], last[1], end, p->d->kind, p->fp, last[0], last[1]);
}

static int write_batch(struct sink_ctx *c, struct pg_session *s, struct kind_plan *p, size_t b,
                       struct pg_copybuf *buf)
{
  size_t lo = p->first + b * c->batch, hi = lo + c->batch < p->n ? lo + c->batch : p->n;
  char sql[1024];
  snprintf(sql, sizeof sql,
           "BEGIN; CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s) ON COMMIT DELETE ROWS",
           p->staging, p->d->table);
  if (pg_session_command(s, PG_Q_TXN, sql, 0, NULL))
    return -1;
  pg_copybuf_reset(buf);
  for (size_t i = lo; i < hi; i++) {
    const int64_t *row = row_at(p, i);
    for (size_t f = 0; f < p->d->n_fields; f++)
      pg_copybuf_i64(buf, f == 0, row[f]);
    pg_copybuf_end_row(buf);
  }
  double t0 = pg_now();
  if (pg_session_copy_start(s, p->copy))
    return -1;
  pg_session_copy_put(s, buf->data, buf->len);
  if (pg_session_copy_finish(s, p->copy, 0, t0))
    return -1;
  if (pg_session_command(s, PG_Q_UPSERT, p->upsert, 0, NULL))
    return -1;
  char wm[1024];
  watermark_sql(c, p, b, wm, sizeof wm);
  if (wm[0] && pg_session_command(s, PG_Q_WATERMARK, wm, 0, NULL))
    return -1;
  if (pg_session_command(s, PG_Q_TXN, "COMMIT", 0, NULL))
    return -1;
  pthread_mutex_lock(&c->lock);
  p->done[b] = 1;
  pthread_mutex_unlock(&c->lock);
  /* Test aid: the server terminates this connection once, after N committed batches. */
  long n = atomic_fetch_add(&c->committed, 1) + 1;
  long after = pg_config()->fault_after;
  if (after >= 0 && n >= after && !atomic_exchange(&c->fault_fired, 1))
    PQclear(PQexec(s->conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
  long delay = pg_config()->delay_ms;
  if (delay > 0)
    nanosleep(&(struct timespec){delay / 1000, (delay % 1000) * 1000000L}, NULL);
  return 0;
}

struct worker_arg {
  struct sink_ctx *c;
  int idx;
};

static void *worker_main(void *arg)
{
  struct worker_arg *w = arg;
  struct sink_ctx *c = w->c;
  struct pg_session *s = &c->sess[w->idx];
  struct pg_copybuf buf = {0};
  for (;;) {
    size_t t = atomic_fetch_add(&c->next, 1);
    if (t >= c->total_batches || atomic_load(&c->failed))
      break;
    int k = 0;
    while (t >= c->kp[k].b0 + c->kp[k].nb)
      k++;
    struct kind_plan *p = &c->kp[k];
    size_t b = t - p->b0;
    int ok = 0;
    for (int attempt = 0;; attempt++) {
      if (write_batch(c, s, p, b, &buf) == 0) {
        ok = 1;
        break;
      }
      if (s->conn && PQstatus(s->conn) == CONNECTION_OK &&
          PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        char keep[sizeof s->err];
        memcpy(keep, s->err, sizeof keep);
        PQclear(PQexec(s->conn, "ROLLBACK"));
        memcpy(s->err, keep, sizeof keep);
      }
      if (!s->transient || attempt >= c->retries || atomic_load(&c->failed))
        break;
      pg_session_backoff(attempt + 1);
      int keep_transient = 1;
      if (pg_session_reconnect(s) != 0)
        keep_transient = s->transient;
      s->transient = keep_transient;
    }
    if (!ok) {
      size_t lo = p->first + b * c->batch;
      size_t hi = lo + c->batch < p->n ? lo + c->batch : p->n;
      const int64_t *a = row_at(p, lo), *z = row_at(p, hi - 1);
      pthread_mutex_lock(&c->lock);
      if (!c->err[0]) {
        snprintf(c->err, sizeof c->err,
                 "stage sink, %s batch %zu of %zu (keys (%" PRId64 ", %" PRId64 ") .. (%" PRId64
                 ", %" PRId64 ")) failed%s: %s; batches committed before it are kept and the "
                 "watermark names the last of them: rerun the same command to complete the work",
                 p->d->table, p->first / c->batch + b + 1, p->first / c->batch + p->nb, a[0],
                 a[1], z[0], z[1], c->retries ? " after its retries" : "", s->err);
        c->rc = s->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
      }
      pthread_mutex_unlock(&c->lock);
      atomic_store(&c->failed, 1);
      break;
    }
  }
  pg_copybuf_release(&buf);
  return NULL;
}

/* Marks each finished kind complete and checks the table holds exactly its rows. */
static int finish_kinds(struct sink_ctx *c, struct pg_session *s)
{
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    struct kind_plan *p = &c->kp[k];
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", p->d->table);
    PGresult *r = pg_session_query(s, PG_Q_OTHER, sql, 0, NULL);
    if (!r)
      return -1;
    size_t have = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (have != p->n) {
      snprintf(s->err, sizeof s->err,
               "%s holds %zu rows but the run computed %zu; another writer changed it: rerun",
               p->d->table, have, p->n);
      s->transient = 0;
      return -2;
    }
    const int64_t *last = p->n ? row_at(p, p->n - 1) : NULL;
    snprintf(sql, sizeof sql,
             "UPDATE watermarks SET complete = true, rows_done = %zu, last_shop_id = %s%" PRId64
             ", last_entity_id = %" PRId64 ", updated_at = now() WHERE kind = '%s'",
             p->n, "", last ? last[0] : 0, last ? last[1] : 0, p->d->kind);
    if (pg_session_command(s, PG_Q_WATERMARK, sql, 0, NULL))
      return -1;
  }
  return 0;
}

static int pg_sink_write(const char *arg, const struct fx_dataset *ds, const struct fx_features *f,
                         char *err, size_t errlen)
{
  (void)ds;
  char *dsn = strdup(pg_dsn_from_spec(arg));
  pg_dsn_hide_in_place((char *)arg);
  struct pg_config *cfg = pg_config();
  struct sink_ctx c = {.batch = cfg->batch_size, .retries = cfg->retries};
  pthread_mutex_init(&c.lock, NULL);
  c.n_sess = cfg->workers > 0 ? cfg->workers : 1;
  c.sess = calloc((unsigned)c.n_sess, sizeof *c.sess);
  int rc = 0, opened = 0;
  struct pg_activity_monitor *mon = NULL;
  struct pg_server_snapshot before = {0}, after = {0};
  double t0 = pg_now();
  uint64_t rows = f->n_rows[0] + f->n_rows[1] + f->n_rows[2];
  if (!dsn || !c.sess || !*dsn) {
    snprintf(err, errlen, dsn && !*dsn ? "--sink postgres: needs a DSN after the colon; e.g. "
             "--sink postgres:postgresql://perfsweep@127.0.0.1:5432/perfsweep"
             : "out of memory starting the postgres sink");
    rc = dsn && !*dsn ? PS_EXIT_USAGE : PS_EXIT_ENVIRONMENT;
    goto out;
  }
  for (; opened < c.n_sess; opened++) {
    rc = pg_session_open(&c.sess[opened], dsn, cfg->slow_ms);
    if (rc) {
      snprintf(err, errlen, "--sink postgres: %s", c.sess[opened].err);
      opened++;
      goto out;
    }
  }
  struct pg_session *s0 = &c.sess[0];
  if (pg_schema_ensure_features(s0)) {
    snprintf(err, errlen, "stage sink: cannot create the feature tables: %s", s0->err);
    rc = s0->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
    goto out;
  }
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    if (plan_kind(&c.kp[k], (enum fx_kind)k, f, c.batch) ||
        prepare_kind(s0, &c.kp[k], c.batch)) {
      snprintf(err, errlen, "stage sink: cannot read or reset the watermark of %s: %s",
               fx_table_desc((enum fx_kind)k)->table, s0->err[0] ? s0->err : "out of memory");
      rc = s0->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
      goto out;
    }
    c.kp[k].b0 = c.total_batches;
    c.total_batches += c.kp[k].nb;
    if (c.kp[k].resumed)
      fprintf(stderr, "perfsweep-features run: resuming %s after its watermark: %zu of %zu rows "
              "were committed by an earlier run\n", c.kp[k].d->table, c.kp[k].first, c.kp[k].n);
  }
  pg_server_snapshot_take(s0->conn, &before);
  mon = pg_activity_monitor_start(dsn, 50);
  pthread_t th[256];
  struct worker_arg wa[256];
  int started = 0;
  for (int i = 0; i < c.n_sess && i < 256; i++) {
    wa[i] = (struct worker_arg){&c, i};
    if (pthread_create(&th[i], NULL, worker_main, &wa[i]) != 0)
      break;
    started++;
  }
  if (started == 0)
    worker_main(&(struct worker_arg){&c, 0});
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  int peak_a, peak_c;
  pg_activity_monitor_stop(mon, &peak_a, &peak_c);
  mon = NULL;
  if (!c.rc) {
    /* A worker may have lost its connection in the last batch: finish on a live one. */
    if (PQstatus(s0->conn) != CONNECTION_OK)
      pg_session_reconnect(s0);
    int frc = finish_kinds(&c, s0);
    if (frc) {
      snprintf(c.err, sizeof c.err, "stage sink, finishing: %s", s0->err);
      c.rc = frc == -2 ? PS_EXIT_DATA : s0->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
    }
  }
  if (PQstatus(s0->conn) == CONNECTION_OK)
    pg_server_snapshot_take(s0->conn, &after);
  pg_session_emit_metrics("pg_sink", c.sess, c.n_sess, pg_now() - t0, &before, &after, peak_a,
                          peak_c, rows, -1);
  if (c.rc) {
    snprintf(err, errlen, "%s", c.err);
    rc = c.rc;
  }
out:
  if (mon) {
    int a, b;
    pg_activity_monitor_stop(mon, &a, &b);
  }
  for (int i = 0; i < opened; i++)
    pg_session_close(&c.sess[i]);
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    free(c.kp[k].order);
    free(c.kp[k].done);
  }
  free(c.sess);
  free(dsn);
  pthread_mutex_destroy(&c.lock);
  return rc;
}

const struct fx_sink_ops fx_sink_postgres = {
  "postgres", "postgres:DSN  product/user/collection_features: COPY to staging + upsert, one "
  "transaction per batch, watermarks", pg_sink_write};
