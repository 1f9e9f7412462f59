/* test-pg-dsn.c - PostgreSQL DSN handling: the "postgres:" prefix, password masking in URI and
 * keyword forms, scrubbing libpq messages, and the one-sentence connection failures (bad DSN,
 * server not running; wrong password needs the throwaway server and lives in test-pg-faults).
 * The module is compiled into this test directly: it depends on libpq only.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/features/pg-dsn.c"

static void assert_masked(const char *dsn, const char *expect)
{
  char *m = pg_dsn_mask(dsn);
  cr_assert_not_null(m);
  cr_assert_str_eq(m, expect, "masking '%s' gave '%s', expected '%s'", dsn, m, expect);
  free(m);
}

Test(pg_dsn, spec_prefix_is_stripped_but_uri_kept)
{
  cr_assert_str_eq(pg_dsn_from_spec("postgres:host=x dbname=y"), "host=x dbname=y");
  cr_assert_str_eq(pg_dsn_from_spec("postgres:postgresql://u@h/db"), "postgresql://u@h/db");
  cr_assert_str_eq(pg_dsn_from_spec("postgres://u@h/db"), "postgres://u@h/db");
  cr_assert_str_eq(pg_dsn_from_spec("postgresql://u@h/db"), "postgresql://u@h/db");
}

Test(pg_dsn, mask_hides_uri_password)
{
  assert_masked("postgresql://bob:s3cret@127.0.0.1:5432/db",
                "postgresql://bob:***@127.0.0.1:5432/db");
  assert_masked("postgres://bob:p%40ss@h/db?sslmode=disable&password=again",
                "postgres://bob:***@h/db?sslmode=disable&password=***");
  assert_masked("postgresql://bob@h:1/db", "postgresql://bob@h:1/db");
}

Test(pg_dsn, mask_hides_keyword_password)
{
  assert_masked("host=h password=s3cret dbname=db", "host=h password=*** dbname=db");
  assert_masked("host=h password = 'a b\\' c' user=u", "host=h password = *** user=u");
  assert_masked("host=h dbname=db", "host=h dbname=db");
}

Test(pg_dsn, scrub_removes_password_from_messages)
{
  char *s = pg_dsn_scrub("postgresql://u:hunter2@h/db", "bad thing near \"hunter2\" here");
  cr_assert_not_null(s);
  cr_assert_null(strstr(s, "hunter2"), "password leaked into '%s'", s);
  cr_assert_not_null(strstr(s, "***"), "mask missing in '%s'", s);
  free(s);
}

Test(pg_dsn, bad_dsn_is_one_masked_sentence)
{
  enum pg_conn_failure why;
  char msg[1024];
  PGconn *c = pg_conn_open("host=h password=topsecret nonsense_key=1", &why, msg, sizeof msg);
  cr_assert_null(c);
  cr_assert_eq(why, PG_CONN_BAD_DSN, "why=%d msg=%s", why, msg);
  cr_assert_eq(pg_conn_exit_code(why), 3);
  cr_assert_null(strstr(msg, "topsecret"), "password leaked: %s", msg);
  cr_assert_null(strchr(msg, '\n'), "message is more than one line: %s", msg);
  cr_assert_not_null(strstr(msg, "not valid"), "message: %s", msg);
}

Test(pg_dsn, server_not_running_is_unreachable)
{
  enum pg_conn_failure why;
  char msg[1024];
  /* Port 1 on loopback: nothing listens there, the kernel refuses at once. */
  PGconn *c = pg_conn_open("postgresql://u:pw12345@127.0.0.1:1/db", &why, msg, sizeof msg);
  cr_assert_null(c);
  cr_assert_eq(why, PG_CONN_UNREACHABLE, "why=%d msg=%s", why, msg);
  cr_assert_eq(pg_conn_exit_code(why), 4);
  cr_assert_null(strstr(msg, "pw12345"), "password leaked: %s", msg);
  cr_assert_not_null(strstr(msg, "127.0.0.1:1"), "message does not name host:port: %s", msg);
}

Test(pg_dsn, hide_in_place_keeps_length_and_hides_password)
{
  char spec[] = "postgres:postgresql://bob:hunter2@h/db";
  size_t len = strlen(spec);
  pg_dsn_hide_in_place(spec);
  cr_assert_str_eq(spec, "postgres:postgresql://bob:*******@h/db");
  cr_assert_eq(strlen(spec), len);
  char kw[] = "host=h password=abc";
  pg_dsn_hide_in_place(kw);
  cr_assert_str_eq(kw, "host=h password=***");
}
