/* cpu-waits.c - the target's waits stay whole in spite of our sampling signal. signal(7): sleeps,
 * poll/ppoll/select/pselect, epoll_wait/epoll_pwait/epoll_pwait2, sigtimedwait/sigwaitinfo,
 * pause and sigsuspend fail with EINTR after a handler ran, whatever SA_RESTART says. Each is
 * interposed: on an EINTR that only our sampler caused (cpu_sample_hits moved on this thread and
 * no target handler ran: cpu_foreign_hits, cpu-signals.c) the call is made again with what is
 * left of its timeout, recomputed from the call's clock (CLOCK_MONOTONIC, or the sleep's own).
 * Any other EINTR reaches the target as usual. Never malloc, stdio or locks here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "cpu-internal.h"

#define CPU_EXPORT __attribute__((visibility("default")))
#define NS 1000000000LL

/* dlsym(RTLD_NEXT) on first use; the pointer is cached in *slot. */
#define CPU_REAL(slot, name)                                                                    \
  do {                                                                                          \
    if (!(slot))                                                                                \
      *(void **)&(slot) = dlsym(RTLD_NEXT, name);                                               \
  } while (0)

/* ---- who interrupted the call ---------------------------------------------------------------- */
struct cpu_wait {
  unsigned ours, theirs;
};

static void wait_begin(struct cpu_wait *w)
{
  w->ours = cpu_sample_hits;
  w->theirs = cpu_foreign_hits;
}

/* After a call failed with EINTR: 1 when our sampler alone interrupted it (retry), 0 when a
 * target handler ran or nothing of ours did (the EINTR is the target's). Re-arms w. */
static int wait_ours(struct cpu_wait *w)
{
  int ours = cpu_sample_hits != w->ours && cpu_foreign_hits == w->theirs && cpu_self();
  wait_begin(w);
  return ours;
}

/* ---- deadlines ------------------------------------------------------------------------------- */
static int64_t now_ns(clockid_t clk)
{
  struct timespec t;
  if (clock_gettime(clk, &t) < 0)
    clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * NS + t.tv_nsec;
}

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * NS + t->tv_nsec; }

static struct timespec ns_ts(int64_t ns)
{
  if (ns < 0)
    ns = 0;
  return (struct timespec){(time_t)(ns / NS), (long)(ns % NS)};
}

/* What is left until deadline on CLOCK_MONOTONIC, as a timespec (0 when passed). */
static struct timespec left_ts(int64_t deadline) { return ns_ts(deadline - now_ns(CLOCK_MONOTONIC)); }

/* ... in whole milliseconds, rounded up so a retried wait never ends early. */
static int left_ms(int64_t deadline)
{
  int64_t ns = deadline - now_ns(CLOCK_MONOTONIC);
  return ns <= 0 ? 0 : (int)((ns + 999999) / 1000000);
}

/* ---- sleeps ---------------------------------------------------------------------------------- */
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);

static int clock_can_abs(clockid_t c)
{
  return c == CLOCK_MONOTONIC || c == CLOCK_REALTIME || c == CLOCK_BOOTTIME || c == CLOCK_TAI;
}

/* clock_nanosleep semantics (returns 0 or an error number). A relative sleep on a wall clock is
 * resumed as an absolute one: no drift however often it is interrupted. */
static int cpu_sleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
  CPU_REAL(real_clock_nanosleep, "clock_nanosleep");
  if (!real_clock_nanosleep)
    return ENOSYS;
  if (!cpu_self() || !req)
    return real_clock_nanosleep(clk, flags, req, rem); /* NULL: EFAULT as usual */
  if (req->tv_nsec < 0 || req->tv_nsec >= NS || req->tv_sec < 0)
    return real_clock_nanosleep(clk, flags, req, rem); /* EINVAL as usual */
  int abs = flags & TIMER_ABSTIME;
  struct timespec until = *req, r = {0, 0};
  if (!abs && clock_can_abs(clk)) {
    until = ns_ts(now_ns(clk) + ts_ns(req));
    abs = TIMER_ABSTIME;
  }
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int rc = real_clock_nanosleep(clk, abs, &until, &r);
    if (rc != EINTR || !wait_ours(&w)) {
      if (rc == EINTR && rem && !(flags & TIMER_ABSTIME))
        *rem = abs ? ns_ts(ts_ns(&until) - now_ns(clk)) : r;
      return rc;
    }
    if (!abs)
      until = r; /* a CPU-time clock: the kernel's remainder */
  }
}

