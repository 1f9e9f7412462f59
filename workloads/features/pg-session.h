/* pg-session.h - one worker's PostgreSQL connection: every statement goes through it so that
 * it is timed and counted (pg-stats), its failure becomes a masked sentence, and transient
 * failures (connection lost, server shutting down, deadlock, serialization) are recognised so
 * the caller can reconnect with backoff and redo the whole transaction.
 */
#ifndef PERFSWEEP_PG_SESSION_H
#define PERFSWEEP_PG_SESSION_H

#include <stddef.h>

#include <libpq-fe.h>

#include "pg-dsn.h"
#include "pg-stats.h"

struct pg_session {
  PGconn *conn;
  const char *dsn;       /* not owned; never printed unmasked */
  struct pg_stats stats;
  char err[1024];        /* the last failure, one masked sentence */
  char sqlstate[6];      /* of the last failure, "" when none */
  int transient;         /* the last failure may succeed when retried after a reconnect */
};

/* Connects. Returns 0, or the PS_EXIT_* code with the sentence in s->err (s->conn NULL).
 * s->stats is initialised either way; release with pg_session_close(). */
int pg_session_open(struct pg_session *s, const char *dsn, double slow_ms);
/* Closes the connection and frees the stats (NULL-safe, idempotent). */
void pg_session_close(struct pg_session *s);
/* Drops the connection and connects again. Returns 0 or the PS_EXIT_* code (s->err set). */
int pg_session_reconnect(struct pg_session *s);

/* Runs one statement with text parameters (nparams may be 0). Returns the result (caller
 * PQclear()s) when it succeeded, NULL otherwise with s->err, s->sqlstate, s->transient set. */
PGresult *pg_session_query(struct pg_session *s, enum pg_query_kind kind, const char *sql,
                           int nparams, const char *const *params);
/* pg_session_query for statements without a result. Returns 0 or -1. */
int pg_session_command(struct pg_session *s, enum pg_query_kind kind, const char *sql,
                       int nparams, const char *const *params);
/* COPY ... FROM STDIN with len bytes of text-format data holding rows rows. Returns 0 or -1
 * (s->err set). */
int pg_session_copy_in(struct pg_session *s, const char *copy_sql, const char *data, size_t len,
                       uint64_t rows);

/* Streaming COPY: start (sends copy_sql), put any number of chunks, finish (rows is what the
 * chunks held, t0 the pg_now() when it started, for the stats). Each returns 0 or -1 with
 * s->err set; after a failure the COPY is abandoned (finish still cleans up). */
int pg_session_copy_start(struct pg_session *s, const char *copy_sql);
int pg_session_copy_put(struct pg_session *s, const char *data, size_t len);
int pg_session_copy_finish(struct pg_session *s, const char *copy_sql, uint64_t rows, double t0);

/* Appends the perfsweep.metrics/1 line of stage (e.g. "pg_sink") for n sessions: their stats
 * merged, per-connection busy time over wall seconds, server counters before/after (may be
 * NULL) and the peaks (-1: unknown). records_out < 0 means the rows written. Returns 0 or
 * -errno when $PERFSWEEP_METRICS cannot be written. */
int pg_session_emit_metrics(const char *stage, const struct pg_session *s, int n, double wall,
                            const struct pg_server_snapshot *before,
                            const struct pg_server_snapshot *after, int peak_active,
                            int peak_connected, uint64_t records_in, long long records_out);

/* Sleeps before retry number attempt (1, 2, ...): 100 ms doubling, capped at 5 s. */
void pg_session_backoff(int attempt);

/* A growing text buffer for COPY data with the text format's escaping. */
struct pg_copybuf {
  char *data;
  size_t len, cap;
  uint64_t rows;
};
/* Appends a field (tab-separated; first in a row when first != 0). str NULL writes \N.
 * Aborts the process on out of memory (like every ps_x* allocation). */
void pg_copybuf_text(struct pg_copybuf *b, int first, const char *str);
void pg_copybuf_i64(struct pg_copybuf *b, int first, long long v);
/* A double printed with 17 significant digits, so it reads back bit-identical. */
void pg_copybuf_f64(struct pg_copybuf *b, int first, double v);
/* Ends the current row. */
void pg_copybuf_end_row(struct pg_copybuf *b);
void pg_copybuf_reset(struct pg_copybuf *b);
void pg_copybuf_release(struct pg_copybuf *b);

#endif
