/* launch.c - fork/exec without a shell, wait via pidfd or SIGCHLD, /proc polling, wait4 rusage,
 * timeout.
 *
 * The child is put in its own process group so a timeout or an interruption can terminate the
 * whole group, and so a terminal's Ctrl-C reaches perfsweep, which then stops it cleanly.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

/* Whole microseconds as seconds, correctly rounded: the double that the 6-decimal text of us
 * reads back as (so the run record can write it exactly and briefly, see sweep-json.h). */
static double us_to_s(long long us) { return (double)us / 1e6; }

/* Reads /proc/<pid>/<file> into buf (NUL-terminated) through *fd, opened at the first read and
 * re-read from offset 0 afterwards (the kernel regenerates the text): a sample costs no path
 * lookup. Returns 0, or -1 when the process is gone. */
static int read_proc(pid_t pid, const char *file, int *fd, char *buf, size_t len)
{
  if (*fd < 0) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
      return -1;
  }
  ssize_t n = pread(*fd, buf, len - 1, 0);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

/* CPU time of all its threads (seconds) and rss (pages) of a live process from
 * /proc/<pid>/stat; -1 when it is gone. (schedstat and statm are cheaper to read, but
 * schedstat counts the main thread only.) */
static int proc_sample(pid_t pid, int *fd, long hz, double *cpu_s, long *rss_pages)
{
  char buf[1024];
  if (read_proc(pid, "stat", fd, buf, sizeof(buf)) < 0)
    return -1;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p)
    return -1;
  /* fields after ')': 3 state ... 14 utime 15 stime ... 24 rss, separated by single spaces
   * (read by hand: sscanf cost more than the read) */
  unsigned long long f[26] = {0};
  int field = 2;
  for (p++; *p && field <= 24; p++) {
    if (*p == ' ') {
      field++;
      continue;
    }
    if ((field == 14 || field == 15 || field == 24) && *p >= '0' && *p <= '9')
      f[field] = f[field] * 10 + (unsigned long long)(*p - '0');
  }
  if (field < 24)
    return -1;
  unsigned long long ut = f[14], st = f[15];
  long rss = (long)f[24];
  *cpu_s = (double)(ut + st) / (double)hz;
  *rss_pages = rss;
  return 0;
}

static void tl_push(struct ps_timeline *tl, double t, long rss, double cpu)
{
  if (tl->n == tl->cap) {
    tl->cap = tl->cap ? tl->cap * 2 : 256;
    tl->t = ps_xrealloc(tl->t, tl->cap * sizeof(double));
    tl->rss_kb = ps_xrealloc(tl->rss_kb, tl->cap * sizeof(long));
    tl->cpu_pct = ps_xrealloc(tl->cpu_pct, tl->cap * sizeof(double));
  }
  tl->t[tl->n] = t;
  tl->rss_kb[tl->n] = rss;
  tl->cpu_pct[tl->n] = cpu;
  tl->n++;
}

/* VmHWM (peak RSS of the process's current program) in kB; -1 when unreadable. */
static long proc_hwm(pid_t pid, int *fd)
{
  char buf[2048];
  if (read_proc(pid, "status", fd, buf, sizeof(buf)) < 0)
    return -1;
  char *h = strstr(buf, "VmHWM:");
  return h ? strtol(h + 6, NULL, 10) : -1;
}

/* VmHWM (read from the large status file) is only needed when wait4's ru_maxrss turns out to
 * be hidden by our own peak, and it only grows: it is read at the first sample, every
 * HWM_EVERY-th, and whenever the sampled RSS passes the last value read. */
#define HWM_EVERY 4

struct poller {
  pid_t pid;
  double start, last_t, last_cpu_s;
  long page_kb, hz;
  /* running sums for the derived figures (least squares slope of rss over t) */
  double n, sum_rss, sum_cpu, peak_rss, peak_cpu, st, stt, sr, str;
  long hwm;
  size_t ncpu;
  int stat_fd, status_fd; /* /proc/<pid>/stat and status, open from the first sample on */
};

