/* launch.h - runs one command without a shell and measures it: wall time, rusage from wait4,
 * and a timeline of RSS and CPU% polled from /proc while it runs; timeout (terminate, then
 * kill) and interruption by the caller's stop flag.
 *
 * Linux only (pidfd_open, /proc). Never prints: errors come back in the result.
 *
 * The wait for the child: by default a pidfd, opened when the child is still running at the
 * first check (pidfd_open, ppoll, close: five system calls for a short command). A caller that
 * launches many commands from one thread (a sweep) calls ps_launch_wait_by_signal first: SIGCHLD
 * is then blocked and ps_launch sleeps in sigtimedwait until it arrives (two system calls per
 * short command: the wait and the reaping wait4).
 */
#ifndef PERFSWEEP_LAUNCH_H
#define PERFSWEEP_LAUNCH_H

#include <signal.h>
#include <stddef.h>

struct ps_launch_opts {
  double timeout;            /* seconds; 0 = none */
  double poll_interval;      /* seconds between /proc samples; 0 = default 0.01 */
  double kill_grace;         /* seconds between SIGTERM and SIGKILL; 0 = default 1 */
  const char *stdout_path;   /* where the child's stdout goes; NULL = /dev/null */
  const char *stderr_path;   /* where the child's stderr goes; NULL = /dev/null */
  int stderr_fd;             /* > 0: an open descriptor for the child's stderr, used instead of
                              * opening stderr_path (the caller keeps and closes it; a sweep
                              * opens it once rather than once per run) */
  int keep_timeline;         /* keep every sample (else only the derived figures) */
  volatile sig_atomic_t *stop; /* when it becomes non-zero the child is terminated */
};

struct ps_timeline {
  size_t n, cap;
  double *t;       /* seconds since start */
  long *rss_kb;
  double *cpu_pct; /* 100 = one core busy */
};

struct ps_launch_result {
  int started;          /* 0: the command could not be executed (see exec_errno) */
  int exec_errno;
  double wall, user, sys; /* seconds: wall whole nanoseconds, user and sys whole microseconds
                           * (ns / 1e9, us / 1e6 correctly rounded) */
  double cpu;             /* user + sys, from the sum of the microseconds */
  long max_rss_kb;       /* peak RSS: wait4's ru_maxrss, or the sampled VmHWM (see below) */
  int max_rss_exact;     /* 0: ru_maxrss was hidden by the launcher's own RSS; max_rss_kb is then
                          * the highest VmHWM sampled from /proc (a lower bound), or, for a run
                          * too short to be sampled, ru_maxrss (an upper bound) */
  long minor_faults, major_faults, voluntary_cs, involuntary_cs;
  int exit_code;        /* -1 when killed by a signal */
  int signal;           /* 0 when it exited */
  int timed_out, interrupted;
  /* from the /proc timeline (NAN/0 when no sample was taken) */
  double avg_rss_kb, peak_rss_kb, growth_kb_per_s, avg_cpu_pct, peak_cpu_pct, cores_used;
  size_t samples;
  struct ps_timeline timeline; /* filled when keep_timeline */
};

/* Runs argv[0] (searched in PATH when it has no '/') with envp (NULL = environ), stdin from
 * /dev/null, in its own process group. Blocks until it ends, times out or *stop is set.
 * Returns 0 when the command ran (whatever its exit status: see the result), -errno when it
 * could not be started (ENOENT: no such command; EACCES: not executable), with
 * result->exec_errno set. Release the result with ps_launch_result_release. */
int ps_launch(char *const *argv, char *const *envp, const struct ps_launch_opts *opts,
              struct ps_launch_result *result);
void ps_launch_result_release(struct ps_launch_result *result);

/* Blocks SIGCHLD in the calling thread (and so in every thread it creates after) and makes its
 * ps_launch calls wait with sigtimedwait. Call it before the process has other threads: a thread
 * that does not block SIGCHLD could take the signal, and ps_launch would then notice the end of
 * its child only at the next poll interval. Children started by ps_launch get an empty signal
 * mask. *old receives the mask to restore (pthread_sigmask(SIG_SETMASK, old, NULL)) together with
 * ps_launch_wait_by_pidfd() when the launches are over. Returns 0 or -errno. */
int ps_launch_wait_by_signal(sigset_t *old);
/* Undoes ps_launch_wait_by_signal: restores *old and waits by pidfd again. */
void ps_launch_wait_by_pidfd(const sigset_t *old);

/* "exit 3", "killed by SIGSEGV", "timed out after 2 s" ... for a result, malloc'd. */
char *ps_launch_describe(const struct ps_launch_result *r, double timeout);

#endif
