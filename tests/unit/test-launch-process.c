/* test-launch-process.c - harness/launch.c on real tiny commands: exit codes, a missing
 * command, a crash, a timeout (terminate then kill), rusage and the /proc timeline. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>

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
