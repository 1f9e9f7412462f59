/* cpu-signals.c - the target's signal handlers, seen by the profiler: sigaction() and signal()
 * are interposed. On our sampling signal the target's handler is remembered and chained (see
 * cpu-handler.c); on every other signal its handler is installed behind a thin wrapper that
 * counts, per thread, that a target handler ran (cpu_foreign_hits), so an interrupted wait can
 * tell the target's EINTR from ours (cpu-waits.c). Never malloc, stdio or locks here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "cpu-internal.h"

#define CPU_EXPORT __attribute__((visibility("default")))

__thread unsigned cpu_foreign_hits CPU_TLS;

/* The target's handler of each signal we wrapped: its function and whether it takes siginfo. */
static struct {
  void *_Atomic fn;
  _Atomic int siginfo;
} cpu_foreign[_NSIG];

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static void cpu_foreign_handler(int sig, siginfo_t *si, void *uc)
{
  cpu_foreign_hits++;
  void *fn = atomic_load(&cpu_foreign[sig].fn);
  if (!fn)
    return;
  if (atomic_load(&cpu_foreign[sig].siginfo))
    ((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
  else
    ((void (*)(int))fn)(sig);
}

/* A handler we may wrap: a function (not SIG_DFL/SIG_IGN), and not one-shot (SA_RESETHAND: the
 * kernel resets it behind our back, our table would then lie to the target). */
static int cpu_wrappable(int sig, const struct sigaction *act)
{
  if (sig <= 0 || sig >= _NSIG || sig == SIGKILL || sig == SIGSTOP || (act->sa_flags & SA_RESETHAND))
    return 0;
  return (act->sa_flags & SA_SIGINFO) ? act->sa_sigaction != NULL
                                      : act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

/* sigaction for a signal that is not our sampling signal: wrap (while the profiler runs) the
 * handler installed; always report the target's own handler in *old, never the wrapper. */
static int cpu_foreign_action(int sig, const struct sigaction *act, struct sigaction *old, int wrap)
{
  void *prev_fn = NULL;
  int prev_info = 0;
  if (sig > 0 && sig < _NSIG) {
    prev_fn = atomic_load(&cpu_foreign[sig].fn);
    prev_info = atomic_load(&cpu_foreign[sig].siginfo);
  }
  struct sigaction mine, cur;
  const struct sigaction *use = act;
  if (wrap && act && cpu_wrappable(sig, act)) {
    int info = (act->sa_flags & SA_SIGINFO) != 0;
    atomic_store(&cpu_foreign[sig].fn, info ? (void *)act->sa_sigaction : (void *)act->sa_handler);
    atomic_store(&cpu_foreign[sig].siginfo, info);
    mine = *act;
    mine.sa_sigaction = cpu_foreign_handler;
    mine.sa_flags |= SA_SIGINFO;
    use = &mine;
  }
  int r = real_sigaction(sig, use, old ? &cur : NULL);
  if (r < 0)
    return r;
  if (old) {
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cpu_foreign_handler && prev_fn) {
      if (prev_info) {
        cur.sa_sigaction = (void (*)(int, siginfo_t *, void *))prev_fn;
      } else {
        cur.sa_flags &= ~SA_SIGINFO;
        cur.sa_handler = (void (*)(int))prev_fn;
      }
    }
    *old = cur;
  }
  return 0;
}

CPU_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
  if (!real_sigaction)
    *(void **)&real_sigaction = dlsym(RTLD_NEXT, "sigaction");
  int signo = cpu_active_signo();
  if (signo && sig == signo)
    return cpu_handler_target_action(act, old);
  return cpu_foreign_action(sig, act, old, signo != 0);
}

/* glibc's signal() has BSD semantics: SA_RESTART, the signal blocked in its handler. */
CPU_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sig > 0 && sig < _NSIG)
    sigaddset(&sa.sa_mask, sig);
  if (sigaction(sig, &sa, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
}
