/* fx-cli.h - shared command-line helpers of perfsweep-features: one-line error messages and
 * strict number parsing (no strtol leniency: "10x", "", "-1" are rejected).
 */
#ifndef PERFSWEEP_FX_CLI_H
#define PERFSWEEP_FX_CLI_H

#include <stdint.h>

/* "perfsweep-features CMD: error: MESSAGE" on stderr. */
void fx_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message and exit code for getopt_long's ':' (missing value) and '?' (unknown option)
 * results, given the getopt return c. Always returns PS_EXIT_USAGE (3). */
int fx_cli_getopt_error(const char *cmd, int c, char **argv);
/* Parses a whole decimal number in [min, max]. Returns 0, or -1 (nothing printed). */
int fx_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
