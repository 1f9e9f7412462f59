/* test-tmp.h - the tests' temporary files and folders: each one made here is registered and
 * removed, with everything in it, when the test's worker exits (an atexit handler: Criterion's
 * workers exit normally after a pass, a failed assertion in the test and a skip, also one from
 * .init; a crash, a timeout or a failed assertion in .init leaves the folder behind). Children
 * forked by a test never remove anything: the handler acts only in the registering process.
 */
#ifndef PERFSWEEP_TEST_TMP_H
#define PERFSWEEP_TEST_TMP_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ps_test_tmp {
  char **paths;                 /* malloc'd, n of them */
  size_t n;
  pid_t owner;                  /* the process that registered them */
};

static inline struct ps_test_tmp *ps_test_tmp_state(void)
{
  static struct ps_test_tmp t;
  return &t;
}

static inline int ps_test_rm_one(const char *path, const struct stat *st, int type,
                                 struct FTW *ftw)
{
  (void)st, (void)type, (void)ftw;
  remove(path);
  return 0;
}

/* Removes path and, when it is a folder, everything in it (symbolic links are removed, not
 * followed). A missing path is not an error. Never fails the test. */
static inline void ps_test_rm_tree(const char *path)
{
  nftw(path, ps_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes every path registered by this process (the atexit handler; may also be called
 * directly, e.g. as a .fini). Does nothing in a forked child. */
static inline void ps_test_tmp_cleanup(void)
{
  struct ps_test_tmp *t = ps_test_tmp_state();
  if (t->owner != getpid())
    return;
  while (t->n > 0) {
    char *p = t->paths[--t->n];
    ps_test_rm_tree(p);
    free(p);
  }
  free(t->paths);
  t->paths = NULL;
}

/* Registers a copy of path for removal (with its contents) when this process exits: for files
 * or folders that a test or the programs it runs create outside a registered folder. Returns
 * the registered copy. Fails the test only when memory runs out. */
static inline const char *ps_test_tmp_track(const char *path)
{
  struct ps_test_tmp *t = ps_test_tmp_state();
  if (t->owner != getpid()) { /* first use in this process (a fresh worker or its child) */
    for (size_t i = 0; i < t->n; i++) /* a parent's list: its paths are not ours to remove */
      free(t->paths[i]);
    free(t->paths);
    t->paths = NULL;
    t->n = 0;
    t->owner = getpid();
    atexit(ps_test_tmp_cleanup);
  }
  char *copy = strdup(path);
  char **grown = realloc(t->paths, (t->n + 1) * sizeof *grown);
  cr_assert(copy && grown, "test-tmp.h: out of memory registering %s", path);
  t->paths = grown;
  t->paths[t->n++] = copy;
  return copy;
}

/* mkdtemp(tmpl) for a template such as "/tmp/ps-test-<tag>-XXXXXX", registered for removal.
 * Returns tmpl; fails the test when the folder cannot be created. */
static inline char *ps_test_mkdtemp(char *tmpl)
{
  cr_assert_not_null(mkdtemp(tmpl), "cannot create a temporary folder %s", tmpl);
  ps_test_tmp_track(tmpl);
  return tmpl;
}

/* mkstemp(tmpl), registered for removal. Returns the open descriptor; fails the test when the
 * file cannot be created. */
static inline int ps_test_mkstemp(char *tmpl)
{
  int fd = mkstemp(tmpl);
  cr_assert_neq(fd, -1, "cannot create a temporary file %s", tmpl);
  ps_test_tmp_track(tmpl);
  return fd;
}

/* A new folder /tmp/ps-test-<tag>-XXXXXX, registered for removal. Returns its path, valid until
 * the process exits; fails the test when it cannot be created. */
static inline const char *ps_test_tmpdir(const char *tag)
{
  char d[256];
  snprintf(d, sizeof d, "/tmp/ps-test-%s-XXXXXX", tag);
  cr_assert_not_null(mkdtemp(d), "cannot create a temporary folder %s", d);
  return ps_test_tmp_track(d);
}

/* A test binary run by hand (not through ctest, which sets it for every test) does not write
 * the developer's symbol cache either: PERFSWEEP_SYMCACHE=off unless the caller set it. */
__attribute__((constructor)) static void ps_test_tmp_env(void)
{
  setenv("PERFSWEEP_SYMCACHE", "off", 0);
}

#endif
