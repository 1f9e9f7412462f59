/* cpu-engine-linux.c - arms and disarms the per-thread sampling clock: one perf_event_open
 * software event (cpu-clock / task-clock, user space only) whose overflow signal is routed to
 * the thread (F_SETOWN_EX + F_SETSIG), or a timer_create timer (SIGEV_THREAD_ID) on the thread's
 * CPU clock when perf events are refused, or on CLOCK_MONOTONIC in wall mode.
 * Never called from the signal handler; no malloc, no stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu-internal.h"

static _Atomic int cpu_engine_process = CPU_ENGINE_NONE; /* what the first thread got */
static _Atomic int cpu_force_timer;
static _Atomic int cpu_no_sigtrap; /* attr.sigtrap refused (kernel < 5.13): classic delivery */
static char cpu_reason[120];

int cpu_engine_kind(void) { return atomic_load(&cpu_engine_process); }
const char *cpu_engine_reason(void) { return cpu_reason; }

static void cpu_set_reason(const char *what, int err)
{
  const char *why;
  switch (err) {
  case EACCES:
  case EPERM:
    why = "perf_event_open refused (EACCES/EPERM: kernel.perf_event_paranoid or seccomp)";
    break;
  case ENOSYS:
    why = "perf_event_open not available (ENOSYS)";
    break;
  case ENOENT:
  case EOPNOTSUPP:
  case EINVAL:
    why = "software clock event not supported by this kernel (ENOENT/EINVAL)";
    break;
  case EMFILE:
  case ENFILE:
    why = "out of file descriptors (EMFILE) for perf events";
    break;
  default:
    why = what;
  }
  if (!cpu_reason[0]) {
    size_t n = strlen(why);
    if (n >= sizeof cpu_reason)
      n = sizeof cpu_reason - 1;
    memcpy(cpu_reason, why, n);
    cpu_reason[n] = 0;
  }
}

static uint64_t cpu_period_ns(const struct cpu_config *cfg)
{
  uint64_t p = 1000000000ull / cfg->freq;
  return p ? p : 1;
}

static int cpu_perf_start(struct cpu_thread *t, const struct cpu_config *cfg)
{
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = cfg->mode == CPU_MODE_TASK_CLOCK ? PERF_COUNT_SW_TASK_CLOCK : PERF_COUNT_SW_CPU_CLOCK;
  a.sample_period = cpu_period_ns(cfg);
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.wakeup_events = 1;
  if (cfg->sigtrap && !atomic_load(&cpu_no_sigtrap)) {
    /* The kernel sends SIGTRAP (si_code TRAP_PERF) to the thread itself from task work on its
     * way back to user space: no fasync owner, no irq_work self-IPI. It must be removed on exec. */
    a.sigtrap = 1;
    a.remove_on_exec = 1;
    a.sig_data = CPU_SIGTRAP_COOKIE;
    int fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd >= 0) {
      t->fd = fd;
      if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) == 0)
        return 0;
      int e = errno;
      close(fd);
      t->fd = -1;
      return -e;
    }
    if (errno != EINVAL && errno != E2BIG)
      return -errno;
    atomic_store(&cpu_no_sigtrap, 1); /* an older kernel: the classic delivery, same signal */
    a.sigtrap = 0;
    a.remove_on_exec = 0;
    a.sig_data = 0;
  }
  int fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct f_owner_ex owner = {F_OWNER_TID, t->tid};
  if (fcntl(fd, F_SETFL, O_ASYNC) < 0 || fcntl(fd, F_SETSIG, cfg->signo) < 0 ||
      fcntl(fd, F_SETOWN_EX, &owner) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  t->fd = fd;
  /* Continuous, not one-shot (PERF_EVENT_IOC_REFRESH): the counter keeps running while the
   * signal is blocked or pending, so counter / period - samples taken = samples lost. A new
   * event counts from 0 and was created disabled: no PERF_EVENT_IOC_RESET needed. */
  if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
    int e = errno;
    close(fd);
    t->fd = -1;
    return -e;
  }
  return 0;
}

static int cpu_timer_start(struct cpu_thread *t, const struct cpu_config *cfg)
{
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = cfg->signo;
  sev._sigev_un._tid = t->tid;
  clockid_t clk = cfg->mode == CPU_MODE_WALL ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
  if (timer_create(clk, &sev, &t->timer) < 0)
    return -errno;
  uint64_t p = cpu_period_ns(cfg);
  struct itimerspec its;
  its.it_interval.tv_sec = (time_t)(p / 1000000000ull);
  its.it_interval.tv_nsec = (long)(p % 1000000000ull);
  its.it_value = its.it_interval;
  if (timer_settime(t->timer, 0, &its, NULL) < 0) {
    int e = errno;
    timer_delete(t->timer);
    return -e;
  }
  t->have_timer = 1;
  return 0;
}

int cpu_engine_start(struct cpu_thread *t, const struct cpu_config *cfg)
{
  t->fd = -1;
  t->have_timer = 0;
  int expected = CPU_ENGINE_NONE;
  if (cfg->mode != CPU_MODE_WALL && !cfg->force_timer && !atomic_load(&cpu_force_timer)) {
    int r = cpu_perf_start(t, cfg);
    if (r == 0) {
      t->engine = CPU_ENGINE_PERF;
      atomic_compare_exchange_strong(&cpu_engine_process, &expected, CPU_ENGINE_PERF);
      return 0;
    }
    cpu_set_reason("perf_event_open failed", -r);
    /* A refusal (as opposed to a thread running out of descriptors) holds for the process. */
    if (r != -EMFILE && r != -ENFILE)
      atomic_store(&cpu_force_timer, 1);
  } else if (cfg->force_timer) {
    cpu_set_reason("timer engine requested by PERFSWEEP_CPU_ENGINE=timer", 0);
  }
  int r = cpu_timer_start(t, cfg);
  if (r < 0)
    return r;
  t->engine = CPU_ENGINE_TIMER;
  expected = CPU_ENGINE_NONE;
  atomic_compare_exchange_strong(&cpu_engine_process, &expected, CPU_ENGINE_TIMER);
  return 0;
}

uint64_t cpu_engine_stop(struct cpu_thread *t, const struct cpu_config *cfg)
{
  uint64_t due = 0;
  if (t->fd >= 0) {
    ioctl(t->fd, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t count = 0;
    struct rusage ru;
    /* The clock counts kernel time too, but samples are user space only: only the owner thread
     * can learn its own system time exactly, so only it estimates what was lost. */
    if (t->tid == (pid_t)syscall(SYS_gettid) && getrusage(RUSAGE_THREAD, &ru) == 0 &&
        read(t->fd, &count, sizeof count) == (ssize_t)sizeof count) {
      uint64_t sys_ns = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull +
                        (uint64_t)ru.ru_stime.tv_usec * 1000ull;
      due = count > sys_ns ? (count - sys_ns) / cpu_period_ns(cfg) : 0;
    }
    close(t->fd);
    t->fd = -1;
  }
  if (t->have_timer) {
    timer_delete(t->timer);
    t->have_timer = 0;
  }
  return due;
}
