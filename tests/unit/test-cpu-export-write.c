/* test-cpu-export-write.c - ps_export_write, the unsynced atomic writer of the CPU exports and
 * flame graphs: the file holds exactly the new bytes, replaces an older one, leaves no temporary
 * file behind, and a folder that does not exist is an error that creates nothing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export-write.h"
#include "util.h"
#include "test-tmp.h"

static int count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

Test(export_write, replaces_whole_file_without_leftovers)
{
  char dir[] = "/tmp/ps-test-export-write-XXXXXX";
  ps_test_mkdtemp(dir);
  char *path = ps_xasprintf("%s/cpu.folded", dir);
  cr_assert_eq(ps_export_write(path, "first version, longer\n", 22), 0);
  cr_assert_eq(ps_export_write(path, "second\n", 7), 0);
  char *data;
  size_t len;
  cr_assert_eq(ps_read_file(path, &data, &len), 0);
  cr_assert_eq(len, 7, "the old content must be gone, got %zu bytes", len);
  cr_assert_str_eq(data, "second\n");
  cr_assert_eq(count_entries(dir), 1, "no temporary file may remain");
  free(data);
  unlink(path);
  rmdir(dir);
  free(path);
}

Test(export_write, missing_folder_is_an_error)
{
  int r = ps_export_write("/tmp/test-export-write-does-not-exist/x/cpu.svg", "x", 1);
  cr_assert_eq(r, -ENOENT, "expected -ENOENT, got %d", r);
}
