/* pg-dsn.c - PostgreSQL connection strings: the "postgres:" prefix, password masking and a
 * connection opener that turns libpq's failure into one sentence with a fix.
 * It must never let a password reach a message: every DSN is masked and every libpq message
 * scrubbed of the password before it is returned.
 */
#include "pg-dsn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"

static const char MASK[] = "***";

const char *pg_dsn_from_spec(const char *spec)
{
  if (strncmp(spec, "postgres:", 9) == 0 && strncmp(spec, "postgres://", 11) != 0)
    return spec + 9;
  return spec;
}

/* Appends n bytes to a growing buffer; returns -1 when out of memory. */
static int buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap) {
    size_t ncap = (*cap ? *cap * 2 : 64) + n;
    char *nb = realloc(*buf, ncap);
    if (!nb)
      return -1;
    *buf = nb;
    *cap = ncap;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

/* A span [start, end) of the text to be replaced by the mask. */
struct span {
  size_t start, end;
};

/* Finds the value spans of password=... in a URI query string that begins at q. */
static size_t uri_query_spans(const char *s, size_t q, struct span *out, size_t max, size_t n)
{
  size_t i = q;
  while (s[i] && s[i] != '#') {
    size_t key = i;
    while (s[i] && s[i] != '=' && s[i] != '&')
      i++;
    int is_pw = (i - key == 8 && strncmp(s + key, "password", 8) == 0);
    if (s[i] == '=') {
      size_t v = ++i;
      while (s[i] && s[i] != '&' && s[i] != '#')
        i++;
      if (is_pw && n < max && i > v)
        out[n++] = (struct span){v, i};
    }
    if (s[i] == '&')
      i++;
  }
  return n;
}

/* Finds the spans to mask in dsn (URI or keyword form); returns how many. */
static size_t password_spans(const char *s, struct span *out, size_t max)
{
  size_t n = 0;
  const char *schemes[] = {"postgresql://", "postgres://"};
  for (size_t k = 0; k < 2; k++) {
    size_t sl = strlen(schemes[k]);
    if (strncmp(s, schemes[k], sl) != 0)
      continue;
    size_t a = sl, e = a;
    while (s[e] && s[e] != '/' && s[e] != '?' && s[e] != '#')
      e++;
    size_t at = e;
    for (size_t i = a; i < e; i++)
      if (s[i] == '@')
        at = i;
    if (at < e) {
      for (size_t i = a; i < at; i++)
        if (s[i] == ':') {
          if (at > i + 1 && n < max)
            out[n++] = (struct span){i + 1, at};
          break;
        }
    }
    const char *q = strchr(s + e, '?');
    if (q)
      n = uri_query_spans(s, (size_t)(q - s) + 1, out, max, n);
    return n;
  }
  /* keyword = value form: password may be quoted with '' and backslash escapes. */
  size_t i = 0;
  while (s[i]) {
    while (isspace((unsigned char)s[i]))
      i++;
    size_t key = i;
    while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
      i++;
    int is_pw = (i - key == 8 && strncmp(s + key, "password", 8) == 0);
    while (isspace((unsigned char)s[i]))
      i++;
    if (s[i] != '=')
      break;
    i++;
    while (isspace((unsigned char)s[i]))
      i++;
    size_t v = i;
    if (s[i] == '\'') {
      i++;
      while (s[i] && s[i] != '\'') {
        if (s[i] == '\\' && s[i + 1])
          i++;
        i++;
      }
      if (s[i] == '\'')
        i++;
    } else {
      while (s[i] && !isspace((unsigned char)s[i]))
        i++;
    }
    if (is_pw && i > v && n < max)
      out[n++] = (struct span){v, i};
  }
  return n;
}

char *pg_dsn_mask(const char *dsn)
{
  struct span sp[16];
  size_t n = password_spans(dsn, sp, 16);
  char *buf = NULL;
  size_t len = 0, cap = 0, pos = 0;
  for (size_t k = 0; k < n; k++) {
    if (buf_add(&buf, &len, &cap, dsn + pos, sp[k].start - pos) ||
        buf_add(&buf, &len, &cap, MASK, sizeof MASK - 1))
      goto oom;
    pos = sp[k].end;
  }
  if (buf_add(&buf, &len, &cap, dsn + pos, strlen(dsn + pos)))
    goto oom;
  return buf;
oom:
  free(buf);
  return NULL;
}

void pg_dsn_hide_in_place(char *spec)
{
  char *dsn = (char *)pg_dsn_from_spec(spec);
  struct span sp[16];
  size_t n = password_spans(dsn, sp, 16);
  for (size_t k = 0; k < n; k++)
    memset(dsn + sp[k].start, '*', sp[k].end - sp[k].start);
}

/* Replaces every occurrence of needle (n bytes) in *text by the mask, in place (reallocating). */
static int replace_all(char **text, const char *needle, size_t n)
{
  if (n == 0)
    return 0;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  const char *p = *text, *hit;
  while ((hit = strstr(p, needle)) != NULL) {
    if (buf_add(&buf, &len, &cap, p, (size_t)(hit - p)) ||
        buf_add(&buf, &len, &cap, MASK, sizeof MASK - 1))
      goto oom;
    p = hit + n;
  }
  if (buf_add(&buf, &len, &cap, p, strlen(p)))
    goto oom;
  free(*text);
  *text = buf;
  return 0;
oom:
  free(buf);
  return -1;
}

char *pg_dsn_scrub(const char *dsn, const char *text)
{
  char *out = strdup(text ? text : "");
  if (!out)
    return NULL;
  /* The password as written (maybe percent-encoded or quoted) ... */
  struct span sp[16];
  size_t n = password_spans(dsn, sp, 16);
  for (size_t k = 0; k < n; k++)
    if (replace_all(&out, dsn + sp[k].start, sp[k].end - sp[k].start))
      goto oom;
  /* ... and as libpq understood it. */
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(dsn, &err);
  PQfreemem(err);
  if (opts) {
    for (PQconninfoOption *o = opts; o->keyword; o++)
      if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0] &&
          replace_all(&out, o->val, strlen(o->val))) {
        PQconninfoFree(opts);
        goto oom;
      }
    PQconninfoFree(opts);
  }
  return out;
