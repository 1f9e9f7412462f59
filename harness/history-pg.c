/* history-pg.c - the PostgreSQL history store (libpq): schema in docs/history-schema.sql,
 * created on first use under an advisory lock; one transaction per recorded run, so several
 * CI runners may add at once; the same query as the file store. Messages never carry the
 * DSN's password.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "history.h"
#include "util.h"

static const char history_pg_ddl[] =
  "CREATE SCHEMA IF NOT EXISTS perfsweep_history;"
  "CREATE TABLE IF NOT EXISTS perfsweep_history.machines (id bigserial PRIMARY KEY,"
  " hostname text NOT NULL, cpu_model text NOT NULL DEFAULT '', cores integer NOT NULL DEFAULT 0,"
  " kernel text NOT NULL DEFAULT '', UNIQUE (hostname, cpu_model, cores, kernel));"
  "CREATE TABLE IF NOT EXISTS perfsweep_history.runs (id bigserial PRIMARY KEY,"
  " machine_id bigint NOT NULL REFERENCES perfsweep_history.machines (id), commit text NOT NULL,"
  " branch text NOT NULL DEFAULT '', created text NOT NULL DEFAULT '',"
  " added timestamptz NOT NULL DEFAULT now());"
  "CREATE INDEX IF NOT EXISTS runs_commit ON perfsweep_history.runs (commit);"
  "CREATE TABLE IF NOT EXISTS perfsweep_history.cells (id bigserial PRIMARY KEY,"
  " run_id bigint NOT NULL REFERENCES perfsweep_history.runs (id) ON DELETE CASCADE,"
  " cell text NOT NULL, params jsonb NOT NULL DEFAULT '{}', UNIQUE (run_id, cell));"
  "CREATE TABLE IF NOT EXISTS perfsweep_history.samples (cell_id bigint NOT NULL"
  " REFERENCES perfsweep_history.cells (id) ON DELETE CASCADE, metric text NOT NULL,"
  " idx integer NOT NULL, value double precision NOT NULL, PRIMARY KEY (cell_id, metric, idx));";

struct history_pg {
  PGconn *conn;
  char *name; /* redacted DSN */
};

/* The server's message, first line only (libpq never echoes the password). */
static char *history_pg_msg(PGconn *c)
{
  char *m = ps_xstrdup(PQerrorMessage(c));
  m[strcspn(m, "\n")] = 0;
  return m;
}

