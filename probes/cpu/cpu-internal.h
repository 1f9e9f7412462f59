/* cpu-internal.h - what the files of libperfsweep-cpu.so share: configuration, the per-thread
 * sampler state, and the verbs of the engine, handler and output.
 *
 * Probe code: nothing declared here may call malloc, stdio or take a lock the target may hold
 * from the signal handler path (cpu_handler_*).
 */
#ifndef PERFSWEEP_CPU_INTERNAL_H
#define PERFSWEEP_CPU_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "trace-format.h"

#define CPU_TLS __attribute__((tls_model("initial-exec")))
#define CPU_MAX_THREADS 4096

/* ---- configuration (from probes/common/config.h, read in cpu-preload.c) ------------------ */
enum cpu_mode { CPU_MODE_OFF, CPU_MODE_CPU_CLOCK, CPU_MODE_TASK_CLOCK, CPU_MODE_WALL };
enum { CPU_ENGINE_NONE = 0, CPU_ENGINE_PERF = 1, CPU_ENGINE_TIMER = 2 };
#define CPU_MAX_DEPTH 256
#define CPU_SIGTRAP_COOKIE 0x70737770ull /* attr.sig_data of our sigtrap events ("pswp") */
#ifndef TRAP_PERF
#define TRAP_PERF 6 /* si_code of a perf_event SIGTRAP (asm-generic/siginfo.h) */
#endif

struct cpu_config {
  enum cpu_mode mode;   /* same numbering as enum ps_cpu_mode (harness/probe-env.h) */
  unsigned freq;        /* samples per second */
  int signo;            /* signal used for samples */
  unsigned depth;       /* deepest stack recorded, <= CPU_MAX_DEPTH */
  int force_timer;      /* PERFSWEEP_CPU_ENGINE=timer: skip perf_event_open (tests, seccomp) */
  int sigtrap;          /* PERFSWEEP_CPU_ENGINE=sigtrap: perf_event overflow as SIGTRAP
                         * (attr.sigtrap, Linux 5.13+): no fasync, cheaper; signo is SIGTRAP */
};

/* ---- per-thread sampler state ----------------------------------------------------------- */
struct cpu_thread {
  _Atomic int state;       /* CPU_T_FREE, CPU_T_LIVE, CPU_T_CLOSING */
  _Atomic int busy;        /* the handler is running on this slot */
  pid_t tid;
  int engine;              /* CPU_ENGINE_* this thread runs on */
  int fd;                  /* perf event fd, -1 otherwise */
  timer_t timer;           /* timer_create timer when engine != perf */
  int have_timer;
  int in_handler;          /* re-entrancy guard */
  int in_loader;           /* > 0 while inside dlopen/dlclose/dl_iterate_phdr */
  uint64_t samples, lost, degraded;
};

enum { CPU_T_FREE, CPU_T_LIVE, CPU_T_CLOSING };

/* The calling thread's slot, or NULL when the thread is not sampled. Async-signal-safe. */
struct cpu_thread *cpu_self(void);
/* The sampling signal while the profiler runs in this process, 0 otherwise. */
int cpu_active_signo(void);

/* ---- who interrupted a wait (cpu-handler.c, cpu-signals.c; read by cpu-waits.c) ------------ */
/* Our sampling signals delivered to this thread (counted first thing in the handler). */
extern __thread unsigned cpu_sample_hits CPU_TLS;
/* Target handlers run on this thread: wrapped ones (cpu-signals.c) and chained ones. */
extern __thread unsigned cpu_foreign_hits CPU_TLS;

/* ---- engine (cpu-engine-linux.c) ----------------------------------------------------------- */
/* Starts sampling the calling thread into t (t->tid set). Tries perf_event_open unless the
 * process already fell back; on refusal falls back to timer_create and records why once.
 * Returns 0, or -errno when neither engine can sample this thread (t stays unarmed). */
int cpu_engine_start(struct cpu_thread *t, const struct cpu_config *cfg);
/* Stops t's event or timer and returns how many user-space samples the kernel clock says
 * were due (for the lost count; 0 when unknown: timer engine, or called from another thread);
 * safe to call from any thread, idempotent. */
uint64_t cpu_engine_stop(struct cpu_thread *t, const struct cpu_config *cfg);
/* The engine the process settled on and the reason for a fallback ("" when none). */
int cpu_engine_kind(void);
const char *cpu_engine_reason(void);

/* ---- signal handler (cpu-handler.c) --------------------------------------------------------- */
/* Installs the sampling handler for cfg->signo. Returns 0 or -errno. */
int cpu_handler_install(const struct cpu_config *cfg);
/* The target's own disposition of our signal: sigaction() calls on it land here instead of
 * replacing the sampler; signals that are not ours are passed to it. Returns 0. */
int cpu_handler_target_action(const struct sigaction *act, struct sigaction *old);
/* The probe's own code range: frames inside it are left out of samples. */
void cpu_handler_self_range(uintptr_t lo, uintptr_t hi);
/* 0 makes the handler drop every later signal (shutdown); async-signal-safe. */
void cpu_handler_enable(int on);

#endif
