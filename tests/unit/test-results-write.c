/* test-results-write.c - ps_results_write_nosync (every run file of a sweep): a new file and a
 * replaced one both end with a newline, carry the umask's mode, and leave nothing else in the
 * folder; a missing folder is an error naming ENOENT, with nothing created.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
#include "test-tmp.h"

static size_t entries(const char *dir)
{
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "open %s", dir);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "read %s", path);
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

Test(results, nosync_write_new_and_replaced_files)
{
  char dir[] = "/tmp/ps-test-results-write-XXXXXX";
  ps_test_mkdtemp(dir);
  char path[600];
  snprintf(path, sizeof path, "%s/0-1.json", dir);
  json_t *a = json_pack("{sisb}", "cell", 0, "warmup", 1);
  cr_assert_eq(ps_results_write_nosync(path, a, 1), 0, "new file %s", path);
  cr_expect_str_eq(slurp(path), "{\"cell\":0,\"warmup\":true}\n", "compact JSON and a newline");
  mode_t um = umask(0);
  umask(um);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_expect_eq(st.st_mode & 0777, 0666 & ~um, "mode %o, want %o", st.st_mode & 0777, 0666 & ~um);
  json_t *b = json_pack("{si}", "cell", 7);
  cr_assert_eq(ps_results_write_nosync(path, b, 1), 0, "replacing %s", path);
  cr_expect_str_eq(slurp(path), "{\"cell\":7}\n", "the new content replaced the old");
  cr_expect_eq(entries(dir), 1, "no temporary file is left in %s", dir);
  json_decref(a);
  json_decref(b);
  unlink(path);
  cr_expect_eq(rmdir(dir), 0, "the folder is empty again");
}

Test(results, nosync_write_into_a_missing_folder_fails)
{
  json_t *a = json_pack("{si}", "cell", 0);
  int rc = ps_results_write_nosync("/tmp/ps-no-such-folder-for-results/x.json", a, 1);
  cr_expect_eq(rc, -ENOENT, "got %d (%s)", rc, strerror(-rc));
  json_decref(a);
}

Test(results, nosync_write_relative_path)
{
  char dir[] = "/tmp/ps-test-results-rel-XXXXXX";
  ps_test_mkdtemp(dir);
  char old[4096];
  cr_assert_not_null(getcwd(old, sizeof old));
  cr_assert_eq(chdir(dir), 0);
  json_t *a = json_pack("{si}", "cell", 3);
  int rc = ps_results_write_nosync("r.json", a, 0);
  cr_expect_eq(rc, 0, "a path without a folder is written in the current one");
  cr_expect_eq(entries("."), 1, "only r.json");
  unlink("r.json");
  json_decref(a);
  cr_assert_eq(chdir(old), 0);
  rmdir(dir);
}
