/* cpu-preload.c - the shim of libperfsweep-cpu.so: starts the profiler in a constructor when
 * PERFSWEEP_CPU is set, covers threads (pthread_create), fork (the child gets its own
 * cpu.<pid>.pst), the dynamic loader (dlopen/dlclose/dl_iterate_phdr mark the thread "in loader"
 * and refresh the module map), and exec (the clock disarmed first). Waits: cpu-waits.c;
 * the target's signal handlers: cpu-signals.c.
 * Never malloc or stdio here; locks of the target are never taken; does nothing when disabled.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cpu-internal.h"
#include "modmap.h"
#include "stack-table.h"
#include "trace-writer.h"
#include "unwind.h"

#define CPU_EXPORT __attribute__((visibility("default")))

static int (*cpu_real_dl_iterate_phdr)(int (*)(struct dl_phdr_info *, size_t, void *), void *);

static struct cpu_config cpu_cfg;
static _Atomic int cpu_on;      /* profiler running in this process */
static struct cpu_thread *_Atomic cpu_slots[CPU_MAX_THREADS];
static _Atomic unsigned cpu_nslots;
static _Atomic uint64_t cpu_threads_seen;
static _Atomic uint64_t cpu_unsampled_threads;
static __thread struct cpu_thread *cpu_tls CPU_TLS;

static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static void *(*real_dlopen)(const char *, int);
static int (*real_dlclose)(void *);
static int (*real_setname)(pthread_t, const char *);

struct cpu_thread *cpu_self(void) { return cpu_tls; }

int cpu_active_signo(void) { return atomic_load(&cpu_on) ? cpu_cfg.signo : 0; }

