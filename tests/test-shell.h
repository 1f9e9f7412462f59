/* test-shell.h - runs a shell command from a test and captures what it prints: for integration
 * tests that drive the real binaries through sh (redirections, globs, pipes in the command).
 */
#ifndef PERFSWEEP_TEST_SHELL_H
#define PERFSWEEP_TEST_SHELL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs cmd with sh; returns its stdout (malloc'd, NUL-terminated) and sets *rc to its exit code
 * (128 when it did not exit normally). Fails the test when the shell cannot be started. */
static inline char *ps_test_sh(const char *cmd, int *rc)
{
  FILE *f = popen(cmd, "r");
  cr_assert_not_null(f, "popen %s", cmd);
  size_t cap = 1 << 16, len = 0, n;
  char *buf = malloc(cap);
  cr_assert_not_null(buf);
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (len + 1 == cap) {
      buf = realloc(buf, cap *= 2);
      cr_assert_not_null(buf);
    }
  }
  buf[len] = 0;
  int st = pclose(f);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return buf;
}

#endif