static void poll_proc(struct poller *p, struct ps_launch_result *r, int keep)
{
  double cpu_s;
  long pages;
  if (proc_sample(p->pid, &p->stat_fd, p->hz, &cpu_s, &pages) < 0)
    return;
  double t = now() - p->start, rss = (double)(pages * p->page_kb);
  double cpu = NAN;
  if (p->last_t >= 0 && t > p->last_t) {
    cpu = 100.0 * (cpu_s - p->last_cpu_s) / (t - p->last_t);
    p->sum_cpu += cpu;
    p->ncpu++;
    if (cpu > p->peak_cpu)
      p->peak_cpu = cpu;
  }
  p->last_t = t;
  p->last_cpu_s = cpu_s;
  if ((size_t)p->n % HWM_EVERY == 0 || rss > (double)p->hwm) {
    long hwm = proc_hwm(p->pid, &p->status_fd);
    if (hwm > p->hwm)
      p->hwm = hwm;
  }
  p->n += 1;
  p->sum_rss += rss;
  if (rss > p->peak_rss)
    p->peak_rss = rss;
  p->st += t;
  p->stt += t * t;
  p->sr += rss;
  p->str += t * rss;
  if (keep)
    tl_push(&r->timeline, t, (long)rss, isnan(cpu) ? 0.0 : cpu);
}

static void finish_poller(const struct poller *p, struct ps_launch_result *r)
{
  r->samples = (size_t)p->n;
  r->avg_rss_kb = p->n > 0 ? p->sum_rss / p->n : NAN;
  r->peak_rss_kb = p->n > 0 ? p->peak_rss : NAN;
  double den = p->n * p->stt - p->st * p->st;
  r->growth_kb_per_s = (p->n >= 2 && den > 0) ? (p->n * p->str - p->st * p->sr) / den : NAN;
  r->avg_cpu_pct = p->ncpu ? p->sum_cpu / (double)p->ncpu : NAN;
  r->peak_cpu_pct = p->ncpu ? p->peak_cpu : NAN;
}

/* posix_spawn: glibc uses clone(CLONE_VM|CLONE_VFORK), cheaper than fork for a large parent,
 * and returns the exec error directly. The child gets its own process group, default signal
 * dispositions and an empty mask, stdin from /dev/null, and the already open out/err files
 * (opened by the caller before the clock starts: creating or truncating a file on a busy disk
 * must not count as the command's time). */
struct spawn_setup {
  int in, out, err, ready;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
};

/* The file actions and attributes for one (in, out, err) triple, built once and reused while
 * the triple stays the same (a sweep's runs): building them costs a getrlimit per dup2. */
static const struct spawn_setup *spawn_setup(int in, int out, int err)
{
  static struct spawn_setup s;
  if (s.ready && s.in == in && s.out == out && s.err == err)
    return &s;
  if (s.ready) {
    posix_spawn_file_actions_destroy(&s.fa);
    posix_spawnattr_destroy(&s.at);
  }
  s.in = in;
  s.out = out;
  s.err = err;
  posix_spawn_file_actions_init(&s.fa);
  posix_spawnattr_init(&s.at);
  posix_spawn_file_actions_adddup2(&s.fa, in, 0);
  posix_spawn_file_actions_adddup2(&s.fa, out, 1);
  posix_spawn_file_actions_adddup2(&s.fa, err, 2);
  sigset_t none, all;
  sigemptyset(&none);
  sigemptyset(&all);
  sigaddset(&all, SIGINT);
  sigaddset(&all, SIGTERM);
  sigaddset(&all, SIGPIPE);
  sigaddset(&all, SIGCHLD);
  posix_spawnattr_setsigmask(&s.at, &none);
  posix_spawnattr_setsigdefault(&s.at, &all);
  posix_spawnattr_setpgroup(&s.at, 0);
  posix_spawnattr_setflags(&s.at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);
  s.ready = 1;
  return &s;
}

static int spawn(pid_t *pid, char *const *argv, char *const *envp, int in, int out, int err)
{
  const struct spawn_setup *s = spawn_setup(in, out, err);
  return posix_spawnp(pid, argv[0], &s->fa, &s->at, argv, envp ? envp : environ);
}

