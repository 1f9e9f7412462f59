/* cpu-waits.c - a target that waits in every call SA_RESTART does not restart (signal(7)):
 * nanosleep, clock_nanosleep, usleep, poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2, sigtimedwait, sigwaitinfo, pause, sigsuspend. Each timeout must last its whole
 * time, each of the target's own signals must still interrupt (EINTR), and its output is the same
 * profiled or not; in wall mode each wait_<call> function shows. Usage: cpu-waits [MS] (60).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static int ms = 60;
static int pfd[2], ep;
static pthread_t main_thread;
static _Atomic int want_usr1;   /* the helper sends SIGUSR1 to main every 2 ms while set */
static _Atomic int want_usr2;   /* the helper sends one SIGUSR2 to main after ms, then clears */
static _Atomic int quit;
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static void *helper(void *unused)
{
  (void)unused;
  struct timespec two = {0, 2000000};
  while (!atomic_load(&quit)) {
    if (atomic_load(&want_usr1))
      pthread_kill(main_thread, SIGUSR1);
    if (atomic_load(&want_usr2)) {
      struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
      nanosleep(&t, NULL);
      atomic_store(&want_usr2, 0);
      pthread_kill(main_thread, SIGUSR2);
    }
    nanosleep(&two, NULL);
  }
  return NULL;
}

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One wait: with sig, the helper interrupts it and EINTR is expected; else its timeout of ms. */
static void report(const char *name, int sig, int r, int err, double t0)
{
  double got = now_ms() - t0;
  if (sig)
    printf("%-16s target signal: %s\n", name, r < 0 && err == EINTR && got_usr1 ? "EINTR" : "missed");
  else
    printf("%-16s timeout: r=%d %s, whole: %s\n", name, r, r < 0 ? strerror(err) : "",
           got >= ms - 0.5 ? "yes" : "no");
}

#define WAIT_FN(fname, call)                                                                   \
  __attribute__((noinline)) static void fname(int sig)                                         \
  {                                                                                            \
    got_usr1 = 0;                                                                              \
    atomic_store(&want_usr1, sig);                                                             \
    double t0 = now_ms();                                                                      \
    int tmo = sig ? 10000 : ms;                                                                \
    struct timespec ts = {tmo / 1000, (long)(tmo % 1000) * 1000000L};                          \
    struct timeval tv = {tmo / 1000, (tmo % 1000) * 1000};                                     \
    (void)ts;                                                                                  \
    (void)tv;                                                                                  \
    int r = (call);                                                                            \
    int err = errno;                                                                           \
    atomic_store(&want_usr1, 0);                                                               \
    report(#fname + 5, sig, r, err, t0);                                                       \
  }

static fd_set rset(void)
{
  fd_set s;
  FD_ZERO(&s);
  FD_SET(pfd[0], &s);
  return s;
}

static int do_nanosleep(struct timespec *ts) { return nanosleep(ts, NULL); }
static int do_clock_nanosleep(struct timespec *ts)
{
  int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, ts, NULL);
  errno = rc;
  return rc ? -1 : 0;
}
static int do_usleep(int tmo) { return usleep((useconds_t)tmo * 1000); }
static int do_poll(int tmo)
{
  struct pollfd p = {pfd[0], POLLIN, 0};
  return poll(&p, 1, tmo);
}
static int do_ppoll(struct timespec *ts)
{
  struct pollfd p = {pfd[0], POLLIN, 0};
  return ppoll(&p, 1, ts, NULL);
}
static int do_select(struct timeval *tv)
{
  fd_set s = rset();
  return select(pfd[0] + 1, &s, NULL, NULL, tv);
}
static int do_pselect(struct timespec *ts)
{
  fd_set s = rset();
  return pselect(pfd[0] + 1, &s, NULL, NULL, ts, NULL);
}
static int do_epoll_wait(int tmo)
{
  struct epoll_event e;
  return epoll_wait(ep, &e, 1, tmo);
}
static int do_epoll_pwait(int tmo)
{
  struct epoll_event e;
  return epoll_pwait(ep, &e, 1, tmo, NULL);
}
static int do_epoll_pwait2(struct timespec *ts)
{
  struct epoll_event e;
  return epoll_pwait2(ep, &e, 1, ts, NULL);
}
static int do_sigtimedwait(struct timespec *ts)
{
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  return sigtimedwait(&s, NULL, ts);
}

