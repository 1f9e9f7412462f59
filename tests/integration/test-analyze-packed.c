/* test-analyze-packed.c - `perfsweep analyze` of a packed .pst.zst (unpacked in a thread while the
 * analysis merges its records) gives exactly the JSON of the raw .pst of the same run, for a
 * 2-thread trace of several packed blocks and for a folder of them.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-shell.h"
#include "test-tmp.h"

#define BIN PERFSWEEP_BIN_DIR

static char tmpdir[256];

static void make_tmp(void)
{
  strcpy(tmpdir, "/tmp/ps-test-analyze-packed-XXXXXX");
  ps_test_mkdtemp(tmpdir); /* removed at exit, also after a skip */
}

static void rm_tmp(void) { ps_test_rm_tree(tmpdir); }

TestSuite(analyze_packed, .init = make_tmp, .fini = rm_tmp, .timeout = 300);

/* Replaces every occurrence of from by to in s (to no longer than from); returns s. */
static char *replace_all(char *s, const char *from, const char *to)
{
  size_t fl = strlen(from), tl = strlen(to);
  for (char *p = strstr(s, from); p; p = strstr(p + tl, from)) {
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
  }
  return s;
}

/* The alloc trace name (alloc.<pid>) in dir, without extension, into name. */
static void trace_name(const char *dir, char *name, size_t cap)
{
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot read %s", dir);
  struct dirent *de;
  name[0] = 0;
  while ((de = readdir(d)))
    if (!strncmp(de->d_name, "alloc.", 6) && strstr(de->d_name, ".pst") &&
        !strstr(de->d_name, ".zst"))
      snprintf(name, cap, "%.*s", (int)(strstr(de->d_name, ".pst") - de->d_name), de->d_name);
  closedir(d);
  cr_assert(name[0], "a raw alloc trace in %s", dir);
}

Test(analyze_packed, json_of_the_pst_zst_equals_json_of_the_raw_pst)
{
  char cmd[2048], name[128];
  int rc;
  /* 2 threads x 80 k allocations: ~1.4 MB raw, two packed blocks and more */
  snprintf(cmd, sizeof cmd,
           "%s/perfsweep profile --alloc --keep-raw -o %s/p -- %s/alloc-truth bench 80000 "
           ">/dev/null 2>&1",
           BIN, tmpdir, BIN);
  free(ps_test_sh(cmd, &rc));
  cr_assert_eq(rc, 0, "profile --keep-raw ran");
  char dir[300];
  snprintf(dir, sizeof dir, "%s/p", tmpdir);
  trace_name(dir, name, sizeof name);
  snprintf(cmd, sizeof cmd, "%s/perfsweep analyze --json %s/%s.pst 2>&1", BIN, dir, name);
  char *raw = ps_test_sh(cmd, &rc);
  cr_assert_eq(rc, 0, "analyze of the raw trace: %s", raw);
  snprintf(cmd, sizeof cmd, "%s/perfsweep analyze --json %s/%s.pst.zst 2>&1", BIN, dir, name);
  char *zst = ps_test_sh(cmd, &rc);
  cr_assert_eq(rc, 0, "analyze of the packed trace: %s", zst);
  char from[400], to[400];
  snprintf(from, sizeof from, "%s.pst.zst", name);
  snprintf(to, sizeof to, "%s.pst", name);
  replace_all(zst, from, to); /* the trace's own path is the one thing that differs */
  cr_expect(strstr(raw, "\"calls\"") != NULL, "a real summary: %.300s", raw);
  cr_expect_str_eq(zst, raw, "the same JSON from the .pst.zst as from the .pst");
  /* a folder holding only the packed trace reads the same way */
  snprintf(cmd, sizeof cmd, "rm %s/%s.pst && %s/perfsweep analyze --json %s 2>&1", dir, name,
           BIN, dir);
  char *folder = ps_test_sh(cmd, &rc);
  cr_assert_eq(rc, 0, "analyze of the folder: %s", folder);
  replace_all(folder, from, to);
  cr_expect(strstr(folder, "\"calls\"") != NULL, "a real summary from the folder");
  /* bytes, calls and events come before "files" (which a folder argument fills in) */
  char *a = strstr(raw, "\"files\""), *b = strstr(folder, "\"files\"");
  cr_assert(a && b, "both summaries list their files");
  cr_expect(a - raw == b - folder && !strncmp(raw, folder, (size_t)(a - raw)),
            "the same bytes, calls and events from the folder");
  free(raw);
  free(zst);
  free(folder);
}
