/* test-pq-lazy.c - the harness's libpq, loaded on first use (harness/pq-lazy.c): it loads,
 * forwards, and handles NULL like libpq itself. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <link.h>
#include <string.h>

static int libpq_mapped(void)
{
  int found = 0;
  for (struct link_map *m = _r_debug.r_map; m; m = m->l_next)
    found |= strstr(m->l_name, "libpq.so") != NULL;
  return found;
}

Test(pq_lazy, not_loaded_until_first_call_then_forwards)
{
  cr_assert_not(libpq_mapped(), "libpq is loaded at start-up: the harness must not link it");
  cr_assert_eq(PQping("host=127.0.0.1 port=1 connect_timeout=2"), PQPING_NO_RESPONSE,
               "nothing listens on port 1");
  cr_assert(libpq_mapped(), "the first call loads libpq");
  PGconn *c = PQconnectdb("host=127.0.0.1 port=1 connect_timeout=2");
  cr_assert_not_null(c);
  cr_assert_eq(PQstatus(c), CONNECTION_BAD);
  cr_assert_gt(strlen(PQerrorMessage(c)), 0, "a refused connection explains itself");
  PQfinish(c);
}

Test(pq_lazy, null_handles_are_safe)
{
  cr_assert_eq(PQstatus(NULL), CONNECTION_BAD);
  PQfinish(NULL);
  PQclear(NULL);
}