WAIT_FN(wait_nanosleep, do_nanosleep(&ts))
WAIT_FN(wait_clock_nanosleep, do_clock_nanosleep(&ts))
WAIT_FN(wait_usleep, do_usleep(tmo))
WAIT_FN(wait_poll, do_poll(tmo))
WAIT_FN(wait_ppoll, do_ppoll(&ts))
WAIT_FN(wait_select, do_select(&tv))
WAIT_FN(wait_pselect, do_pselect(&ts))
WAIT_FN(wait_epoll_wait, do_epoll_wait(tmo))
WAIT_FN(wait_epoll_pwait, do_epoll_pwait(tmo))
WAIT_FN(wait_epoll_pwait2, do_epoll_pwait2(&ts))
WAIT_FN(wait_sigtimedwait, do_sigtimedwait(&ts))

/* sigwaitinfo: the helper's SIGUSR2 arrives after ms; nothing else may end the wait. */
__attribute__((noinline)) static void wait_sigwaitinfo(void)
{
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  atomic_store(&want_usr2, 1);
  int r = sigwaitinfo(&s, NULL);
  printf("%-16s returned: %s\n", "sigwaitinfo", r == SIGUSR2 ? "SIGUSR2" : strerror(errno));
}

/* pause and sigsuspend end after a handler: only the target's SIGUSR1 may end them. */
__attribute__((noinline)) static void wait_pause(void)
{
  got_usr1 = 0;
  atomic_store(&want_usr1, 1);
  int r = pause();
  int err = errno;
  atomic_store(&want_usr1, 0);
  printf("%-16s ended by target signal: %s\n", "pause", r < 0 && err == EINTR && got_usr1 ? "yes" : "no");
}

__attribute__((noinline)) static void wait_sigsuspend(void)
{
  sigset_t none;
  sigemptyset(&none);
  got_usr1 = 0;
  atomic_store(&want_usr1, 1);
  int r = sigsuspend(&none);
  int err = errno;
  atomic_store(&want_usr1, 0);
  printf("%-16s ended by target signal: %s\n", "sigsuspend",
         r < 0 && err == EINTR && got_usr1 ? "yes" : "no");
}

int main(int argc, char **argv)
{
  if (argc > 1)
    ms = atoi(argv[1]);
  if (ms < 1 || pipe(pfd) < 0 || (ep = epoll_create1(0)) < 0)
    return 3;
  struct epoll_event e = {.events = EPOLLIN, .data.fd = pfd[0]};
  epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  struct sigaction back;
  sigaction(SIGUSR1, NULL, &back); /* the target reads back its own handler, not a wrapper */
  printf("handler readback: %s\n", !(back.sa_flags & SA_SIGINFO) && back.sa_handler == on_usr1 ? "ok" : "changed");
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* inherited by the helper: SIGUSR2 waits for main */
  main_thread = pthread_self();
  pthread_t th;
  pthread_create(&th, NULL, helper, NULL);
  void (*waits[])(int) = {wait_nanosleep, wait_clock_nanosleep, wait_usleep, wait_poll,
                          wait_ppoll, wait_select, wait_pselect, wait_epoll_wait,
                          wait_epoll_pwait, wait_epoll_pwait2, wait_sigtimedwait};
  for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
    waits[i](0);
    waits[i](1);
  }
  wait_sigwaitinfo();
  wait_pause();
  wait_sigsuspend();
  atomic_store(&quit, 1);
  pthread_join(th, NULL);
  puts("done");
  return 0;
}