static pid_t cpu_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- thread slots -------------------------------------------------------------------------- */
static struct cpu_thread *cpu_slot_claim(void)
{
  unsigned n = atomic_load(&cpu_nslots);
  for (unsigned i = 0; i < n; i++) {
    struct cpu_thread *t = atomic_load(&cpu_slots[i]);
    int expect = CPU_T_FREE;
    if (t && atomic_compare_exchange_strong(&t->state, &expect, CPU_T_CLOSING))
      return t;
  }
  void *m = mmap(NULL, sizeof(struct cpu_thread), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;
  struct cpu_thread *t = m;
  atomic_store(&t->state, CPU_T_CLOSING);
  unsigned i = atomic_fetch_add(&cpu_nslots, 1);
  if (i >= CPU_MAX_THREADS) {
    atomic_fetch_sub(&cpu_nslots, 1);
    munmap(m, sizeof *t);
    return NULL;
  }
  atomic_store(&cpu_slots[i], t);
  return t;
}

static void cpu_write_thread_name(pid_t tid)
{
  char name[17] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  ps_tw_thread_name((uint32_t)tid, name);
}

static void cpu_write_lost(uint64_t lost)
{
  if (!lost)
    return;
  uint8_t *p = ps_tw_reserve(4 * PS_VARINT_MAX);
  if (!p)
    return;
  struct ps_tbuf *b = ps_tw_current();
  p = ps_tw_rec_start(b, p, PS_REC_LOST, 0);
  p = ps_put_varint(p, lost);
  ps_tw_commit(p);
}

static void cpu_thread_begin(void)
{
  if (!atomic_load(&cpu_on) || cpu_tls)
    return;
  atomic_fetch_add(&cpu_threads_seen, 1);
  struct cpu_thread *t = cpu_slot_claim();
  if (!t) {
    atomic_fetch_add(&cpu_unsampled_threads, 1);
    return;
  }
  t->tid = cpu_gettid();
  t->in_handler = t->in_loader = 0;
  t->samples = t->lost = t->degraded = 0;
  atomic_store(&t->busy, 0);
  cpu_write_thread_name(t->tid); /* also maps the thread's trace buffer, outside the handler */
  cpu_tls = t;
  atomic_store(&t->state, CPU_T_LIVE);
  if (cpu_engine_start(t, &cpu_cfg) < 0) {
    atomic_fetch_add(&cpu_unsampled_threads, 1);
    cpu_tls = NULL;
    atomic_store(&t->state, CPU_T_FREE);
  } else if (t->engine != cpu_engine_kind()) {
    /* this thread alone fell back (e.g. out of descriptors): "fallback: <tid>" */
    char text[48] = "fallback: timer_create for thread ";
    char *p = text + strlen(text), tmp[16];
    unsigned v = (unsigned)t->tid;
    int k = 0;
    do
      tmp[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 15);
    while (k)
      *p++ = tmp[--k];
    *p = 0;
    ps_tw_note(PS_NOTE_INFO, text);
  }
}

/* Stops t's clock (any thread may call it) and returns the samples it lost. The caller writes
 * them: the exiting thread into its own buffer, the shutdown path into its own. */
static uint64_t cpu_thread_finish(struct cpu_thread *t)
{
  int expect = CPU_T_LIVE;
  if (!atomic_compare_exchange_strong(&t->state, &expect, CPU_T_CLOSING))
    return 0;
  uint64_t due = cpu_engine_stop(t, &cpu_cfg);
  for (int spin = 0; atomic_load(&t->busy) && spin < 100000; spin++)
    sched_yield();
  uint64_t lost = t->lost + (due > t->samples + t->lost ? due - t->samples - t->lost : 0);
  atomic_store(&t->state, CPU_T_FREE);
  return lost;
}

static void cpu_thread_end(void *unused)
{
  struct cpu_thread *t = cpu_tls;
  if (!t)
    return;
  pid_t tid = t->tid;
  cpu_tls = NULL; /* a signal still pending now finds no slot and is dropped */
  uint64_t lost = cpu_thread_finish(t); /* t may be reused by a new thread from here on */
  cpu_write_thread_name(tid);          /* the name it ended with */
  cpu_write_lost(lost);
}

/* ---- pthread_create ------------------------------------------------------------------------- */
struct cpu_start {
  void *(*fn)(void *);
  void *arg;
  _Atomic int used;
};
#define CPU_NSTARTS 512
static struct cpu_start cpu_starts[CPU_NSTARTS];

static void *cpu_trampoline(void *p)
{
  struct cpu_start *s = p;
  void *(*fn)(void *) = s->fn;
  void *arg = s->arg;
  if (s >= cpu_starts && s < cpu_starts + CPU_NSTARTS)
    atomic_store(&s->used, 0);
  else
    munmap(s, sizeof *s);
  cpu_thread_begin();
  void *ret;
  pthread_cleanup_push(cpu_thread_end, NULL);
  ret = fn(arg);
  pthread_cleanup_pop(1);
  return ret;
}

CPU_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                              void *arg)
{
  if (!real_pthread_create)
    real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
  if (!atomic_load(&cpu_on))
    return real_pthread_create(th, attr, fn, arg);
  struct cpu_start *s = NULL;
  for (size_t i = 0; i < CPU_NSTARTS && !s; i++) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&cpu_starts[i].used, &expect, 1))
      s = &cpu_starts[i];
  }
  if (!s) {
    void *m = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
      return real_pthread_create(th, attr, fn, arg);
    s = m;
  }
  s->fn = fn;
  s->arg = arg;
  int r = real_pthread_create(th, attr, cpu_trampoline, s);
  if (r != 0) {
    if (s >= cpu_starts && s < cpu_starts + CPU_NSTARTS)
      atomic_store(&s->used, 0);
    else
      munmap(s, sizeof *s);
  }
  return r;
}

CPU_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
  if (!real_setname)
    real_setname = dlsym(RTLD_NEXT, "pthread_setname_np");
  int r = real_setname(th, name);
  if (r == 0 && atomic_load(&cpu_on) && pthread_equal(th, pthread_self()) && cpu_tls)
    cpu_write_thread_name(cpu_tls->tid);
  return r;
}

/* ---- the dynamic loader ----------------------------------------------------------------------- */
CPU_EXPORT void *dlopen(const char *file, int mode)
{
  if (!real_dlopen)
    real_dlopen = dlsym(RTLD_NEXT, "dlopen");
  struct cpu_thread *t = cpu_tls;
  if (t)
    t->in_loader++;
  void *h = real_dlopen(file, mode);
  if (t)
    t->in_loader--;
  if (h && atomic_load(&cpu_on))
    ps_modmap_sync();
  return h;
}

CPU_EXPORT int dlclose(void *h)
{
  if (!real_dlclose)
    real_dlclose = dlsym(RTLD_NEXT, "dlclose");
  struct cpu_thread *t = cpu_tls;
  if (t)
    t->in_loader++;
  int r = real_dlclose(h);
  if (t)
    t->in_loader--;
  if (r == 0 && atomic_load(&cpu_on))
    ps_modmap_sync();
  return r;
}

