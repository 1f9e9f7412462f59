/* test-cpu-waits.c - the waits SA_RESTART does not restart (workloads/cpu-truth/cpu-waits.c:
 * sleeps, poll/ppoll/select/pselect, the epoll waits, sigtimedwait/sigwaitinfo, pause,
 * sigsuspend) behave under the CPU profiler as without it: whole timeouts, the target's own
 * signals still interrupting them, its handler read back unchanged; in wall mode the time blocked
 * in each shows. Assertions compare outputs and count samples, never seconds.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu-analysis.h"
#include "probe-env.h"
#include "util.h"
#include "test-tmp.h"

/* Runs cpu-waits-nofp (30 ms waits) under the probe in mode (PS_CPU_OFF: unprofiled) with a
 * 60 s watchdog; returns its stdout, the trace folder in dir. */
static char *run_waits(enum ps_cpu_mode mode, char dir[64])
{
  strcpy(dir, "/tmp/ps-test-cpuwait-XXXXXX");
  ps_test_mkdtemp(dir);
  char **env = NULL;
  if (mode != PS_CPU_OFF) {
    struct ps_probe_opts o = {.cpu = mode, .cpu_freq = 999, .trace_dir = dir};
    const char *missing = NULL;
    setenv("PERFSWEEP_LIBDIR", PERFSWEEP_LIB_DIR, 1);
    env = ps_probe_env(&o, NULL, &missing);
    cr_assert_not_null(env, "probe library %s not found in %s", missing, PERFSWEEP_LIB_DIR);
  }
  char *prog = ps_xasprintf("%s/cpu-waits-nofp", PERFSWEEP_BIN_DIR);
  char *argv[] = {prog, "30", NULL};
  char *outpath = ps_xasprintf("%s/stdout", dir);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    if (env)
      execve(prog, argv, env);
    else
      execv(prog, argv);
    _exit(127);
  }
  int status = 0;
  for (int waited = 0;; waited += 5) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      break;
    if (waited > 60000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("cpu-waits hung (mode %d): a wait was never resumed or never interrupted",
                     (int)mode);
    }
    usleep(5000);
  }
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cpu-waits failed: status %d", status);
  char *out;
  size_t len;
  cr_assert_eq(ps_read_file(outpath, &out, &len), 0);
  free(outpath);
  free(prog);
  if (env)
    ps_env_free(env);
  return out;
}

static json_t *analyze_dir(const char *dir)
{
  DIR *d = opendir(dir);
  cr_assert_not_null(d);
  char *paths[16];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 16)
    if (!strncmp(e->d_name, "cpu.", 4) && strstr(e->d_name, ".pst"))
      paths[n++] = ps_xasprintf("%s/%s", dir, e->d_name);
  closedir(d);
  cr_assert_gt(n, 0, "no cpu.<pid>.pst in %s", dir);
  struct cpu_analysis_opts o = {0};
  json_t *s = NULL;
  cr_assert_eq(cpu_analyze(paths, n, &o, &s), 0, "cpu_analyze failed on %s", dir);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  return s;
}

static void remove_dir(const char *dir) { ps_test_rm_tree(dir); }

TestSuite(cpu_waits, .timeout = 180);

Test(cpu_waits, unprofiled_baseline_is_whole)
{
  char dir[64];
  char *out = run_waits(PS_CPU_OFF, dir);
  cr_assert_null(strstr(out, "whole: no"), "a wait ended early without the profiler:\n%s", out);
  cr_assert_null(strstr(out, "missed"), "a target signal did not interrupt:\n%s", out);
  cr_assert_not_null(strstr(out, "handler readback: ok"), "%s", out);
  cr_assert_not_null(strstr(out, "done"), "%s", out);
  free(out);
  remove_dir(dir);
}

Test(cpu_waits, wall_mode_behaves_as_unprofiled_and_shows_the_waits)
{
  char d0[64], d1[64];
  char *base = run_waits(PS_CPU_OFF, d0);
  char *prof = run_waits(PS_CPU_WALL, d1);
  cr_assert_str_eq(prof, base, "wall-mode output differs from the unprofiled run:\n--- "
                   "unprofiled\n%s--- wall 999 Hz\n%s", base, prof);
  json_t *s = analyze_dir(d1);
  const json_t *fns = json_object_get(s, "functions");
  static const char *const blocked[] = {
      "wait_nanosleep", "wait_clock_nanosleep", "wait_usleep", "wait_poll", "wait_ppoll",
      "wait_select", "wait_pselect", "wait_epoll_wait", "wait_epoll_pwait", "wait_epoll_pwait2",
      "wait_sigtimedwait", "wait_sigwaitinfo"};
  for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
    const json_t *f = json_object_get(fns, blocked[i]);
    double share = f ? json_real_value(json_object_get(f, "total_share")) : 0.0;
    cr_expect_gt(share, 0.0, "%s blocked 30 ms but has no wall-mode samples", blocked[i]);
  }
  json_decref(s);
  free(base);
  free(prof);
  remove_dir(d0);
  remove_dir(d1);
}

Test(cpu_waits, cpu_clock_mode_behaves_as_unprofiled)
{
  char d0[64], d1[64];
  char *base = run_waits(PS_CPU_OFF, d0);
  char *prof = run_waits(PS_CPU_CLOCK, d1);
  cr_assert_str_eq(prof, base, "cpu-clock output differs:\n%s---\n%s", base, prof);
  free(base);
  free(prof);
  remove_dir(d0);
  remove_dir(d1);
}