oom:
  free(out);
  return NULL;
}

/* The first line of a libpq message, scrubbed, without "FATAL:  " noise. */
static void first_line(const char *dsn, const char *raw, char *out, size_t outlen)
{
  char *s = pg_dsn_scrub(dsn, raw);
  const char *p = s ? s : "(out of memory)";
  const char *fatal = strstr(p, "FATAL:");
  if (fatal) {
    p = fatal + 6;
    while (*p == ' ')
      p++;
  }
  size_t n = strcspn(p, "\n");
  snprintf(out, outlen, "%.*s", (int)n, p);
  free(s);
}

PGconn *pg_conn_open(const char *dsn, enum pg_conn_failure *why, char *msg, size_t msglen)
{
  char *masked = pg_dsn_mask(dsn);
  const char *shown = masked ? masked : "(DSN)";
  char line[512];
  PGconn *conn = NULL;

  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
  if (!opts) {
    first_line(dsn, perr ? perr : "unparseable", line, sizeof line);
    PQfreemem(perr);
    *why = PG_CONN_BAD_DSN;
    snprintf(msg, msglen,
             "the PostgreSQL DSN '%s' is not valid (%s); write it as "
             "postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE or 'host=H port=P dbname=D user=U'",
             shown, line);
    goto out;
  }
  PQconninfoFree(opts);

  /* Defaults first; the expanded DSN (last) overrides them. */
  const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *vals[] = {"10", "perfsweep-features", dsn, NULL};
  conn = PQconnectdbParams(keys, vals, 1);
  if (conn && PQstatus(conn) == CONNECTION_OK) {
    *why = PG_CONN_OK;
    msg[0] = '\0';
    goto out;
  }
  const char *raw = conn ? PQerrorMessage(conn) : "out of memory";
  first_line(dsn, raw, line, sizeof line);
  const char *host = conn && PQhost(conn) ? PQhost(conn) : "?";
  const char *port = conn && PQport(conn) ? PQport(conn) : "?";
  if (strstr(raw, "invalid") && (strstr(raw, "connection option") || strstr(raw, "URI"))) {
    *why = PG_CONN_BAD_DSN; /* parsed, but a value is unusable (port "abc", sslmode "x") */
    snprintf(msg, msglen,
             "the PostgreSQL DSN '%s' is not valid (%s); write it as "
             "postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE or 'host=H port=P dbname=D user=U'",
             shown, line);
  } else if (conn && PQconnectionNeedsPassword(conn)) {
    *why = PG_CONN_AUTH;
    snprintf(msg, msglen,
             "PostgreSQL at %s:%s wants a password for '%s' and none was given; "
             "put it in the DSN, PGPASSWORD or ~/.pgpass",
             host, port, shown);
  } else if (strstr(raw, "authentication failed") || strstr(raw, "password")) {
    *why = PG_CONN_AUTH;
    snprintf(msg, msglen,
             "PostgreSQL at %s:%s rejected the credentials of '%s' (%s); check the user "
             "name and password",
             host, port, shown, line);
  } else if (strstr(raw, "Connection refused") || strstr(raw, "No such file or directory") ||
             strstr(raw, "could not translate host name") || strstr(raw, "timeout expired") ||
             strstr(raw, "unreachable") || strstr(raw, "starting up") ||
             strstr(raw, "shutting down")) {
    *why = PG_CONN_UNREACHABLE;
    snprintf(msg, msglen,
             "no PostgreSQL server answers at %s:%s for '%s' (%s); start it "
             "(scripts/pg-start.sh starts a throwaway one) or fix the host and port",
             host, port, shown, line);
  } else {
    *why = PG_CONN_OTHER;
    snprintf(msg, msglen, "PostgreSQL at %s:%s refused the connection '%s': %s", host, port,
             shown, line);
  }
  PQfinish(conn);
  conn = NULL;
out:
  free(masked);
  return conn;
}

int pg_conn_exit_code(enum pg_conn_failure why)
{
  switch (why) {
  case PG_CONN_OK:
    return PS_EXIT_OK;
  case PG_CONN_BAD_DSN:
    return PS_EXIT_USAGE;
  default:
    return PS_EXIT_ENVIRONMENT;
  }
}