CPU_EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
  if (!cpu_real_dl_iterate_phdr)
    cpu_real_dl_iterate_phdr = dlsym(RTLD_NEXT, "dl_iterate_phdr");
  struct cpu_thread *t = cpu_tls;
  if (t)
    t->in_loader++;
  int r = cpu_real_dl_iterate_phdr(cb, data);
  if (t)
    t->in_loader--;
  return r;
}

/* ---- exec: disarm the thread's clock first, so no sample signal can be pending across exec
 * (the new image would start with the default action of SIGPROF: terminate). Re-armed when exec
 * fails. glibc's exec* call execve internally (not interposable), hence one wrapper each. -- */
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);

static void cpu_before_exec(void)
{
  struct cpu_thread *t = cpu_tls;
  if (!t || !atomic_load(&cpu_on))
    return;
  cpu_tls = NULL;
  uint64_t lost = cpu_thread_finish(t);
  cpu_write_lost(lost);
  ps_tw_flush_self();
}

static void cpu_after_failed_exec(void)
{
  if (atomic_load(&cpu_on) && !cpu_tls)
    cpu_thread_begin();
}

CPU_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
  if (!real_execve)
    real_execve = dlsym(RTLD_NEXT, "execve");
  cpu_before_exec();
  int r = real_execve(path, argv, envp);
  int e = errno;
  cpu_after_failed_exec();
  errno = e;
  return r;
}

CPU_EXPORT int execv(const char *path, char *const argv[])
{
  return execve(path, argv, environ);
}

CPU_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
  if (!real_execvpe)
    real_execvpe = dlsym(RTLD_NEXT, "execvpe");
  cpu_before_exec();
  int r = real_execvpe(file, argv, envp);
  int e = errno;
  cpu_after_failed_exec();
  errno = e;
  return r;
}

CPU_EXPORT int execvp(const char *file, char *const argv[])
{
  return execvpe(file, argv, environ);
}

#define CPU_EXECL_MAX 4096
enum { CPU_EXECL, CPU_EXECLP, CPU_EXECLE };

/* execl-style arguments (at most CPU_EXECL_MAX, else E2BIG) into an argv on the stack. */
static int cpu_execl_va(int kind, const char *path, const char *arg, va_list ap)
{
  char *argv[CPU_EXECL_MAX + 1];
  size_t n = 1;
  argv[0] = (char *)arg;
  while (n < CPU_EXECL_MAX && (argv[n] = va_arg(ap, char *)) != NULL)
    n++;
  if (n == CPU_EXECL_MAX) {
    errno = E2BIG;
    return -1;
  }
  if (kind == CPU_EXECLE)
    return execve(path, argv, va_arg(ap, char *const *));
  return kind == CPU_EXECLP ? execvpe(path, argv, environ) : execve(path, argv, environ);
}

CPU_EXPORT int execl(const char *path, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  int r = cpu_execl_va(CPU_EXECL, path, arg, ap);
  va_end(ap);
  return r;
}

CPU_EXPORT int execlp(const char *file, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  int r = cpu_execl_va(CPU_EXECLP, file, arg, ap);
  va_end(ap);
  return r;
}

CPU_EXPORT int execle(const char *path, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  int r = cpu_execl_va(CPU_EXECLE, path, arg, ap);
  va_end(ap);
  return r;
}

/* ---- process lifetime ------------------------------------------------------------------------ */
static void cpu_write_engine(void)
{
  char text[200];
  const char *name = cpu_engine_kind() == CPU_ENGINE_PERF ? "perf_event" : "timer_create";
  const char *why = cpu_engine_reason();
  size_t k = strlen(name);
  memcpy(text, name, k);
  if (why[0]) {
    text[k++] = ':';
    size_t n = strlen(why);
    if (n > sizeof text - k - 1)
      n = sizeof text - k - 1;
    memcpy(text + k, why, n);
    k += n;
  }
  text[k] = 0;
  ps_tw_note(PS_NOTE_ENGINE, text);
}

static void cpu_atfork_child(void)
{
  if (!atomic_load(&cpu_on))
    return;
  unsigned n = atomic_load(&cpu_nslots);
  for (unsigned i = 0; i < n; i++) { /* the parent's threads do not exist here */
    struct cpu_thread *t = atomic_load(&cpu_slots[i]);
    if (!t)
      continue;
    if (t->fd >= 0)
      close(t->fd);
    t->fd = -1;
    t->have_timer = 0; /* timers are not inherited */
    atomic_store(&t->busy, 0);
    atomic_store(&t->state, CPU_T_FREE);
  }
  cpu_tls = NULL;
  atomic_store(&cpu_threads_seen, 0);
  atomic_store(&cpu_unsampled_threads, 0);
  ps_tw_after_fork_child();
  if (!ps_tw_enabled()) {
    atomic_store(&cpu_on, 0);
    return;
  }
  ps_stack_table_reset();
  ps_modmap_reset();
  ps_modmap_sync();
  cpu_thread_begin();
  cpu_write_engine();
}

