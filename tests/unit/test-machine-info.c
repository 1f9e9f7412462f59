/* test-machine-info.c - harness/machine.c: the machine metadata of a results file, and its git
 * fields in a folder outside any git work tree (null, git not asked), in a fresh repository (its
 * commit and branch, clean, then dirty) and in a subfolder of one (found through the parents). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"
#include "util.h"

static char dir[] = "/tmp/perfsweep-test-machine-XXXXXX";

static void make_dir(void) { cr_assert_not_null(mkdtemp(dir)); }
static void remove_dir(void)
{
  char *cmd = ps_xasprintf("rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
}

static void sh(const char *fmt, const char *arg)
{
  char *cmd = ps_xasprintf(fmt, arg);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  free(cmd);
}

Test(machine, basic_fields, .init = make_dir, .fini = remove_dir)
{
  cr_assert_eq(chdir(dir), 0);
  json_t *m = ps_machine_info();
  cr_assert(json_integer_value(json_object_get(m, "cores")) >= 1);
  cr_assert(json_integer_value(json_object_get(m, "memory_bytes")) > 0);
  cr_assert(json_is_string(json_object_get(m, "kernel")));
  cr_assert(json_is_string(json_object_get(m, "arch")));
  cr_assert(json_is_string(json_object_get(m, "perfsweep_version")));
  /* /tmp/perfsweep-test-machine-*: no .git in it or above it */
  cr_assert(json_is_null(json_object_get(m, "git_commit")), "outside a work tree: no commit");
  cr_assert(json_is_null(json_object_get(m, "git_dirty")));
  json_decref(m);
}

Test(machine, git_commit_branch_and_dirty, .init = make_dir, .fini = remove_dir)
{
  sh("cd '%s' && git init -q -b trunk . && git config user.email t@e && git config user.name t "
     "&& echo a > f && git add f && git commit -q -m one && mkdir -p sub/deeper", dir);
  cr_assert_eq(chdir(dir), 0);
  json_t *m = ps_machine_info();
  const char *commit = json_string_value(json_object_get(m, "git_commit"));
  cr_assert(commit && strlen(commit) == 40 && strspn(commit, "0123456789abcdef") == 40,
            "the commit: %s", commit ? commit : "(null)");
  cr_assert_str_eq(json_string_value(json_object_get(m, "git_branch")), "trunk");
  cr_assert(json_is_false(json_object_get(m, "git_dirty")));
  char *head = ps_xstrdup(commit);
  json_decref(m);

  sh("cd '%s' && echo b >> f", dir);
  char *sub = ps_xasprintf("%s/sub/deeper", dir);
  cr_assert_eq(chdir(sub), 0); /* .git two folders up */
  m = ps_machine_info();
  cr_assert_str_eq(json_string_value(json_object_get(m, "git_commit")), head);
  cr_assert(json_is_true(json_object_get(m, "git_dirty")), "a tracked file changed");
  json_decref(m);
  free(sub);
  free(head);
}
