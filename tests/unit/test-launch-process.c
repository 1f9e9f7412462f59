/* test-launch-process.c - harness/launch.c on real tiny commands: exit codes, a missing
 * command, a crash, a timeout (terminate then kill), rusage and the /proc timeline; the same
 * when waiting by SIGCHLD, with a stale SIGCHLD pending, a stop flag and the child's mask. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

static struct ps_launch_opts opts = {.timeout = 20, .poll_interval = 0.005};

Test(launch, exit_codes_and_rusage)
{
  char *t[] = {"true", NULL}, *f[] = {"sh", "-c", "exit 7", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(t, NULL, &opts, &r), 0);
  cr_assert(r.started && r.exit_code == 0 && r.signal == 0, "true: exit %d", r.exit_code);
  cr_assert_gt(r.wall, 0, "wall measured");
  cr_assert_gt(r.max_rss_kb, 0, "rusage max RSS");
  ps_launch_result_release(&r);
  cr_assert_eq(ps_launch(f, NULL, &opts, &r), 0);
  cr_assert_eq(r.exit_code, 7, "sh -c 'exit 7' gives 7, got %d", r.exit_code);
  char *d = ps_launch_describe(&r, 0);
  cr_assert_str_eq(d, "exit status 7");
  free(d);
  ps_launch_result_release(&r);
}

Test(launch, missing_command_is_enoent)
{
  char *a[] = {"/nonexistent/perfsweep-no-such-command", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &opts, &r), -ENOENT);
  cr_assert(!r.started);
}

Test(launch, crash_reports_the_signal)
{
  char *a[] = {"sh", "-c", "kill -SEGV $$", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &opts, &r), 0);
  cr_assert_eq(r.signal, SIGSEGV, "signal %d", r.signal);
  cr_assert_eq(r.exit_code, -1);
  ps_launch_result_release(&r);
}

Test(launch, timeout_terminates_then_kills)
{
  /* the child ignores SIGTERM, so only SIGKILL after the grace period ends it */
  char *a[] = {"sh", "-c", "trap '' TERM; sleep 30", NULL};
  struct ps_launch_opts o = {.timeout = 0.2, .kill_grace = 0.2, .poll_interval = 0.01};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &o, &r), 0);
  cr_assert(r.timed_out, "timed out");
  cr_assert_eq(r.signal, SIGKILL, "killed after ignoring TERM, got signal %d", r.signal);
  cr_assert_lt(r.wall, 10, "did not wait for sleep 30 (wall %g)", r.wall);
  ps_launch_result_release(&r);
}

Test(launch, timeline_samples_rss_and_cpu)
{
  char *a[] = {"sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done", NULL};
  struct ps_launch_opts o = {.timeout = 30, .poll_interval = 0.005, .keep_timeline = 1};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &o, &r), 0);
  cr_assert_eq(r.exit_code, 0);
  cr_assert_eq(r.timeline.n, r.samples, "every sample kept");
  cr_assert_geq(r.samples, 1, "at least one /proc sample");
  cr_assert_gt(r.peak_rss_kb, 0, "peak RSS known");
  cr_assert(isfinite(r.cores_used), "cores used from rusage");
  ps_launch_result_release(&r);
}

/* ---- waiting by SIGCHLD (ps_launch_wait_by_signal, as a sweep waits) ---- */

static sigset_t saved_mask;
static void by_signal(void) { cr_assert_eq(ps_launch_wait_by_signal(&saved_mask), 0); }
static void by_pidfd(void) { ps_launch_wait_by_pidfd(&saved_mask); }

Test(launch_sigchld, exit_status_crash_and_timeout, .init = by_signal, .fini = by_pidfd)
{
  char *f[] = {"sh", "-c", "exit 7", NULL}, *c[] = {"sh", "-c", "kill -SEGV $$", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(f, NULL, &opts, &r), 0);
  cr_assert_eq(r.exit_code, 7, "exit status 7, got %d", r.exit_code);
  cr_assert_gt(r.max_rss_kb, 0, "rusage max RSS");
  ps_launch_result_release(&r);
  cr_assert_eq(ps_launch(c, NULL, &opts, &r), 0);
  cr_assert_eq(r.signal, SIGSEGV, "signal %d", r.signal);
  ps_launch_result_release(&r);
  char *a[] = {"sh", "-c", "trap '' TERM; sleep 30", NULL};
  struct ps_launch_opts o = {.timeout = 0.2, .kill_grace = 0.2, .poll_interval = 0.01};
  cr_assert_eq(ps_launch(a, NULL, &o, &r), 0);
  cr_assert(r.timed_out && r.signal == SIGKILL, "timed out, then killed (signal %d)", r.signal);
  cr_assert_lt(r.wall, 10, "did not wait for sleep 30 (wall %g)", r.wall);
  ps_launch_result_release(&r);
}

/* A SIGCHLD left pending by another child (reaped elsewhere) wakes the wait early: the launch
 * must still wait for its own child to end. */
Test(launch_sigchld, stale_sigchld_does_not_end_the_wait, .init = by_signal, .fini = by_pidfd)
{
  pid_t other = fork();
  if (other == 0)
    _exit(0);
  cr_assert_eq(waitpid(other, NULL, 0), other);
  sigset_t pending;
  sigpending(&pending);
  cr_assert(sigismember(&pending, SIGCHLD), "the other child's SIGCHLD is pending");
  char *a[] = {"sleep", "0.05", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &opts, &r), 0);
  cr_assert_eq(r.exit_code, 0);
  cr_assert_geq(r.wall, 0.05, "measured to the end of sleep 0.05, got %g s", r.wall);
  ps_launch_result_release(&r);
}

/* The stop flag ends the run (checked before every wait), and the child does not inherit the
 * blocked SIGCHLD: its signal mask is empty. */
Test(launch_sigchld, stop_flag_and_child_mask, .init = by_signal, .fini = by_pidfd)
{
  volatile sig_atomic_t stop = 1;
  struct ps_launch_opts o = {.timeout = 30, .poll_interval = 0.01, .kill_grace = 0.2, .stop = &stop};
  char *a[] = {"sleep", "30", NULL};
  struct ps_launch_result r;
  cr_assert_eq(ps_launch(a, NULL, &o, &r), 0);
  cr_assert(r.interrupted, "interrupted by the stop flag");
  cr_assert_lt(r.wall, 10, "did not wait for sleep 30 (wall %g)", r.wall);
  ps_launch_result_release(&r);
  char path[] = "/tmp/perfsweep-test-mask-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  char *g[] = {"grep", "^SigBlk:", "/proc/self/status", NULL};
  struct ps_launch_opts og = {.timeout = 30, .stdout_path = path};
  cr_assert_eq(ps_launch(g, NULL, &og, &r), 0);
  ps_launch_result_release(&r);
  FILE *fp = fopen(path, "r");
  char line[128] = "";
  cr_assert(fp && fgets(line, sizeof line, fp), "grep wrote the mask");
  fclose(fp);
  unlink(path);
  cr_assert_str_eq(line, "SigBlk:\t0000000000000000\n", "the child's mask: %s", line);
}
