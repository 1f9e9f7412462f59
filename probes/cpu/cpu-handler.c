/* cpu-handler.c - the sampling signal handler: unwinds the interrupted thread with libunwind
 * from the signal context and appends a PS_REC_SAMPLE (with its deduplicated stack) to the
 * thread's own trace buffer (probes/common/trace-writer.h).
 * Async-signal-safe by construction: errno saved, no malloc, no stdio, no locks, a per-thread
 * re-entrancy guard, and a degraded leaf-only sample when the signal lands in the dynamic loader
 * (libunwind would call dl_iterate_phdr and could deadlock there).
 */
#include <errno.h>
#include <string.h>
#include <ucontext.h>

#include "cpu-internal.h"
#include "stack-table.h"
#include "trace-writer.h"
#include "unwind.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define CPU_MAX_WEIGHT 64u
#define CPU_FAST_AFTER 32u /* samples of a thread before unw_backtrace's trace cache (see below) */

static struct sigaction cpu_prev_action;
static unsigned cpu_depth = 64;
static int cpu_wall;
static int cpu_sigtrap; /* SIGTRAP is ours only with si_code TRAP_PERF */
static volatile int cpu_enabled;
static uintptr_t cpu_self_lo, cpu_self_hi; /* our own code: its frames are dropped */

void cpu_handler_self_range(uintptr_t lo, uintptr_t hi)
{
  cpu_self_lo = lo;
  cpu_self_hi = hi;
}

/* Drops the probe's own frames (thread trampoline, sleep wrappers) from a stack. */
static unsigned cpu_drop_self(uintptr_t *ips, unsigned n)
{
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++)
    if (ips[i] < cpu_self_lo || ips[i] >= cpu_self_hi || (i == 0 && n == 1))
      ips[k++] = ips[i];
  return k ? k : 1;
}

void cpu_handler_enable(int on) { __atomic_store_n(&cpu_enabled, on, __ATOMIC_SEQ_CST); }

/* Fast path: libunwind's unw_backtrace keeps a per-thread cache of frame layouts by address
 * (x86-64 "trace" cache), several times cheaper than a DWARF unw_step walk once warm. It starts
 * in this handler: the interrupted pc follows the signal frame, so everything before the first
 * entry equal to the context's pc is ours and dropped. Returns 0 when the pc is not found (the
 * caller then walks from the context with ps_unwind_from_context). */
static int cpu_unwind_fast(const ucontext_t *uc, uintptr_t *ips, int max)
{
  void *buf[CPU_MAX_DEPTH + 16];
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  int want = max + 16 > (int)(sizeof buf / sizeof buf[0]) ? (int)(sizeof buf / sizeof buf[0]) : max + 16;
  int n = unw_backtrace(buf, want);
  for (int i = 0; i < n && i < 16; i++) {
    if ((uintptr_t)buf[i] != pc)
      continue;
    int k = 0;
    for (int j = i; j < n && k < max; j++)
      ips[k++] = (uintptr_t)buf[j];
    return k;
  }
  return 0;
}

static int cpu_is_sampling_code(int code)
{
  return code == SI_TIMER || code == POLL_IN || code == POLL_HUP || (cpu_sigtrap && code == TRAP_PERF);
}

__thread unsigned cpu_sample_hits CPU_TLS;

static void cpu_chain(int sig, siginfo_t *si, void *uc)
{
  cpu_foreign_hits++; /* a target signal: an interrupted wait must see its EINTR */
  if (cpu_prev_action.sa_flags & SA_SIGINFO) {
    if (cpu_prev_action.sa_sigaction)
      cpu_prev_action.sa_sigaction(sig, si, uc);
  } else if (cpu_prev_action.sa_handler != SIG_DFL && cpu_prev_action.sa_handler != SIG_IGN) {
    cpu_prev_action.sa_handler(sig);
  }
}

/* Appends one sample standing for `weight` periods (weight > 1: a timer's overruns, whose
 * time was spent too); returns 0, or -1 when the buffer could not take it (counted lost). */
