/* pg-verify.h - proves the engine right against PostgreSQL: runs the SQL of every feature
 * documented in docs/features.md inside the server and compares its rows with the feature
 * tables the engine wrote (integers exactly, fractions to a relative 1e-9).
 */
#ifndef PERFSWEEP_PG_VERIFY_H
#define PERFSWEEP_PG_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fx-rows.h"
#include "pg-session.h"

/* Where docs/features.md is looked for when no --doc is given: $PERFSWEEP_FEATURES_DOC, the
 * source tree this file was compiled from, then <exe>/../../docs/features.md. Returns a
 * malloc'd path that exists, or NULL. */
char *pg_verify_default_doc(void);

/* Extracts the SQL block of each feature table from the markdown text of docs/features.md:
 * the first ```sql block after the "## " heading that names `<kind>_features`. Returns 0 with
 * sql[k] malloc'd (trailing ';' removed), or -1 with a sentence in err naming what is missing. */
int pg_verify_extract_sql(const char *markdown, char *sql[FX_KIND_COUNT], char *err,
                          size_t errlen);

struct pg_verify_kind {
  uint64_t rows_sql, rows_engine, compared, mismatched_rows, mismatched_values;
  uint64_t missing_in_engine, missing_in_sql;
  double sql_seconds;
};

struct pg_verify_report {
  struct pg_verify_kind kind[FX_KIND_COUNT];
  uint64_t problems; /* mismatched rows + rows missing on either side, all kinds */
};

/* Runs sql[k] and compares with <kind>_features by entity id, printing at most max_diffs
 * differences to diffs (one line each). Returns 0 (rep filled; rep->problems tells the verdict)
 * or -1 when a statement failed or a documented column is missing (s->err set). */
int pg_verify_run(struct pg_session *s, char *const sql[FX_KIND_COUNT], size_t max_diffs,
                  FILE *diffs, struct pg_verify_report *rep);

/* Equality of two values as PostgreSQL prints them: integers exactly, numbers with a fraction
 * or exponent to a relative 1e-9, anything else as text. */
int pg_verify_values_equal(const char *a, const char *b);

#endif
