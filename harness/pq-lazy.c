/* pq-lazy.c - libpq, loaded on first use instead of at start-up.
 *
 * Only `perfsweep history` with a PostgreSQL store and `perfsweep doctor --dsn` talk to a
 * database, yet linking libpq makes every command load it and its ~20 libraries (Kerberos, LDAP,
 * TLS): about 9 ms of start-up. These definitions of the libpq calls the harness uses forward to
 * libpq.so.5 opened with dlopen on the first call. When it cannot be loaded, connecting fails
 * like a refused connection and PQerrorMessage says which package to install.
 */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stddef.h>

#define PQ_LAZY_MAP(X)                                                                          \
  X(PGconn *, PQconnectdb, (const char *c), (c), NULL)                                        \
  X(PGPing, PQping, (const char *c), (c), PQPING_NO_ATTEMPT)                                  \
  X(ConnStatusType, PQstatus, (const PGconn *c), (c), CONNECTION_BAD)                         \
  X(char *, PQerrorMessage, (const PGconn *c), (c), (char *)missing_message)                  \
  X(int, PQserverVersion, (const PGconn *c), (c), 0)                                          \
  X(PGresult *, PQexec, (PGconn * c, const char *q), (c, q), NULL)                            \
  X(PGresult *, PQexecParams,                                                                 \
    (PGconn * c, const char *q, int n, const Oid *t, const char *const *v, const int *l,       \
     const int *f, int r),                                                                     \
    (c, q, n, t, v, l, f, r), NULL)                                                            \
  X(ExecStatusType, PQresultStatus, (const PGresult *r), (r), PGRES_FATAL_ERROR)              \
  X(int, PQntuples, (const PGresult *r), (r), 0)                                              \
  X(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f), (char *)"")

static const char missing_message[] =
    "the PostgreSQL client library libpq.so.5 could not be loaded; install the Debian package "
    "libpq5\n";

static struct {
#define PQ_LAZY_FIELD(ret, name, params, args, fallback) ret(*name) params;
  PQ_LAZY_MAP(PQ_LAZY_FIELD)
#undef PQ_LAZY_FIELD
  void (*finish)(PGconn *);
  void (*clear)(PGresult *);
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static int pq_loaded;

static void pq_load(void)
{
  void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return;
#define PQ_LAZY_SYM(ret, name, params, args, fallback)                                        \
  if (!(*(void **)&pq.name = dlsym(h, #name)))                                                 \
    return;
  PQ_LAZY_MAP(PQ_LAZY_SYM)
#undef PQ_LAZY_SYM
  if (!(*(void **)&pq.finish = dlsym(h, "PQfinish")) || !(*(void **)&pq.clear = dlsym(h, "PQclear")))
    return;
  pq_loaded = 1;
}

static int pq_ready(void)
{
  pthread_once(&pq_once, pq_load);
  return pq_loaded;
}

#define PQ_LAZY_DEFINE(ret, name, params, args, fallback)                                     \
  ret name params { return pq_ready() ? pq.name args : (fallback); }
PQ_LAZY_MAP(PQ_LAZY_DEFINE)
#undef PQ_LAZY_DEFINE

void PQfinish(PGconn *c)
{
  if (c && pq_ready())
    pq.finish(c);
}

void PQclear(PGresult *r)
{
  if (r && pq_ready())
    pq.clear(r);
}