static int cpu_record(const uintptr_t *ips, unsigned n, unsigned flags, unsigned weight)
{
  struct ps_tbuf *b = ps_tw_current();
  /* Our own thread is appending (or flushing) right now: never spin on ourselves. */
  if (!b || __atomic_load_n(&b->busy, __ATOMIC_ACQUIRE) != 0)
    return -1;
  uint8_t *p = ps_tw_reserve(PS_STACK_REC_MAX(n) + (size_t)weight * 4 * PS_VARINT_MAX);
  if (!p)
    return -1;
  b = ps_tw_current();
  int is_new = 0;
  uint32_t id = ps_stack_id(ips, n, &is_new);
  if (is_new)
    p = ps_stack_put_record(b, p, id, ips, n);
  uint64_t now = ps_tw_now_ns();
  for (unsigned w = 0; w < weight; w++) { /* the format has no weight field: repeat the record */
    p = ps_tw_rec_start(b, p, PS_REC_SAMPLE, 0);
    p = ps_put_varint(p, now);
    p = ps_put_varint(p, flags);
    p = ps_put_varint(p, id);
  }
  ps_tw_commit(p);
  return 0;
}

static void cpu_on_signal(int sig, siginfo_t *si, void *ucv)
{
  int saved_errno = errno;
  if (!cpu_is_sampling_code(si->si_code)) {
    cpu_chain(sig, si, ucv); /* the target's own use of the signal */
    goto out;
  }
  cpu_sample_hits++;
  struct cpu_thread *t = cpu_self();
  if (!t || !cpu_enabled)
    goto out;
  if (t->in_handler) {
    t->lost++;
    goto out;
  }
  t->in_handler = 1;
  atomic_store(&t->busy, 1);
  if (atomic_load(&t->state) != CPU_T_LIVE)
    goto done;
  /* POSIX CPU-clock timers are checked at the scheduler tick (CONFIG_HZ): above HZ they fire
   * once per tick with overruns. The overrun periods were spent where this sample lands, so it
   * carries them as weight (capped); beyond the cap they are counted lost. */
  unsigned weight = 1;
  if (si->si_code == SI_TIMER && si->si_overrun > 0) {
    unsigned ov = (unsigned)si->si_overrun;
    weight += ov > CPU_MAX_WEIGHT - 1 ? CPU_MAX_WEIGHT - 1 : ov;
    if (ov > CPU_MAX_WEIGHT - 1)
      t->lost += ov - (CPU_MAX_WEIGHT - 1);
  }
  uintptr_t ips[CPU_MAX_DEPTH];
  unsigned n, flags = cpu_wall ? PS_SAMPLE_F_WALL : 0;
  ucontext_t *uc = ucv;
  if (t->in_loader) {
    ips[0] = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    n = 1;
    flags |= PS_SAMPLE_F_DEGRADED | PS_SAMPLE_F_LEAF_ONLY;
  } else {
    /* A thread's first samples take the DWARF walk: unw_backtrace's first call in a thread
     * builds its trace cache (16384 frames, 256 KiB written, ~0.5 ms), more than a short thread's
     * few samples cost the slow way (~12 us each). After CPU_FAST_AFTER samples the cache pays. */
    int k = t->samples >= CPU_FAST_AFTER ? cpu_unwind_fast(uc, ips, (int)cpu_depth) : 0;
    if (k <= 0)
      k = ps_unwind_from_context(uc, ips, (int)cpu_depth);
    if (k <= 0) {
      ips[0] = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
      k = 1;
      flags |= PS_SAMPLE_F_DEGRADED | PS_SAMPLE_F_LEAF_ONLY;
    }
    n = cpu_drop_self(ips, (unsigned)k);
  }
  if (cpu_record(ips, n, flags, weight) < 0) {
    t->lost += weight;
  } else {
    t->samples += weight;
    if (flags & PS_SAMPLE_F_DEGRADED)
      t->degraded += weight;
  }
done:
  atomic_store(&t->busy, 0);
  t->in_handler = 0;
out:
  errno = saved_errno;
}

int cpu_handler_target_action(const struct sigaction *act, struct sigaction *old)
{
  if (old)
    *old = cpu_prev_action;
  if (act)
    cpu_prev_action = *act;
  return 0;
}

int cpu_handler_install(const struct cpu_config *cfg)
{
  cpu_depth = cfg->depth;
  cpu_wall = cfg->mode == CPU_MODE_WALL;
  cpu_sigtrap = cfg->sigtrap;
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = cpu_on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct sigaction old;
  if (sigaction(cfg->signo, &sa, &old) < 0)
    return -errno;
  if (old.sa_sigaction != cpu_on_signal) /* not a re-install after fork */
    cpu_prev_action = old;
  cpu_handler_enable(1);
  return 0;
}