/* /dev/null for reading (0) or writing (1), opened once per process and kept (close-on-exec):
 * a sweep launches thousands of runs. -1 when it cannot be opened. */
static int dev_null(int for_write)
{
  static int fds[2] = {-1, -1};
  if (fds[for_write] < 0)
    fds[for_write] = open("/dev/null", (for_write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
  return fds[for_write];
}

static int open_out(const char *path)
{
  return path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : dev_null(1);
}

/* Closes an fd from open_out or dev_null unless it is a kept /dev/null. */
static void close_io(int fd)
{
  if (fd >= 0 && fd != dev_null(0) && fd != dev_null(1))
    close(fd);
}

/* Set by ps_launch_wait_by_signal in the thread that blocked SIGCHLD: only its launches wait
 * by signal. */
static __thread int wait_by_signal;

int ps_launch_wait_by_signal(sigset_t *old)
{
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int e = pthread_sigmask(SIG_BLOCK, &chld, old);
  if (e)
    return -e;
  wait_by_signal = 1;
  return 0;
}

void ps_launch_wait_by_pidfd(const sigset_t *old)
{
  wait_by_signal = 0;
  pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Sleeps until a SIGCHLD (then 1), a handled signal (1: the caller checks its stop flag) or the
 * end of wait_s seconds (0). A SIGCHLD of another child, or one left from an earlier command,
 * only costs a pass of the caller's loop. */
static int sleep_for_sigchld(double wait_s)
{
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec ts = {(time_t)wait_s, (long)((wait_s - floor(wait_s)) * 1e9)};
  if (sigtimedwait(&chld, NULL, &ts) == SIGCHLD)
    return 1;
  return errno == EINTR;
}

static void stop_group(pid_t pid, int sig)
{
  kill(-pid, sig);
  kill(pid, sig);
}

int ps_launch(char *const *argv, char *const *envp, const struct ps_launch_opts *o,
              struct ps_launch_result *r)
{
  memset(r, 0, sizeof(*r));
  r->exit_code = -1;
  double interval = o->poll_interval > 0 ? o->poll_interval : 0.01;
  double grace = o->kill_grace > 0 ? o->kill_grace : 1.0;
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  long self_peak_kb = self.ru_maxrss;
  int in = dev_null(0), out = open_out(o->stdout_path);
  int err = o->stderr_fd > 0 ? o->stderr_fd : open_out(o->stderr_path);
  if (in < 0 || out < 0 || err < 0) {
    r->exec_errno = errno;
    close_io(out);
    if (err != o->stderr_fd)
      close_io(err);
    return -r->exec_errno;
  }
  long long start_ns = now_ns();
  double start = (double)start_ns * 1e-9;
  pid_t pid;
  int e = spawn(&pid, argv, envp, in, out, err);
  close_io(out);
  if (err != o->stderr_fd)
    close_io(err);
  if (e) {
    r->exec_errno = e;
    return -e;
  }
  r->started = 1;

  struct poller p = {.pid = pid, .start = start, .last_t = -1, .hz = sysconf(_SC_CLK_TCK),
                     .page_kb = sysconf(_SC_PAGESIZE) / 1024, .stat_fd = -1, .status_fd = -1};
  int pidfd = -2; /* opened at the first wait that finds the child running: a short command
                   * has often exited by then, and needs neither pidfd_open nor close */
  double deadline = o->timeout > 0 ? start + o->timeout : INFINITY, kill_at = INFINITY;
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof(ru));
  /* no sample at t = 0: it would compete with the starting child for the CPU and tell nothing.
   * Waiting by signal, the first check is the wait itself: a child that has already ended left
   * its SIGCHLD pending, and a wait4 before it would almost never find a fresh child done. */
  int check = !wait_by_signal;
  for (;;) {
    if (check) {
      pid_t w = wait4(pid, &status, WNOHANG, &ru);
      if (w == pid)
        break;
    }
    check = 1;
    double t = now();
    if (!r->timed_out && !r->interrupted && t >= deadline) {
      r->timed_out = 1;
      stop_group(pid, SIGTERM);
      kill_at = t + grace;
    } else if (!r->timed_out && !r->interrupted && o->stop && *o->stop) {
      r->interrupted = 1;
      stop_group(pid, SIGTERM);
      kill_at = t + grace;
    } else if (t >= kill_at) {
      stop_group(pid, SIGKILL);
      kill_at = INFINITY;
    }
    double wait_s = interval;
    double next_event = fmin(deadline, kill_at) - t;
    if (next_event < wait_s)
      wait_s = next_event > 0 ? next_event : 0;
    if (wait_by_signal) {
      if (sleep_for_sigchld(wait_s))
        continue; /* a child ended, or a signal to look at the stop flag for */
      poll_proc(&p, r, o->keep_timeline);
      continue;
    }
    if (pidfd == -2)
      pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
      struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
      struct timespec ts = {(time_t)wait_s, (long)((wait_s - floor(wait_s)) * 1e9)};
      int pr = ppoll(&pfd, 1, &ts, NULL);
      if (pr > 0)
        continue; /* exited: reap at the top of the loop */
    } else {
      struct timespec ts = {0, 1000000}; /* no pidfd: 1 ms steps */
      nanosleep(&ts, NULL);
      if (now() - p.last_t - start < interval)
        continue;
    }
    poll_proc(&p, r, o->keep_timeline);
  }
  r->wall = (double)(now_ns() - start_ns) / 1e9; /* whole ns, correctly rounded */
  if (pidfd >= 0)
    close(pidfd);
  if (p.stat_fd >= 0)
    close(p.stat_fd);
  if (p.status_fd >= 0)
    close(p.status_fd);
  finish_poller(&p, r);
  r->user = us_to_s(tv_us(ru.ru_utime));
  r->sys = us_to_s(tv_us(ru.ru_stime));
  r->cpu = us_to_s(tv_us(ru.ru_utime) + tv_us(ru.ru_stime));
  /* ru_maxrss also counts the launching process's own peak RSS (the child's pre-exec memory is
   * ours, as with GNU time and hyperfine). Above our peak it is the child's; at or below it, the
   * child's true peak is unknown from rusage and the sampled VmHWM (a lower bound) is used. */
  r->max_rss_kb = ru.ru_maxrss;
  r->max_rss_exact = 1;
  if (ru.ru_maxrss <= self_peak_kb) {
    r->max_rss_exact = 0;
    if (p.hwm > 0)
      r->max_rss_kb = p.hwm;
  }
  r->minor_faults = ru.ru_minflt;
  r->major_faults = ru.ru_majflt;
  r->voluntary_cs = ru.ru_nvcsw;
  r->involuntary_cs = ru.ru_nivcsw;
  r->cores_used = r->wall > 0 ? r->cpu / r->wall : NAN;
  if (WIFEXITED(status)) {
    r->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r->signal = WTERMSIG(status);
  }
  if (isnan(r->peak_rss_kb) || r->peak_rss_kb < (double)r->max_rss_kb)
    r->peak_rss_kb = (double)r->max_rss_kb;
  if (p.hwm > r->peak_rss_kb)
    r->peak_rss_kb = (double)p.hwm;
  if (isnan(r->avg_rss_kb))
    r->avg_rss_kb = (double)r->max_rss_kb;
  return 0;
}

void ps_launch_result_release(struct ps_launch_result *r)
{
  if (!r)
    return;
  free(r->timeline.t);
  free(r->timeline.rss_kb);
  free(r->timeline.cpu_pct);
  memset(&r->timeline, 0, sizeof(r->timeline));
}

char *ps_launch_describe(const struct ps_launch_result *r, double timeout)
{
  if (!r->started)
    return ps_xasprintf("could not start: %s", strerror(r->exec_errno));
  if (r->timed_out)
    return ps_xasprintf("timed out after %g s", timeout);
  if (r->interrupted)
    return ps_xstrdup("interrupted");
  if (r->signal)
    return ps_xasprintf("killed by SIG%s", sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "?");
  if (r->exit_code != 0)
    return ps_xasprintf("exit status %d", r->exit_code);
  return ps_xstrdup("ok");
}
