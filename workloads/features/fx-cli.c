/* fx-cli.c - command-line helpers (see fx-cli.h). */
#include "fx-cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "exit-codes.h"

void fx_cli_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "perfsweep-features %s: error: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int fx_cli_getopt_error(const char *cmd, int c, char **argv)
{
  if (c == ':')
    fx_cli_error(cmd, "%s needs a value; see perfsweep-features %s --help", argv[optind - 1], cmd);
  else
    fx_cli_error(cmd, "unknown option '%s'; see perfsweep-features %s --help", argv[optind - 1],
                 cmd);
  return PS_EXIT_USAGE;
}

int fx_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
  uint64_t v = 0;
  if (!s || !*s)
    return -1;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v < min || v > max)
    return -1;
  *out = v;
  return 0;
}
