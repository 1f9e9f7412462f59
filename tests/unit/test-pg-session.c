/* test-pg-session.c - a worker's PostgreSQL session: COPY text escaping, timed queries and
 * COPY counted in the stats, failures as masked sentences, and a terminated backend reported
 * as transient so that a reconnect and retry succeeds.
 * Needs the throwaway server ($PERFSWEEP_TEST_DSN) for all but the escaping case.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/features/pg-dsn.c"
#include "../../workloads/features/pg-session.c"
#include "../../workloads/features/pg-stats.c"
#include "fixtures/pg/pg-test-env.h"

Test(pg_session, copybuf_escapes_text_format)
{
  struct pg_copybuf b = {0};
  pg_copybuf_i64(&b, 1, -42);
  pg_copybuf_text(&b, 0, "a\tb\\c\nd");
  pg_copybuf_text(&b, 0, NULL);
  pg_copybuf_f64(&b, 0, 0.1);
  pg_copybuf_end_row(&b);
  const char *expect = "-42\ta\\tb\\\\c\\nd\t\\N\t0.10000000000000001\n";
  cr_assert_eq(b.len, strlen(expect));
  cr_assert(memcmp(b.data, expect, b.len) == 0, "got '%.*s'", (int)b.len, b.data);
  cr_assert_eq(b.rows, 1);
  pg_copybuf_release(&b);
}

Test(pg_session, query_and_copy_are_counted)
{
  const char *dsn = PG_TEST_DSN();
  struct pg_session s;
  cr_assert_eq(pg_session_open(&s, dsn, 1000), 0, "open: %s", s.err);
  cr_assert_eq(pg_session_command(&s, PG_Q_DDL, "CREATE TEMP TABLE t (a bigint, b text, c float8)",
                                  0, NULL), 0, "%s", s.err);
  struct pg_copybuf b = {0};
  for (int i = 0; i < 3; i++) {
    pg_copybuf_i64(&b, 1, i);
    pg_copybuf_text(&b, 0, i == 1 ? "tab\there" : "x");
    pg_copybuf_f64(&b, 0, 1.0 / 3.0);
    pg_copybuf_end_row(&b);
  }
  cr_assert_eq(pg_session_copy_in(&s, "COPY t FROM STDIN", b.data, b.len, b.rows), 0, "%s",
               s.err);
  const char *params[] = {"tab\there"};
  PGresult *r = pg_session_query(&s, PG_Q_READ_ROWS,
                                 "SELECT a, c = 1.0::float8/3 FROM t WHERE b = $1", 1, params);
  cr_assert_not_null(r, "%s", s.err);
  cr_assert_eq(PQntuples(r), 1);
  cr_assert_str_eq(PQgetvalue(r, 0, 0), "1");
  cr_assert_str_eq(PQgetvalue(r, 0, 1), "t", "a double written by COPY must read back exactly");
  PQclear(r);
  cr_assert_eq(s.stats.rows_written, 3);
  cr_assert_eq(s.stats.rows_read, 1);
  cr_assert_eq(s.stats.lat[PG_Q_COPY_IN].n, 1);
  pg_copybuf_release(&b);
  pg_session_close(&s);
}

Test(pg_session, sql_error_is_a_sentence_not_transient)
{
  const char *dsn = PG_TEST_DSN();
  struct pg_session s;
  cr_assert_eq(pg_session_open(&s, dsn, 1000), 0, "open: %s", s.err);
  cr_assert_null(pg_session_query(&s, PG_Q_OTHER, "SELECT * FROM no_such_table_xyz", 0, NULL));
  cr_assert_not_null(strstr(s.err, "no_such_table_xyz"), "err: %s", s.err);
  cr_assert_str_eq(s.sqlstate, "42P01");
  cr_assert_eq(s.transient, 0);
  cr_assert_eq(s.stats.errors, 1);
  pg_session_close(&s);
}

Test(pg_session, terminated_backend_is_transient_and_reconnect_works)
{
  const char *dsn = PG_TEST_DSN();
  struct pg_session s, killer;
  cr_assert_eq(pg_session_open(&s, dsn, 1000), 0, "open: %s", s.err);
  cr_assert_eq(pg_session_open(&killer, dsn, 1000), 0, "open: %s", killer.err);
  char pid[32];
  snprintf(pid, sizeof pid, "%d", PQbackendPID(s.conn));
  const char *params[] = {pid};
  PGresult *r = pg_session_query(&killer, PG_Q_OTHER, "SELECT pg_terminate_backend($1::int)",
                                 1, params);
  cr_assert_not_null(r, "%s", killer.err);
  PQclear(r);
  cr_assert_null(pg_session_query(&s, PG_Q_OTHER, "SELECT 1", 0, NULL));
  cr_assert_eq(s.transient, 1, "a terminated backend must be transient: %s (%s)", s.err,
               s.sqlstate);
  cr_assert_eq(pg_session_reconnect(&s), 0, "%s", s.err);
  r = pg_session_query(&s, PG_Q_OTHER, "SELECT 1", 0, NULL);
  cr_assert_not_null(r, "after reconnect: %s", s.err);
  PQclear(r);
  pg_session_close(&s);
  pg_session_close(&killer);
}
