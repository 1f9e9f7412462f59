/* test-util.c - the harness helpers: atomic writes, mkdir -p, probe environment. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe-env.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-util-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(util, .init = setup);

Test(util, atomic_write_replaces_whole_file)
{
  char *path = ps_xasprintf("%s/f.json", dir);
  cr_assert_eq(ps_write_file_atomic(path, "first", 5), 0);
  cr_assert_eq(ps_write_file_atomic(path, "second!", 7), 0);
  char *data;
  size_t len;
  cr_assert_eq(ps_read_file(path, &data, &len), 0);
  cr_assert_eq(len, 7);
  cr_assert_str_eq(data, "second!");
  free(data);
  free(path);
}

Test(util, atomic_write_to_missing_dir_fails_cleanly)
{
  cr_assert_lt(ps_write_file_atomic("/nonexistent-dir/x", "a", 1), 0);
}

Test(util, mkdir_p_creates_nested)
{
  char *path = ps_xasprintf("%s/a/b/c", dir);
  cr_assert_eq(ps_mkdir_p(path, 0755), 0);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert(S_ISDIR(st.st_mode));
  cr_assert_eq(ps_mkdir_p(path, 0755), 0, "mkdir -p of an existing folder succeeds");
  free(path);
  path = ps_xasprintf("%s/a/d//e/", dir); /* a trailing slash, a doubled one */
  cr_assert_eq(ps_mkdir_p(path, 0755), 0);
  free(path);
  path = ps_xasprintf("%s/a/d/e", dir);
  cr_assert_eq(stat(path, &st), 0);
  cr_assert(S_ISDIR(st.st_mode));
  free(path);
  char *file = ps_xasprintf("%s/a/file", dir);
  cr_assert_eq(ps_write_file_atomic(file, "x", 1), 0);
  cr_assert_eq(ps_mkdir_p(file, 0755), -ENOTDIR, "a file where the folder should be");
  path = ps_xasprintf("%s/sub/x", file);
  cr_assert_eq(ps_mkdir_p(path, 0755), -ENOTDIR, "a file in the way of the parents");
  free(path);
  free(file);
  cr_assert_eq(ps_mkdir_p("/proc/perfsweep-no/x", 0755), -ENOENT, "cannot be created: the error");
}

Test(util, probe_env_sets_variables_and_keeps_user_preload)
{
  setenv("PERFSWEEP_LIBDIR", dir, 1);
  char *lib = ps_xasprintf("%s/libperfsweep-alloc.so", dir);
  cr_assert_eq(ps_write_file_atomic(lib, "x", 1), 0);
  char *base[] = {"PATH=/bin", "LD_PRELOAD=/user.so", "PERFSWEEP_ALLOC=stale", NULL};
  struct ps_probe_opts o = {.alloc = PS_ALLOC_SAMPLE, .trace_dir = "/t", .depth = 32};
  const char *missing = NULL;
  char **env = ps_probe_env(&o, base, &missing);
  cr_assert_not_null(env);
  int saw_preload = 0, saw_mode = 0, saw_stale = 0;
  for (char **p = env; *p; p++) {
    if (!strncmp(*p, "LD_PRELOAD=", 11)) {
      saw_preload = 1;
      cr_assert(strstr(*p, "libperfsweep-alloc.so:/user.so"), "probe first, then the user's: %s", *p);
    }
    saw_mode |= !strcmp(*p, "PERFSWEEP_ALLOC=sample");
    saw_stale |= !strcmp(*p, "PERFSWEEP_ALLOC=stale");
  }
  cr_assert(saw_preload && saw_mode && !saw_stale);
  ps_env_free(env);

  o.cpu = PS_CPU_CLOCK;
  cr_assert_null(ps_probe_env(&o, base, &missing), "no cpu probe in the folder");
  cr_assert_str_eq(missing, "cpu");
  free(lib);
}

Test(util, mode_names_round_trip)
{
  cr_assert_eq(ps_alloc_mode_parse("sample"), PS_ALLOC_SAMPLE);
  cr_assert_eq(ps_cpu_mode_parse("wall"), PS_CPU_WALL);
  cr_assert_eq(ps_cpu_mode_parse("cycles"), -1);
  cr_assert_str_eq(ps_cpu_mode_name(PS_CPU_TASK_CLOCK), "task-clock");
}