CPU_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                               struct timespec *rem)
{
  return cpu_sleep(clk, flags, req, rem);
}

CPU_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
  int rc = cpu_sleep(CLOCK_MONOTONIC, 0, req, rem);
  if (rc == 0)
    return 0;
  errno = rc;
  return -1;
}

CPU_EXPORT int usleep(useconds_t us)
{
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  return nanosleep(&ts, NULL);
}

CPU_EXPORT unsigned sleep(unsigned s)
{
  struct timespec ts = {(time_t)s, 0}, rem = {0, 0};
  if (nanosleep(&ts, &rem) < 0 && errno == EINTR)
    return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
  return 0;
}

/* ---- descriptor multiplexing ------------------------------------------------------------------- */
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                           const sigset_t *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
                                const sigset_t *);
static int (*real_poll_chk)(struct pollfd *, nfds_t, int, size_t);
static int (*real_ppoll_chk)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *,
                             size_t);

/* A millisecond timeout (negative: forever) as a monotonic deadline. */
static int64_t deadline_ms(int timeout)
{
  return timeout > 0 ? now_ns(CLOCK_MONOTONIC) + (int64_t)timeout * 1000000 : 0;
}

static int64_t deadline_ts(const struct timespec *t)
{
  return t ? now_ns(CLOCK_MONOTONIC) + ts_ns(t) : 0;
}

CPU_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
  CPU_REAL(real_poll, "poll");
  if (!cpu_self() || timeout == 0)
    return real_poll(fds, n, timeout);
  int64_t deadline = deadline_ms(timeout);
  struct cpu_wait w;
  wait_begin(&w);
  for (int left = timeout;; left = timeout < 0 ? timeout : left_ms(deadline)) {
    int r = real_poll(fds, n, left);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
  }
}

CPU_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
  CPU_REAL(real_poll_chk, "__poll_chk");
  if (fdslen / sizeof *fds < n) /* glibc's check fails: let it report the overflow */
    return real_poll_chk(fds, n, timeout, fdslen);
  return poll(fds, n, timeout);
}

CPU_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
  CPU_REAL(real_ppoll, "ppoll");
  if (!cpu_self() || (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return real_ppoll(fds, n, tmo, mask);
  int64_t deadline = deadline_ts(tmo);
  struct timespec left = tmo ? *tmo : (struct timespec){0, 0};
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_ppoll(fds, n, tmo ? &left : NULL, mask);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
    if (tmo)
      left = left_ts(deadline);
  }
}

CPU_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                           const sigset_t *mask, size_t fdslen)
{
  CPU_REAL(real_ppoll_chk, "__ppoll_chk");
  if (fdslen / sizeof *fds < n)
    return real_ppoll_chk(fds, n, tmo, mask, fdslen);
  return ppoll(fds, n, tmo, mask);
}

/* The caller's fd sets of a select/pselect, kept to start each retry from them. */
struct fd_sets {
  fd_set rd, wr, ex;
};

static void sets_save(struct fd_sets *s, const fd_set *rd, const fd_set *wr, const fd_set *ex)
{
  if (rd)
    s->rd = *rd;
  if (wr)
    s->wr = *wr;
  if (ex)
    s->ex = *ex;
}

static void sets_restore(const struct fd_sets *s, fd_set *rd, fd_set *wr, fd_set *ex)
{
  if (rd)
    *rd = s->rd;
  if (wr)
    *wr = s->wr;
  if (ex)
    *ex = s->ex;
}

/* select's sets are both input and output: an interrupted call leaves them unspecified, so each
 * retry starts again from the caller's sets. Linux writes the time not slept into *tv. */
CPU_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
  CPU_REAL(real_select, "select");
  /* sets wider than fd_set (nfds > FD_SETSIZE, allocated by the caller) cannot be restored */
  if (!cpu_self() || (tv && tv->tv_sec == 0 && tv->tv_usec == 0) || nfds > FD_SETSIZE)
    return real_select(nfds, rd, wr, ex, tv);
  struct fd_sets saved;
  sets_save(&saved, rd, wr, ex);
  int64_t deadline = tv ? now_ns(CLOCK_MONOTONIC) + (int64_t)tv->tv_sec * NS +
                              (int64_t)tv->tv_usec * 1000 : 0;
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_select(nfds, rd, wr, ex, tv);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
    sets_restore(&saved, rd, wr, ex);
    if (tv) {
      int64_t ns = deadline - now_ns(CLOCK_MONOTONIC);
      if (ns < 0)
        ns = 0;
      tv->tv_sec = (time_t)(ns / NS);
      tv->tv_usec = (suseconds_t)((ns % NS + 999) / 1000);
      if (tv->tv_usec >= 1000000) {
        tv->tv_sec++;
        tv->tv_usec -= 1000000;
      }
    }
  }
}

