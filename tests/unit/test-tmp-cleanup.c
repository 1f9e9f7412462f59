/* test-tmp-cleanup.c - the tests' own temporary-file helper (tests/test-tmp.h): what a process
 * registers is removed with its contents when it exits, symbolic links inside are not followed,
 * and a forked child never removes its parent's paths. Each case runs the registering process as
 * a forked child and looks at the file system after it exited.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-tmp.h"

/* Runs body in a forked child that exits normally; returns the path it wrote to the pipe. */
static char *in_child(void (*body)(int fd))
{
  int p[2];
  cr_assert_eq(pipe(p), 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    close(p[0]);
    body(p[1]);
    exit(0);
  }
  close(p[1]);
  static char path[512];
  ssize_t n = read(p[0], path, sizeof path - 1);
  close(p[0]);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed");
  cr_assert_gt(n, 0, "the child reported no path");
  path[n] = '\0';
  return path;
}

static void say(int fd, const char *path) { (void)!write(fd, path, strlen(path)); }

static char outside[512]; /* a folder the child links to but does not own */

static void make_tree(int fd)
{
  const char *d = ps_test_tmpdir("tmpcheck");
  char a[600], ab[600], file[700], link[600];
  snprintf(a, sizeof a, "%s/a", d);
  snprintf(ab, sizeof ab, "%s/a/b", d);
  snprintf(file, sizeof file, "%s/a/b/f", d);
  snprintf(link, sizeof link, "%s/link", d);
  mkdir(a, 0755);
  mkdir(ab, 0755);
  FILE *f = fopen(file, "w");
  if (f)
    fclose(f);
  (void)!symlink(outside, link);
  say(fd, d);
}

Test(tmp_cleanup, folder_tree_removed_at_exit_links_not_followed)
{
  snprintf(outside, sizeof outside, "%s", ps_test_tmpdir("tmpcheck-outside"));
  char keep[600];
  snprintf(keep, sizeof keep, "%s/keep", outside);
  FILE *f = fopen(keep, "w");
  cr_assert_not_null(f);
  fclose(f);
  const char *d = in_child(make_tree);
  cr_expect_neq(access(d, F_OK), 0, "%s removed when the child exited", d);
  cr_expect_eq(access(keep, F_OK), 0, "%s behind a symbolic link kept", keep);
}

static void make_file(int fd)
{
  char path[] = "/tmp/ps-test-tmpcheck-XXXXXX";
  int tfd = ps_test_mkstemp(path);
  (void)!write(tfd, "x", 1);
  close(tfd);
  say(fd, path);
}

Test(tmp_cleanup, file_removed_at_exit)
{
  const char *p = in_child(make_file);
  cr_expect_neq(access(p, F_OK), 0, "%s removed when the child exited", p);
}

static void clean_in_child(int fd)
{
  ps_test_tmp_cleanup();
  say(fd, "done");
}

Test(tmp_cleanup, child_keeps_the_parents_paths)
{
  const char *d = ps_test_tmpdir("tmpcheck");
  in_child(clean_in_child);
  cr_expect_eq(access(d, F_OK), 0, "a child's exit and cleanup leave %s alone", d);
  ps_test_rm_tree(d);
  cr_expect_neq(access(d, F_OK), 0, "ps_test_rm_tree removes %s", d);
  ps_test_rm_tree(d); /* a missing path is fine */
}