static int history_pg_exec(struct history_pg *pg, const char *sql, char **err)
{
  PGresult *res = PQexec(pg->conn, sql);
  ExecStatusType st = PQresultStatus(res);
  PQclear(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return 0;
  char *m = history_pg_msg(pg->conn);
  *err = ps_xasprintf("history store %s: %s", pg->name, m);
  free(m);
  return PS_EXIT_ENVIRONMENT;
}

void *history_pg_open(const char *dsn, char **err, int *rc)
{
  struct history_pg *pg = ps_xcalloc(1, sizeof(*pg));
  pg->name = ps_dsn_mask(dsn);
  pg->conn = PQconnectdb(dsn);
  if (PQstatus(pg->conn) != CONNECTION_OK) {
    char *m = history_pg_msg(pg->conn);
    *err = ps_xasprintf("cannot connect to the history store %s: %s; check the DSN, that the "
                        "server runs and accepts this user", pg->name, m);
    free(m);
    *rc = PS_EXIT_ENVIRONMENT;
    history_pg_close(pg);
    return NULL;
  }
  PGresult *res = PQexec(pg->conn, "SET client_min_messages = warning");
  PQclear(res);
  /* Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs: serialise it. */
  if ((*rc = history_pg_exec(pg, "BEGIN; SELECT pg_advisory_xact_lock(7007001);", err)) ||
      (*rc = history_pg_exec(pg, history_pg_ddl, err)) ||
      (*rc = history_pg_exec(pg, "COMMIT", err))) {
    history_pg_close(pg);
    return NULL;
  }
  return pg;
}

void history_pg_close(void *p)
{
  struct history_pg *pg = p;
  if (!pg)
    return;
  PQfinish(pg->conn);
  free(pg->name);
  free(pg);
}

/* Runs a parameterised statement that returns one row with one column (an id) into *id. */
static int history_pg_id(struct history_pg *pg, const char *sql, int n, const char *const *vals,
                         char *id, size_t idlen, char **err)
{
  PGresult *res = PQexecParams(pg->conn, sql, n, NULL, vals, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(res);
  int ok = (st == PGRES_TUPLES_OK && PQntuples(res) == 1) || (st == PGRES_COMMAND_OK && !id);
  if (ok && id)
    snprintf(id, idlen, "%s", PQgetvalue(res, 0, 0));
  PQclear(res);
  if (ok)
    return 0;
  char *m = history_pg_msg(pg->conn);
  *err = ps_xasprintf("history store %s: %s", pg->name, m);
  free(m);
  return PS_EXIT_ENVIRONMENT;
}

static char *history_pg_array(const double *v, size_t n)
{
  size_t cap = 2 + n * 26, len = 0;
  char *s = ps_xmalloc(cap);
  s[len++] = '{';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, "%s%.17g", i ? "," : "", v[i]);
  snprintf(s + len, cap - len, "}");
  return s;
}

static int history_pg_cells(struct history_pg *pg, const struct history_record *r,
                            const char *run_id, char **err)
{
  char cell_id[32];
  for (size_t i = 0; i < r->ncells; i++) {
    const struct history_cell *c = &r->cells[i];
    const char *cv[] = {run_id, c->id, c->params};
    int rc = history_pg_id(pg, "INSERT INTO perfsweep_history.cells (run_id, cell, params) "
                               "VALUES ($1, $2, $3::jsonb) RETURNING id",
                           3, cv, cell_id, sizeof(cell_id), err);
    if (rc)
      return rc;
    for (size_t k = 0; k < c->nm; k++) {
      char *arr = history_pg_array(c->m[k].v, c->m[k].n);
      const char *sv[] = {cell_id, c->m[k].metric, arr};
      rc = history_pg_id(pg, "INSERT INTO perfsweep_history.samples (cell_id, metric, idx, value) "
                             "SELECT $1, $2, t.i - 1, t.v FROM unnest($3::float8[]) "
                             "WITH ORDINALITY AS t(v, i)",
                         3, sv, NULL, 0, err);
      free(arr);
      if (rc)
        return rc;
    }
  }
  return 0;
}

int history_pg_add(void *p, const struct history_record *r, char **err)
{
  struct history_pg *pg = p;
  char machine_id[32], run_id[32], cores[32];
  snprintf(cores, sizeof(cores), "%ld", r->cores);
  const char *mv[] = {r->hostname, r->cpu_model, cores, r->kernel};
  int rc = history_pg_exec(pg, "BEGIN", err);
  if (!rc)
    rc = history_pg_id(pg, "INSERT INTO perfsweep_history.machines (hostname, cpu_model, cores, "
                           "kernel) VALUES ($1, $2, $3, $4) ON CONFLICT (hostname, cpu_model, "
                           "cores, kernel) DO UPDATE SET hostname = EXCLUDED.hostname RETURNING id",
                       4, mv, machine_id, sizeof(machine_id), err);
  const char *rv[] = {machine_id, r->commit, r->branch, r->created};
  if (!rc)
    rc = history_pg_id(pg, "INSERT INTO perfsweep_history.runs (machine_id, commit, branch, "
                           "created) VALUES ($1, $2, $3, $4) RETURNING id",
                       4, rv, run_id, sizeof(run_id), err);
  if (!rc)
    rc = history_pg_cells(pg, r, run_id, err);
  if (!rc)
    rc = history_pg_exec(pg, "COMMIT", err);
  if (rc) {
    PGresult *res = PQexec(pg->conn, "ROLLBACK");
    PQclear(res);
  }
  return rc;
}

int history_pg_query(void *p, const struct history_query *q, struct history_point **pts,
                     size_t *n, char **err)
{
  struct history_pg *pg = p;
  const char *vals[] = {q->metric, q->cell, q->machine, q->branch};
  PGresult *res = PQexecParams(
    pg->conn,
    "SELECT r.id, r.commit, r.branch, m.hostname,"
    " to_char(r.added AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), c.cell, s.value"
    " FROM perfsweep_history.runs r JOIN perfsweep_history.machines m ON m.id = r.machine_id"
    " JOIN perfsweep_history.cells c ON c.run_id = r.id"
    " JOIN perfsweep_history.samples s ON s.cell_id = c.id"
    " WHERE s.metric = $1 AND ($2::text IS NULL OR c.cell = $2)"
    " AND ($3::text IS NULL OR m.hostname = $3) AND ($4::text IS NULL OR r.branch = $4)"
    " ORDER BY r.id, c.id, s.idx",
    4, NULL, vals, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    char *m = history_pg_msg(pg->conn);
    *err = ps_xasprintf("history store %s: %s", pg->name, m);
    free(m);
    PQclear(res);
    return PS_EXIT_ENVIRONMENT;
  }
  int rows = PQntuples(res);
  double *v = ps_xmalloc(((size_t)rows + 1) * sizeof(double));
  size_t nv = 0;
  for (int i = 0; i < rows; i++) {
    v[nv++] = strtod(PQgetvalue(res, i, 6), NULL);
    int last = i + 1 == rows || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i + 1, 0)) ||
               strcmp(PQgetvalue(res, i, 5), PQgetvalue(res, i + 1, 5));
    if (!last)
      continue;
    history_point_push(pts, n, strtoll(PQgetvalue(res, i, 0), NULL, 10), PQgetvalue(res, i, 1),
                       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                       PQgetvalue(res, i, 5), v, nv);
    nv = 0;
  }
  free(v);
  PQclear(res);
  return 0;
}

