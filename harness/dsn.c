/* dsn.c - PostgreSQL connection strings in the harness: the one place a password is masked
 * before a DSN appears in a message, a log line or a results file. Never prints.
 * (The feature workload has its own copy in workloads/features/pg-dsn.c: it does not link the
 * harness.)
 */
#include "dsn.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

char *ps_dsn_mask(const char *spec)
{
  char *s = ps_xstrdup(spec);
  if (!strncmp(s, "postgres", 8)) {
    /* scheme://user:password@host… : mask between the first ':' after "//" and the last '@'. */
    char *auth = strstr(s, "//");
    char *at = auth ? strrchr(auth, '@') : NULL;
    char *colon = auth ? memchr(auth + 2, ':', at ? (size_t)(at - auth - 2) : 0) : NULL;
    if (colon && at) {
      char *out = ps_xasprintf("%.*s:***%s", (int)(colon - s), s, at);
      free(s);
      s = out;
    }
    /* …?password=secret in the query string */
  }
  char *p = strstr(s, "password=");
  while (p) {
    char *v = p + 9, *e = v;
    if (*e == '\'') {
      e++;
      while (*e && *e != '\'')
        e += (*e == '\\' && e[1]) ? 2 : 1;
      if (*e)
        e++;
    } else {
      while (*e && *e != ' ' && *e != '&')
        e++;
    }
    char *out = ps_xasprintf("%.*s***%s", (int)(v - s), s, e);
    size_t off = (size_t)(v - s) + 3;
    free(s);
    s = out;
    p = strstr(s + off, "password=");
  }
  return s;
}