__attribute__((constructor)) static void cpu_init(void)
{
  struct ps_probe_config pc;
  ps_config_read(&pc);
  if (pc.cpu_mode == CPU_MODE_OFF || !pc.trace_dir)
    return;
  cpu_cfg.mode = (enum cpu_mode)pc.cpu_mode;
  cpu_cfg.freq = pc.cpu_freq;
  cpu_cfg.signo = pc.cpu_signal;
  if (cpu_cfg.signo == SIGKILL || cpu_cfg.signo == SIGSTOP || cpu_cfg.signo == SIGSEGV ||
      cpu_cfg.signo == SIGBUS || cpu_cfg.signo > SIGRTMAX)
    cpu_cfg.signo = SIGPROF;
  cpu_cfg.depth = pc.depth > CPU_MAX_DEPTH ? CPU_MAX_DEPTH : pc.depth;
  const char *e = getenv("PERFSWEEP_CPU_ENGINE");
  cpu_cfg.force_timer = e && !strcmp(e, "timer");
  /* sigtrap: the perf_event overflow as SIGTRAP (cheaper to deliver); SIGTRAP becomes our signal,
   * the target's own SIGTRAP handler is chained like for any sampling signal */
  cpu_cfg.sigtrap = e && !strcmp(e, "sigtrap") && cpu_cfg.mode != CPU_MODE_WALL;
  if (cpu_cfg.sigtrap)
    cpu_cfg.signo = SIGTRAP;
  real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
  real_dlopen = dlsym(RTLD_NEXT, "dlopen");
  real_dlclose = dlsym(RTLD_NEXT, "dlclose");
  real_setname = dlsym(RTLD_NEXT, "pthread_setname_np");
  cpu_real_dl_iterate_phdr = dlsym(RTLD_NEXT, "dl_iterate_phdr");
  if (!real_pthread_create || !cpu_real_dl_iterate_phdr)
    return;
  if (ps_stack_table_init() < 0)
    return;
  struct ps_tw_config tw = {.kind = PS_TRACE_CPU, .mode = (uint32_t)cpu_cfg.mode,
                            .param = cpu_cfg.freq, .depth = cpu_cfg.depth, .dir = pc.trace_dir};
  if (ps_tw_open(&tw) < 0)
    return; /* an unwritable trace folder: the target runs unprofiled */
  uintptr_t lo, hi;
  if (ps_modmap_range_of((uintptr_t)cpu_init, &lo, &hi) == 0) {
    ps_unwind_set_skip_range(lo, hi);
    cpu_handler_self_range(lo, hi);
  }
  if (cpu_handler_install(&cpu_cfg) < 0)
    return;
  ps_tw_install_crash_handlers();
  pthread_atfork(NULL, NULL, cpu_atfork_child);
  ps_modmap_sync();
  atomic_store(&cpu_on, 1);
  cpu_thread_begin();
  cpu_write_engine();
}

__attribute__((destructor)) static void cpu_fini(void)
{
  if (!atomic_exchange(&cpu_on, 0))
    return;
  uint64_t lost = 0;
  unsigned n = atomic_load(&cpu_nslots);
  for (unsigned i = 0; i < n; i++) {
    struct cpu_thread *t = atomic_load(&cpu_slots[i]);
    if (t && atomic_load(&t->state) == CPU_T_LIVE)
      lost += cpu_thread_finish(t);
  }
  cpu_handler_enable(0);
  cpu_tls = NULL;
  /* threads that could not be sampled at all (EMFILE on both engines, slot table full) */
  uint64_t unsampled = atomic_load(&cpu_unsampled_threads);
  if (unsampled) {
    char text[64] = "threads not sampled: ";
    char *p = text + strlen(text);
    char tmp[24];
    int k = 0;
    do
      tmp[k++] = (char)('0' + unsampled % 10);
    while ((unsampled /= 10));
    while (k)
      *p++ = tmp[--k];
    *p = 0;
    ps_tw_note(PS_NOTE_INFO, text);
  }
  cpu_write_lost(lost);
  ps_modmap_sync();
  ps_tw_shutdown();
}
