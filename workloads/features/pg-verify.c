/* pg-verify.c - the documented SQL against the engine's rows (see pg-verify.h). Both sides
 * are read ordered by entity id (ids are unique across shops, docs/features.md) and merged;
 * columns are matched by name, so the SQL may list them in any order.
 */
#include "pg-verify.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *exists_or_free(char *path)
{
  if (path && access(path, R_OK) == 0)
    return path;
  free(path);
  return NULL;
}

char *pg_verify_default_doc(void)
{
  const char *env = getenv("PERFSWEEP_FEATURES_DOC");
  if (env && *env)
    return exists_or_free(strdup(env));
  /* __FILE__ is this file's absolute path when CMake compiles it: <root>/workloads/features/. */
  const char *self = __FILE__;
  const char *tail = strstr(self, "workloads/features/pg-verify.c");
  char *p = NULL;
  if (tail && asprintf(&p, "%.*sdocs/features.md", (int)(tail - self), self) < 0)
    p = NULL;
  if ((p = exists_or_free(p)) != NULL)
    return p;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return NULL;
  exe[n] = '\0';
  if (asprintf(&p, "%s/../../docs/features.md", dirname(exe)) < 0)
    return NULL;
  return exists_or_free(p);
}

int pg_verify_extract_sql(const char *md, char *sql[FX_KIND_COUNT], char *err, size_t errlen)
{
  for (int k = 0; k < FX_KIND_COUNT; k++)
    sql[k] = NULL;
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    const char *table = fx_table_desc((enum fx_kind)k)->table;
    char needle[96];
    snprintf(needle, sizeof needle, "`%s`", table);
    const char *h = md, *found = NULL;
    while ((h = strstr(h, "\n## ")) != NULL) {
      const char *eol = strchr(h + 1, '\n');
      const char *hit = strstr(h, needle);
      if (hit && (!eol || hit < eol)) {
        found = h;
        break;
      }
      h++;
    }
    const char *b = found ? strstr(found, "\n```sql\n") : NULL;
    const char *next = found ? strstr(found + 1, "\n## ") : NULL;
    if (!b || (next && b > next)) {
      snprintf(err, errlen, "the features document has no ```sql block under a \"## \" heading "
               "naming `%s`; document that feature's SQL there (docs/features.md)", table);
      goto fail;
    }
    b += 8;
    const char *e = strstr(b, "\n```");
    if (!e) {
      snprintf(err, errlen, "the ```sql block of %s in the features document is not closed", table);
      goto fail;
    }
    size_t n = (size_t)(e - b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\n' || b[n - 1] == ';'))
      n--;
    sql[k] = strndup(b, n);
    if (!sql[k]) {
      snprintf(err, errlen, "out of memory reading the features document");
      goto fail;
    }
  }
  return 0;
fail:
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    free(sql[k]);
    sql[k] = NULL;
  }
  return -1;
}

