/* history.h - results over commits: a store of recorded runs (a JSON-lines file, or PostgreSQL
 * for many CI runners at once) with the same add and query on both, and the series of
 * per-commit medians that `perfsweep history show` prints, charts and searches for steps.
 *
 * Never prints; errors come back as PS_EXIT_* codes with a sentence. A DSN's password never
 * appears in a message (ps_dsn_mask, dsn.h).
 */
#ifndef PERFSWEEP_HISTORY_H
#define PERFSWEEP_HISTORY_H

#include <jansson.h>
#include <stddef.h>

#include "stepdetect.h"

#define HISTORY_SCHEMA "perfsweep.history/1"

/* ---- a run to record, taken from a results file ---- */
struct history_metric {
  char *metric;
  double *v;                  /* raw samples (one for a per-cell value like alloc.calls) */
  size_t n;
};

struct history_cell {
  char *id;
  char *params;               /* compact JSON object text */
  struct history_metric *m;
  size_t nm;
};

struct history_record {
  char *commit, *branch, *created;
  char *hostname, *cpu_model, *kernel;
  long cores;
  struct history_cell *cells;
  size_t ncells;
};

/* Overrides from the command line (NULL = take from results.machine). */
struct history_meta {
  const char *commit, *branch, *machine;
};

/* Builds a record from a loaded results file. Returns 0, or PS_EXIT_USAGE with *err when the
 * results name no commit and none was given. Free with history_record_free. */
int history_record_from_results(json_t *results, const struct history_meta *over,
                                struct history_record *r, char **err);
void history_record_free(struct history_record *r);

/* ---- a store ---- */
struct history_point {
  long long seq;              /* order of recording */
  size_t pos;                 /* 0-based position of its run among the runs of the query */
  char *commit, *branch, *machine, *added, *cell;
  double median;
  size_t n;
};

struct history_query {
  const char *metric;         /* required, e.g. "wall" */
  const char *cell;           /* NULL = every cell */
  const char *machine;        /* hostname; NULL = every machine */
  const char *branch;         /* NULL = every branch */
};

struct history_store;

/* Opens "FILE.jsonl" (created on first add) or "postgresql://…" / "postgres://…" / a libpq
 * keyword DSN ("host=… dbname=…"). Returns 0, PS_EXIT_ENVIRONMENT when the database cannot be
 * reached, or PS_EXIT_USAGE; *err then holds a sentence (password masked). */
int history_open(const char *spec, struct history_store **s, char **err);
/* Records r in one transaction (file: one locked append). Safe for concurrent processes.
 * Returns 0 or PS_EXIT_IO / PS_EXIT_ENVIRONMENT with *err. */
int history_add(struct history_store *s, const struct history_record *r, char **err);
/* The points of q in recording order, one per recorded run and cell (median of its samples).
 * Returns 0 (possibly no points) or an exit code with *err. Free with history_points_free. */
int history_query(struct history_store *s, const struct history_query *q,
                  struct history_point **pts, size_t *n, char **err);
void history_points_free(struct history_point *p, size_t n);
void history_close(struct history_store *s);
/* 1 when spec names a PostgreSQL store. */
int history_is_pg(const char *spec);

/* ---- back ends (history-file.c, history-pg.c); same contracts as above ---- */
int history_file_add(const char *path, const struct history_record *r, char **err);
int history_file_query(const char *path, const struct history_query *q,
                       struct history_point **pts, size_t *n, char **err);
void *history_pg_open(const char *dsn, char **err, int *rc);
int history_pg_add(void *pg, const struct history_record *r, char **err);
int history_pg_query(void *pg, const struct history_query *q, struct history_point **pts,
                     size_t *n, char **err);
void history_pg_close(void *pg);

/* ---- a recorded run back as results (history-export.c) ---- */
/* The most recent recorded run whose commit starts with `commit` (and ran on `machine` when not
 * NULL), as a record. Returns 0, PS_EXIT_USAGE with *err when there is none, or the store's
 * error code. Free with history_record_free. */
int history_find(struct history_store *s, const char *commit, const char *machine,
                 struct history_record *r, char **err);
int history_file_find(const char *path, const char *commit, const char *machine,
                      struct history_record *r, char **err);
int history_pg_find(void *pg, const char *commit, const char *machine, struct history_record *r,
                    char **err);
/* A perfsweep.results/1 document rebuilt from a record: one run per sample index (wall, cpu,
 * max_rss_kb, throughput, stages), alloc.* under profile.alloc, so `perfsweep compare` can use a
 * base fetched from the history. New reference, never NULL. */
json_t *history_results_json(const struct history_record *r);
/* Adds a metric's samples to a cell (copied). */
void history_cell_add_metric(struct history_cell *c, const char *metric, const double *v, size_t n);

/* Appends a point (strings copied). */
void history_point_push(struct history_point **pts, size_t *n, long long seq, const char *commit,
                        const char *branch, const char *machine, const char *added,
                        const char *cell, const double *v, size_t nv);

/* The points of each cell, in order of first appearance: idx indexes the points array. */
struct history_series {
  char *cell;
  size_t *idx;
  size_t n;
};
/* Groups points by cell. Returns the number of series (malloc'd in *out). Cannot fail. */
size_t history_group(const struct history_point *p, size_t n, struct history_series **out);
void history_series_free(struct history_series *s, size_t n);
/* Steps of one series (stepdetect over its medians). Returns the count, at most max. */
size_t history_steps(const struct history_point *p, const struct history_series *s,
                     const struct stepdetect_opts *o, struct step *out, size_t max);

/* ---- the chart (history-chart.c) ---- */
/* Charts the points of one metric, one line per cell over the recorded runs (x labels: short
 * commits), steps marked, into out (.svg or .png) with gnuplot run without a shell. Returns 0,
 * PS_EXIT_ENVIRONMENT (no gnuplot), PS_EXIT_USAGE (other extension) or PS_EXIT_IO with *err. */
int history_chart(const char *out, const char *metric, const struct history_point *pts, size_t n,
                  const struct stepdetect_opts *so, char **err);

#endif