CPU_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tmo,
                       const sigset_t *mask)
{
  CPU_REAL(real_pselect, "pselect");
  if (!cpu_self() || (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0) || nfds > FD_SETSIZE)
    return real_pselect(nfds, rd, wr, ex, tmo, mask);
  struct fd_sets saved;
  sets_save(&saved, rd, wr, ex);
  int64_t deadline = deadline_ts(tmo);
  struct timespec left = tmo ? *tmo : (struct timespec){0, 0};
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_pselect(nfds, rd, wr, ex, tmo ? &left : NULL, mask);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
    sets_restore(&saved, rd, wr, ex);
    if (tmo)
      left = left_ts(deadline);
  }
}

CPU_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
  CPU_REAL(real_epoll_wait, "epoll_wait");
  if (!cpu_self() || timeout == 0)
    return real_epoll_wait(epfd, ev, max, timeout);
  int64_t deadline = deadline_ms(timeout);
  struct cpu_wait w;
  wait_begin(&w);
  for (int left = timeout;; left = timeout < 0 ? timeout : left_ms(deadline)) {
    int r = real_epoll_wait(epfd, ev, max, left);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
  }
}

CPU_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                           const sigset_t *mask)
{
  CPU_REAL(real_epoll_pwait, "epoll_pwait");
  if (!cpu_self() || timeout == 0)
    return real_epoll_pwait(epfd, ev, max, timeout, mask);
  int64_t deadline = deadline_ms(timeout);
  struct cpu_wait w;
  wait_begin(&w);
  for (int left = timeout;; left = timeout < 0 ? timeout : left_ms(deadline)) {
    int r = real_epoll_pwait(epfd, ev, max, left, mask);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
  }
}

CPU_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *tmo,
                            const sigset_t *mask)
{
  CPU_REAL(real_epoll_pwait2, "epoll_pwait2");
  if (!real_epoll_pwait2) {
    errno = ENOSYS;
    return -1;
  }
  if (!cpu_self() || (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return real_epoll_pwait2(epfd, ev, max, tmo, mask);
  int64_t deadline = deadline_ts(tmo);
  struct timespec left = tmo ? *tmo : (struct timespec){0, 0};
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_epoll_pwait2(epfd, ev, max, tmo ? &left : NULL, mask);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
    if (tmo)
      left = left_ts(deadline);
  }
}

/* ---- waiting for signals ----------------------------------------------------------------------- */
static int (*real_sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
static int (*real_sigwaitinfo)(const sigset_t *, siginfo_t *);
static int (*real_sigsuspend)(const sigset_t *);
static int (*real_pause)(void);

CPU_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *tmo)
{
  CPU_REAL(real_sigtimedwait, "sigtimedwait");
  if (!cpu_self() || (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return real_sigtimedwait(set, info, tmo);
  int64_t deadline = deadline_ts(tmo);
  struct timespec left = tmo ? *tmo : (struct timespec){0, 0};
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_sigtimedwait(set, info, tmo ? &left : NULL);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
    if (tmo)
      left = left_ts(deadline);
  }
}

CPU_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
  CPU_REAL(real_sigwaitinfo, "sigwaitinfo");
  if (!cpu_self())
    return real_sigwaitinfo(set, info);
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_sigwaitinfo(set, info);
    if (r >= 0 || errno != EINTR || !wait_ours(&w))
      return r;
  }
}

/* pause and sigsuspend return after any handler: only a target handler may end them. */
CPU_EXPORT int sigsuspend(const sigset_t *mask)
{
  CPU_REAL(real_sigsuspend, "sigsuspend");
  if (!cpu_self())
    return real_sigsuspend(mask);
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_sigsuspend(mask);
    if (errno != EINTR || !wait_ours(&w))
      return r;
  }
}

CPU_EXPORT int pause(void)
{
  CPU_REAL(real_pause, "pause");
  if (!cpu_self())
    return real_pause();
  struct cpu_wait w;
  wait_begin(&w);
  for (;;) {
    int r = real_pause();
    if (errno != EINTR || !wait_ours(&w))
      return r;
  }
}