static int is_integer(const char *s)
{
  if (*s == '-')
    s++;
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

int pg_verify_values_equal(const char *a, const char *b)
{
  if (strcmp(a, b) == 0)
    return 1;
  if (is_integer(a) && is_integer(b))
    return 0; /* integers exactly (text differs, so the values do) */
  char *ea, *eb;
  double x = strtod(a, &ea), y = strtod(b, &eb);
  if (*ea || *eb || ea == a || eb == b)
    return 0;
  if (x == y)
    return 1;
  double scale = fmax(fabs(x), fabs(y));
  return fabs(x - y) <= 1e-9 * scale;
}

/* Column index of every documented field in r; -1 (message in err) if one is missing. */
static int map_columns(PGresult *r, const struct fx_table_desc *d, int *cols, const char *side,
                       char *err, size_t errlen)
{
  for (size_t i = 0; i < d->n_fields; i++) {
    cols[i] = PQfnumber(r, d->fields[i]);
    if (cols[i] < 0) {
      snprintf(err, errlen, "the %s of %s has no column %s; it must return every field of "
               "the table (docs/features.md)", side, d->table, d->fields[i]);
      return -1;
    }
  }
  return 0;
}

static int64_t id_of(PGresult *r, int row, int col)
{
  return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int verify_kind(struct pg_session *s, enum fx_kind k, const char *sql, size_t max_diffs,
                       size_t *printed, FILE *diffs, struct pg_verify_kind *vk)
{
  const struct fx_table_desc *d = fx_table_desc(k);
  char q[512];
  /* The documented statement runs unchanged, wrapped only to fix the order of its rows. */
  char *wrapped = NULL;
  if (asprintf(&wrapped, "SELECT * FROM (\n%s\n) AS documented ORDER BY %s", sql,
               d->fields[1]) < 0) {
    snprintf(s->err, sizeof s->err, "out of memory");
    return -1;
  }
  double t0 = pg_now();
  PGresult *rs = pg_session_query(s, PG_Q_VERIFY, wrapped, 0, NULL);
  free(wrapped);
  vk->sql_seconds = pg_now() - t0;
  if (!rs) {
    char keep[sizeof s->err];
    memcpy(keep, s->err, sizeof keep);
    snprintf(s->err, sizeof s->err, "the documented SQL of %s failed: %.900s", d->table, keep);
    return -1;
  }
  snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY %s", d->table, d->fields[1]);
  PGresult *re = pg_session_query(s, PG_Q_VERIFY, q, 0, NULL);
  if (!re) {
    PQclear(rs);
    return -1;
  }
  int cs[64], ce[64];
  if (d->n_fields > 64 ||
      map_columns(rs, d, cs, "documented SQL", s->err, sizeof s->err) ||
      map_columns(re, d, ce, "table", s->err, sizeof s->err)) {
    PQclear(rs);
    PQclear(re);
    return -1;
  }
  int ns = PQntuples(rs), ne = PQntuples(re), i = 0, j = 0;
  vk->rows_sql = (uint64_t)ns;
  vk->rows_engine = (uint64_t)ne;
  while (i < ns || j < ne) {
    int64_t a = i < ns ? id_of(rs, i, cs[1]) : INT64_MAX;
    int64_t b = j < ne ? id_of(re, j, ce[1]) : INT64_MAX;
    if (i < ns && j < ne && a == b) {
      int bad = 0;
      for (size_t f = 0; f < d->n_fields; f++) {
        const char *vs = PQgetvalue(rs, i, cs[f]), *ve = PQgetvalue(re, j, ce[f]);
        if (PQgetisnull(rs, i, cs[f]))
          vs = "NULL";
        if (!pg_verify_values_equal(vs, ve)) {
          bad = 1;
          vk->mismatched_values++;
          if (*printed < max_diffs) {
            fprintf(diffs, "%s %s %lld: %s engine %s, SQL %s\n", d->table, d->fields[1],
                    (long long)a, d->fields[f], ve, vs);
            (*printed)++;
          }
        }
      }
      vk->mismatched_rows += (uint64_t)bad;
      vk->compared++;
      i++;
      j++;
    } else if (j >= ne || (i < ns && a < b)) {
      vk->missing_in_engine++;
      if (*printed < max_diffs) {
        fprintf(diffs, "%s %s %lld: the documented SQL has a row, the engine's table none\n",
                d->table, d->fields[1], (long long)a);
        (*printed)++;
      }
      i++;
    } else {
      vk->missing_in_sql++;
      if (*printed < max_diffs) {
        fprintf(diffs, "%s %s %lld: the engine's table has a row, the documented SQL none\n",
                d->table, d->fields[1], (long long)b);
        (*printed)++;
      }
      j++;
    }
  }
  PQclear(rs);
  PQclear(re);
  return 0;
}

int pg_verify_run(struct pg_session *s, char *const sql[FX_KIND_COUNT], size_t max_diffs,
                  FILE *diffs, struct pg_verify_report *rep)
{
  memset(rep, 0, sizeof *rep);
  size_t printed = 0;
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    struct pg_verify_kind *vk = &rep->kind[k];
    if (verify_kind(s, (enum fx_kind)k, sql[k], max_diffs, &printed, diffs, vk))
      return -1;
    rep->problems += vk->mismatched_rows + vk->missing_in_engine + vk->missing_in_sql;
  }
  return 0;
}
