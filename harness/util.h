/* util.h - small helpers every harness module shares: messages, checked allocation,
 * atomic file writes, directories, colour.
 *
 * Only the CLI layer prints; library modules return negative errno or PS_EXIT_* codes.
 */
#ifndef PERFSWEEP_UTIL_H
#define PERFSWEEP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "exit-codes.h"

#define PS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The program name used as the prefix of messages ("perfsweep run"). */
void ps_set_progname(const char *name);
const char *ps_progname(void);

/* "perfsweep run: error: <message>" on stderr. */
void ps_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ps_error, then exit(code). */
noreturn void ps_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that never returns NULL: it dies with exit 4 and a message on exhaustion. */
void *ps_xmalloc(size_t n);
void *ps_xcalloc(size_t n, size_t size);
void *ps_xrealloc(void *p, size_t n);
char *ps_xstrdup(const char *s);
char *ps_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all len bytes of buf to fd (write(2) again after a short write or EINTR). Returns 0 or
 * a negative errno. */
int ps_write_all(int fd, const void *buf, size_t len);
/* Writes len bytes to path through "path.tmp.<pid>.<n>" (a name of this writer alone, so
 * concurrent writers of one path are safe) and rename, fsync'd first when sync.
 * Returns 0 or a negative errno; on failure path is untouched and the temporary file removed. */
int ps_write_file_replace(const char *path, const void *data, size_t len, int sync);
/* ps_write_file_replace with fsync: a temporary file beside it, fsync, rename. */
int ps_write_file_atomic(const char *path, const void *data, size_t len);
/* Reads a whole file into a NUL-terminated malloc'd buffer. Returns 0 or negative errno. */
int ps_read_file(const char *path, char **data, size_t *len);
/* mkdir -p. Returns 0 or a negative errno. */
int ps_mkdir_p(const char *path, unsigned mode);
/* Directory of the running executable (from /proc/self/exe), malloc'd. */
char *ps_exe_dir(void);

/* Colour on a stream: only on a terminal and when NO_COLOR is unset or empty. */
int ps_use_color(FILE *stream);

#endif
