/* pg-stats.h - database-side measurements of a perfsweep-features run against PostgreSQL:
 * per-connection counters (queries, round trips, rows, busy time), latency per query kind with
 * p50/p95/p99, slow statements over a threshold, server counters from pg_stat_database taken
 * before and after, and the peak of active connections seen in pg_stat_activity.
 * One struct pg_stats per connection (no locking); merge them at the end.
 */
#ifndef PERFSWEEP_PG_STATS_H
#define PERFSWEEP_PG_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>
#include <libpq-fe.h>

/* The kinds of statement the workload sends; latency is kept per kind. */
#define PG_QUERY_KIND_MAP(X)                                                 \
  X(READ_KEYS, "read_keys")         /* keyset page of entity keys */         \
  X(READ_ROWS, "read_rows")         /* the rows of a batch's entities */     \
  X(COPY_IN, "copy_in")             /* COPY ... FROM STDIN (load, staging) */ \
  X(UPSERT, "upsert")               /* staging -> feature table */           \
  X(WATERMARK, "watermark")         /* watermark read or write */            \
  X(TXN, "txn")                     /* BEGIN / COMMIT / ROLLBACK */          \
  X(DDL, "ddl")                     /* schema creation */                    \
  X(VERIFY, "verify")               /* documented feature SQL */             \
  X(OTHER, "other")

enum pg_query_kind {
#define PG_QK_ENUM(name, text) PG_Q_##name,
  PG_QUERY_KIND_MAP(PG_QK_ENUM)
#undef PG_QK_ENUM
  PG_Q__COUNT
};

/* The name of a query kind ("read_rows"). */
const char *pg_query_kind_name(enum pg_query_kind kind);

#define PG_STATS_MAX_SLOW 5

struct pg_latencies {
  double *ms;
  size_t n, cap;
};

struct pg_stats {
  uint64_t queries;      /* statements sent */
  uint64_t round_trips;  /* client-server exchanges waited for */
  uint64_t rows_read;
  uint64_t rows_written;
  uint64_t errors;       /* statements that failed */
  double busy_s;         /* time spent waiting on the server */
  double slow_threshold_ms;
  uint64_t slow_count;
  char *slow_stmt[PG_STATS_MAX_SLOW]; /* the slowest statements over the threshold */
  double slow_ms[PG_STATS_MAX_SLOW];
  size_t nslow;
  struct pg_latencies lat[PG_Q__COUNT];
};

/* Zeroes st; statements of at least slow_ms milliseconds are counted as slow (0: every
 * statement, negative: none). */
void pg_stats_init(struct pg_stats *st, double slow_ms);
/* Frees what st owns (NULL-safe); st can be re-initialized afterwards. */
void pg_stats_release(struct pg_stats *st);
/* Records one statement: kind, its text (first 200 bytes kept if slow), its latency, the rows
 * it read and wrote and the round trips it took. Never fails (drops the sample when out of
 * memory). */
void pg_stats_record(struct pg_stats *st, enum pg_query_kind kind, const char *stmt,
                     double seconds, uint64_t rows_read, uint64_t rows_written,
                     unsigned round_trips);
/* Adds from into into (latency samples, counters, slowest statements). */
void pg_stats_merge(struct pg_stats *into, const struct pg_stats *from);
/* The p-quantile (0..1, linear interpolation) of n samples; sorts them in place. 0 if n == 0. */
double pg_stats_quantile(double *samples, size_t n, double p);

/* Server-wide counters of the current database (pg_stat_database). */
struct pg_server_snapshot {
  int ok;
  int64_t deadlocks, conflicts, xact_commit, xact_rollback, tup_returned, tup_inserted,
      tup_updated, blks_read, blks_hit, temp_bytes;
};
/* Takes a snapshot through conn; ok = 0 when the query failed (the run goes on without). */
void pg_server_snapshot_take(PGconn *conn, struct pg_server_snapshot *snap);

/* A thread polling pg_stat_activity on its own connection for the peak of active backends of
 * this database (application_name perfsweep-features). */
struct pg_activity_monitor;
/* Starts polling every interval_ms. Returns NULL when it cannot connect (metrics then say so). */
struct pg_activity_monitor *pg_activity_monitor_start(const char *dsn, int interval_ms);
/* Stops it and returns the peaks seen (active, connected); NULL-safe (returns -1, -1). */
void pg_activity_monitor_stop(struct pg_activity_monitor *m, int *peak_active,
                              int *peak_connected);

/* Writes the "db" JSON object of the metrics line to out: totals, latency per kind, slow
 * statements, per-connection busy time and utilization over wall_s, server deltas and peaks.
 * per_conn may be NULL when nconn == 0; before/after may be NULL (server figures are null). */
void pg_stats_write_json(FILE *out, const struct pg_stats *total, const struct pg_stats *per_conn,
                         size_t nconn, double wall_s, const struct pg_server_snapshot *before,
                         const struct pg_server_snapshot *after, int peak_active,
                         int peak_connected);

/* Writes s as a JSON string (quoted, escaped). */
void pg_json_string(FILE *out, const char *s);

/* Appends one perfsweep.metrics/1 line {"schema","stage","seconds","records_in","records_out",
 * "workers","db":db_json} to the file named by $PERFSWEEP_METRICS (nothing when unset), in one
 * write. Returns 0, or -errno when it cannot write. */
int pg_stats_append_metrics(const char *stage, double seconds, uint64_t records_in,
                            uint64_t records_out, size_t workers, const char *db_json);

/* Seconds on the monotonic clock. */
double pg_now(void);

#endif
