/* pq-lazy.c - libpq, loaded on first use instead of at start-up.
 *
 * Only `perfsweep history` with a PostgreSQL store and `perfsweep doctor --dsn` talk to a
 * database, yet linking libpq makes every command load it and its ~20 libraries (Kerberos, LDAP,
 * TLS): about 9 ms of start-up. These definitions of the libpq calls the harness uses forward
 * to libpq.so.5 opened with dlopen on the first call (lazy-lib.h). When it cannot be loaded,
 * connecting fails like a refused connection and PQerrorMessage says which package to install.
 */
#include <libpq-fe.h>
#include <stddef.h>

#include "lazy-lib.h"

#define PQ_LAZY_MAP(X, V)                                                                         \
  X(PGconn *, PQconnectdb, (const char *c), (c), NULL)                                            \
  X(PGPing, PQping, (const char *c), (c), PQPING_NO_ATTEMPT)                                      \
  X(ConnStatusType, PQstatus, (const PGconn *c), (c), CONNECTION_BAD)                             \
  X(char *, PQerrorMessage, (const PGconn *c), (c), (char *)missing_message)                      \
  X(int, PQserverVersion, (const PGconn *c), (c), 0)                                              \
  X(PGresult *, PQexec, (PGconn * c, const char *q), (c, q), NULL)                                \
  X(PGresult *, PQexecParams,                                                                     \
    (PGconn * c, const char *q, int n, const Oid *t, const char *const *v, const int *l,           \
     const int *f, int r),                                                                        \
    (c, q, n, t, v, l, f, r), NULL)                                                               \
  X(ExecStatusType, PQresultStatus, (const PGresult *r), (r), PGRES_FATAL_ERROR)                  \
  X(int, PQntuples, (const PGresult *r), (r), 0)                                                  \
  X(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f), (char *)"")                \
  V(void, PQfinish, (PGconn * c), (c), 0)                                                         \
  V(void, PQclear, (PGresult * r), (r), 0)

static const char missing_message[] =
    "the PostgreSQL client library libpq.so.5 could not be loaded; install the Debian package "
    "libpq5\n";

PS_LAZY_LIBRARY(PQ_LAZY_MAP, "libpq.so.5", NULL)
