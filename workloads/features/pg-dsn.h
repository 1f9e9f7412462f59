/* pg-dsn.h - PostgreSQL connection strings for perfsweep-features: the "postgres:" prefix,
 * masking the password out of anything we print, and opening a connection whose failure is
 * turned into one clear sentence (bad DSN, wrong password, server not running).
 * Never print a DSN without pg_dsn_mask(); never print a libpq message without pg_dsn_scrub().
 */
#ifndef PERFSWEEP_PG_DSN_H
#define PERFSWEEP_PG_DSN_H

#include <stddef.h>

#include <libpq-fe.h>

/* If spec starts with "postgres:" (and is not itself a "postgres://" URI), returns the text
 * after it; returns spec otherwise (a bare DSN). Never NULL for a non-NULL spec. */
const char *pg_dsn_from_spec(const char *spec);

/* A malloc'd copy of dsn with any password (URI user:PASS@, ?password=, keyword password=)
 * replaced by "***". Returns NULL only when out of memory. Caller frees. */
char *pg_dsn_mask(const char *dsn);

/* A malloc'd copy of text with every occurrence of dsn's password replaced by "***"
 * (for libpq messages that may echo parts of the DSN). NULL only when out of memory. */
char *pg_dsn_scrub(const char *dsn, const char *text);

/* Overwrites every character of the password in spec with '*' in place (length kept), so a
 * command line echoed later (run's "source ..." line, --json, ps) does not show it. The
 * caller keeps its own copy of the real DSN first. */
void pg_dsn_hide_in_place(char *spec);

/* Why a connection failed; each has its own message and exit code. */
enum pg_conn_failure {
  PG_CONN_OK = 0,
  PG_CONN_BAD_DSN,      /* the string does not parse: exit PS_EXIT_USAGE */
  PG_CONN_AUTH,         /* password missing or wrong: exit PS_EXIT_ENVIRONMENT */
  PG_CONN_UNREACHABLE,  /* nothing listens there / host unknown: exit PS_EXIT_ENVIRONMENT */
  PG_CONN_OTHER,        /* anything else the server refused (no such database, ...) */
};

/* Opens a connection. On success returns it (caller PQfinish()es) and sets *why = PG_CONN_OK.
 * On failure returns NULL, sets *why and writes one masked sentence naming the masked DSN
 * and the fix into msg (msglen bytes). Never prints. */
PGconn *pg_conn_open(const char *dsn, enum pg_conn_failure *why, char *msg, size_t msglen);

/* The PS_EXIT_* code for a connection failure. */
int pg_conn_exit_code(enum pg_conn_failure why);

#endif