int history_pg_find(void *p, const char *commit, const char *machine, struct history_record *r,
                    char **err)
{
  struct history_pg *pg = p;
  const char *vals[] = {commit, machine};
  *r = (struct history_record){0};
  PGresult *res = PQexecParams(
    pg->conn,
    "SELECT r.id, r.commit, r.branch, r.created, m.hostname, m.cpu_model, m.cores, m.kernel"
    " FROM perfsweep_history.runs r JOIN perfsweep_history.machines m ON m.id = r.machine_id"
    " WHERE left(r.commit, length($1)) = $1 AND ($2::text IS NULL OR m.hostname = $2)"
    " ORDER BY r.id DESC LIMIT 1",
    2, NULL, vals, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
    int none = PQresultStatus(res) == PGRES_TUPLES_OK;
    char *m = history_pg_msg(pg->conn);
    *err = none ? ps_xasprintf("history store %s holds no run of commit '%s'%s%s; record it with "
                               "'perfsweep history add'", pg->name, commit,
                               machine ? " on " : "", machine ? machine : "")
                : ps_xasprintf("history store %s: %s", pg->name, m);
    free(m);
    PQclear(res);
    return none ? PS_EXIT_USAGE : PS_EXIT_ENVIRONMENT;
  }
  char run_id[32];
  snprintf(run_id, sizeof(run_id), "%s", PQgetvalue(res, 0, 0));
  r->commit = ps_xstrdup(PQgetvalue(res, 0, 1));
  r->branch = ps_xstrdup(PQgetvalue(res, 0, 2));
  r->created = ps_xstrdup(PQgetvalue(res, 0, 3));
  r->hostname = ps_xstrdup(PQgetvalue(res, 0, 4));
  r->cpu_model = ps_xstrdup(PQgetvalue(res, 0, 5));
  r->cores = strtol(PQgetvalue(res, 0, 6), NULL, 10);
  r->kernel = ps_xstrdup(PQgetvalue(res, 0, 7));
  PQclear(res);
  const char *rv[] = {run_id};
  res = PQexecParams(pg->conn,
                     "SELECT c.cell, c.params::text, s.metric, s.value FROM perfsweep_history.cells c"
                     " JOIN perfsweep_history.samples s ON s.cell_id = c.id WHERE c.run_id = $1"
                     " ORDER BY c.id, s.metric, s.idx",
                     1, NULL, rv, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    char *m = history_pg_msg(pg->conn);
    *err = ps_xasprintf("history store %s: %s", pg->name, m);
    free(m);
    PQclear(res);
    history_record_free(r);
    return PS_EXIT_ENVIRONMENT;
  }
  int rows = PQntuples(res);
  double *v = ps_xmalloc(((size_t)rows + 1) * sizeof(double));
  size_t nv = 0;
  r->cells = ps_xcalloc((size_t)rows + 1, sizeof(*r->cells));
  for (int i = 0; i < rows; i++) {
    const char *cell = PQgetvalue(res, i, 0);
    if (!r->ncells || strcmp(r->cells[r->ncells - 1].id, cell)) {
      struct history_cell *hc = &r->cells[r->ncells++];
      hc->id = ps_xstrdup(cell);
      hc->params = ps_xstrdup(PQgetvalue(res, i, 1));
    }
    v[nv++] = strtod(PQgetvalue(res, i, 3), NULL);
    if (i + 1 == rows || strcmp(cell, PQgetvalue(res, i + 1, 0)) ||
        strcmp(PQgetvalue(res, i, 2), PQgetvalue(res, i + 1, 2))) {
      history_cell_add_metric(&r->cells[r->ncells - 1], PQgetvalue(res, i, 2), v, nv);
      nv = 0;
    }
  }
  free(v);
  PQclear(res);
  return 0;
}
