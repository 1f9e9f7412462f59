/* preload.c - libperfsweep-alloc.so's interposition shim: every glibc allocation entry point,
 * dlopen/dlclose (module map), exec (flush), pthread_create/pthread_join (flush the caller's
 * buffer), optional mmap/munmap. Finds the real functions with dlsym(RTLD_NEXT); a static arena
 * serves the allocations dlsym itself makes while bootstrapping.
 *
 * Never: record before a call succeeded (allocations) or after the real free (frees are recorded
 * before, the address could be reused), recurse (thread-local guard), do anything when off.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc-core.h"
#include "alloc-fast.h"
#include "sample-set.h"
#include "trace-format.h"
#include "trace-writer.h"

#define EXPORT __attribute__((visibility("default")))

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable)(void *);
static void *(*real_dlopen)(const char *, int);
static int (*real_dlclose)(void *);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static int (*real_pthread_join)(pthread_t, void **);

static __thread int t_guard __attribute__((tls_model("initial-exec")));
static int trace_mmap;

/* ---- bootstrap arena: dlsym calls calloc before we know the real one ---- */

static _Alignas(64) uint8_t arena[64 * 1024];
static size_t arena_used;

static int in_arena(const void *p)
{
  return (uintptr_t)p - (uintptr_t)arena < sizeof arena; /* one compare: below arena wraps */
}

static void *arena_alloc(size_t n)
{
  size_t need = ((n + 15) & ~(size_t)15) + 16;
  size_t at = __atomic_fetch_add(&arena_used, need, __ATOMIC_RELAXED);
  if (at + need > sizeof arena)
    return NULL;
  *(size_t *)(arena + at) = n;
  /* marked for good in sample mode's filter: its free fast path then never hands the block to
   * the real free (free() tests the filter before in_arena) */
  __atomic_store_n(&ps_sample_filter[ps_sample_filter_of((uintptr_t)(arena + at + 16))], 255,
                   __ATOMIC_RELAXED);
  return arena + at + 16;
}

static size_t arena_size(const void *p) { return *(const size_t *)((const uint8_t *)p - 16); }

static void resolve(void)
{
  static int resolving;
  if (resolving)
    return;
  resolving = 1;
  int g = t_guard;
  t_guard = 1;
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_reallocarray = dlsym(RTLD_NEXT, "reallocarray");
  real_free = dlsym(RTLD_NEXT, "free");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  real_valloc = dlsym(RTLD_NEXT, "valloc");
  real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
  real_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
  real_dlopen = dlsym(RTLD_NEXT, "dlopen");
  real_dlclose = dlsym(RTLD_NEXT, "dlclose");
  real_mmap = dlsym(RTLD_NEXT, "mmap");
  real_munmap = dlsym(RTLD_NEXT, "munmap");
  real_execve = dlsym(RTLD_NEXT, "execve");
  real_execvpe = dlsym(RTLD_NEXT, "execvpe");
  real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
  real_pthread_join = dlsym(RTLD_NEXT, "pthread_join");
  t_guard = g;
  if (!real_malloc || !real_free || !real_calloc || !real_realloc) {
    static const char msg[] = "libperfsweep-alloc: cannot find the real malloc/free (dlsym "
                              "RTLD_NEXT failed); aborting\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
}

#define ENSURE(fn)                                                                                \
  do {                                                                                            \
    if (__builtin_expect(!(fn), 0))                                                               \
      resolve();                                                                                  \
  } while (0)

/* Initialized at the first allocation (other libraries' constructors run before ours and
 * allocate: libgnutls/libtasn1 under libpq make hundreds of calls) or by the constructor. */
static int init_state; /* 0 not yet, 1 in progress, 2 done */

static void init_now(void)
{
  if (init_state || t_guard)
    return;
  init_state = 1;
  int saved_errno = errno; /* opening the trace, reading the environment and /proc */
  ENSURE(real_malloc);
  t_guard = 1;
  ps_alloc_init();
  if (ps_alloc_mode != 1 && real_free)
    ps_free_filter_use_samples(); /* free's fast path: on for sample mode and tracing off */
  const char *m = getenv("PERFSWEEP_ALLOC_MMAP");
  trace_mmap = m && m[0] == '1';
  t_guard = 0;
  init_state = 2;
  errno = saved_errno;
}

__attribute__((constructor(101))) static void init(void) { init_now(); }

__attribute__((destructor(101))) static void fini(void)
{
  int g = t_guard;
  t_guard = 1;
  ps_alloc_fini();
  t_guard = g;
}

/* The caller's return address and stack pointer, from this (exported) function's frame: keys of
 * the unwinding cache. __builtin_frame_address(0) makes the compiler keep a frame pointer here. */
#define CALLER_CTX                                                                                \
  uintptr_t fa_ = (uintptr_t)__builtin_frame_address(0);                                          \
  uintptr_t ip0_ = ((const uintptr_t *)fa_)[1], sp0_ = fa_ + 2 * sizeof(uintptr_t)

#define RECORD(call)                                                                              \
  do {                                                                                            \
    if (__builtin_expect(init_state != 2, 0))                                                     \
      init_now();                                                                                 \
    if (ps_alloc_mode && !t_guard) { /* errno: the writer preserves it around its syscalls */      \
      t_guard = 1;                                                                                \
      call;                                                                                       \
      t_guard = 0;                                                                                \
    }                                                                                             \
  } while (0)

/* An inline record (alloc-fast.h) under the re-entrancy guard: a signal handler that allocates
 * in the middle of it is not recorded (as with RECORD) instead of writing into the same bytes.
 * The fences keep the compiler from moving the record's stores out of the guarded span. */
#define FAST_GUARDED(stmt)                                                                        \
  t_guard = 1;                                                                                    \
  __atomic_signal_fence(__ATOMIC_SEQ_CST);                                                        \
  stmt;                                                                                           \
  __atomic_signal_fence(__ATOMIC_SEQ_CST);                                                        \
  t_guard = 0

/* The recording path. malloc reaches it by a tail call, so this frame's return address and
 * frame address are those of malloc's caller: the keys of the unwinding cache. (Were the tail
 * call not made, the cache would only miss: stacks stay right.) */
__attribute__((noinline)) static void *malloc_slow(size_t n)
{
  CALLER_CTX;
  if (__builtin_expect(!real_malloc, 0)) {
    resolve();
    if (!real_malloc)
      return arena_alloc(n);
  }
  void *p = real_malloc(n);
  if (__builtin_expect(p && ps_alloc_mode == 1 && !t_guard, 1)) {
    FAST_GUARDED(int done = ps_alloc_fast_malloc(n, (uintptr_t)p, ip0_, sp0_));
    if (__builtin_expect(done, 1))
      return p; /* the common case, recorded inline (alloc-fast.h) */
  }
  if (ps_alloc_mode == 0 && init_state == 2) {
    ps_alloc_t_left = PS_ALLOC_LEFT_OFF; /* tracing off: this thread's next mallocs go fast */
    return p;
  }
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_MALLOC, n, p, ip0_, sp0_));
  return p;
}

EXPORT void *malloc(size_t n)
{
  /* the fast path, straight to the real allocator (a jump), no frame of ours and no test of
   * the mode: sample mode's countdown, which exact mode keeps at 0 and tracing off far above
   * any size (alloc-core.h) */
  if (ps_alloc_skip_sample(n))
    return real_malloc(n);
  return malloc_slow(n);
}

EXPORT void *calloc(size_t n, size_t size)
{
  CALLER_CTX;
  if (__builtin_expect(!real_calloc, 0)) {
    resolve();
    if (!real_calloc) {
      size_t total;
      if (__builtin_mul_overflow(n, size, &total))
        return NULL;
      return arena_alloc(total); /* static memory is already zero */
    }
  }
  void *p = real_calloc(n, size);
  if (ps_alloc_mode == 2 && ps_alloc_skip_sample(n * size))
    return p;
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_CALLOC, n * size, p, ip0_, sp0_));
  return p;
}

__attribute__((noinline)) static void free_slow(void *p)
{
  if (__builtin_expect(ps_alloc_mode == 1 && !t_guard, 1)) {
    FAST_GUARDED(int done = ps_alloc_fast_free((uintptr_t)p));
    if (__builtin_expect(done, 1)) {
      real_free(p); /* exact mode's common case, recorded inline (alloc-fast.h) */
      return;
    }
  }
  ENSURE(real_free);
  if (ps_alloc_mode != 2 || ps_sample_maybe((uintptr_t)p))
    RECORD(ps_alloc_on_free(PS_FN_FREE, p));
  real_free(p);
}

EXPORT void free(void *p)
{
  /* the fast path, a jump to the real free with no test of the mode: in sample mode and with
   * tracing off, a block that is not a live sampled one; the filter says "maybe" for every block
   * of the start-up arena (arena_alloc marks them), and for every block in exact mode and until
   * the start (sample-set.h) */
  if (!ps_free_maybe((uintptr_t)p)) {
    real_free(p);
    return;
  }
  if (!p || in_arena(p))
    return;
  free_slow(p);
}

static void *do_realloc(unsigned fn, void *old, size_t n, size_t size, uintptr_t ip0,
                        uintptr_t sp0)
{
  if (old && in_arena(old)) {
    void *p = malloc(n * size);
    if (p) {
      size_t was = arena_size(old);
      memcpy(p, old, was < n * size ? was : n * size);
    }
    return p;
  }
  ENSURE(real_realloc);
  uint64_t seq = ps_alloc_mode && old ? ps_tw_next_seq() : 0;
  /* glibc's reallocarray calls realloc (through the PLT, so our realloc): one call, one record */
  int g = t_guard;
  if (fn == PS_FN_REALLOCARRAY)
    t_guard = 1;
  void *p = fn == PS_FN_REALLOC ? real_realloc(old, n) : real_reallocarray(old, n, size);
  t_guard = g;
  size_t bytes = fn == PS_FN_REALLOC ? n : n * size;
  if (p || (old && bytes == 0))
    RECORD(ps_alloc_on_realloc(fn, old, bytes, p, seq, ip0, sp0));
  return p;
}

EXPORT void *realloc(void *old, size_t n)
{
  CALLER_CTX;
  return do_realloc(PS_FN_REALLOC, old, n, 1, ip0_, sp0_);
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
  ENSURE(real_reallocarray);
  if (!real_reallocarray) {
    errno = ENOMEM;
    return NULL;
  }
  CALLER_CTX;
  return do_realloc(PS_FN_REALLOCARRAY, old, n, size, ip0_, sp0_);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
  CALLER_CTX;
  ENSURE(real_posix_memalign);
  int r = real_posix_memalign(out, align, n);
  if (r == 0)
    RECORD(ps_alloc_on_alloc(PS_FN_POSIX_MEMALIGN, n, *out, ip0_, sp0_));
  return r;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
  CALLER_CTX;
  ENSURE(real_aligned_alloc);
  void *p = real_aligned_alloc(align, n);
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_ALIGNED_ALLOC, n, p, ip0_, sp0_));
  return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
  CALLER_CTX;
  ENSURE(real_memalign);
  void *p = real_memalign(align, n);
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_MEMALIGN, n, p, ip0_, sp0_));
  return p;
}

EXPORT void *valloc(size_t n)
{
  CALLER_CTX;
  ENSURE(real_valloc);
  void *p = real_valloc(n);
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_VALLOC, n, p, ip0_, sp0_));
  return p;
}

EXPORT void *pvalloc(size_t n)
{
  CALLER_CTX;
  ENSURE(real_pvalloc);
  void *p = real_pvalloc(n);
  if (p)
    RECORD(ps_alloc_on_alloc(PS_FN_PVALLOC, n, p, ip0_, sp0_));
  return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
  if (!p)
    return 0;
  if (in_arena(p))
    return arena_size(p);
  ENSURE(real_usable);
  return real_usable ? real_usable(p) : 0;
}

/* ---- module map: dlopen / dlclose ---- */

EXPORT void *dlopen(const char *file, int mode)
{
  ENSURE(real_dlopen);
  void *h = real_dlopen(file, mode);
  int saved_errno = errno;
  if (h)
    RECORD(ps_alloc_on_modules());
  errno = saved_errno;
  return h;
}

EXPORT int dlclose(void *h)
{
  ENSURE(real_dlclose);
  int r = real_dlclose(h);
  int saved_errno = errno;
  if (r == 0)
    RECORD(ps_alloc_on_modules());
  errno = saved_errno;
  return r;
}

/* ---- optional mmap/munmap (PERFSWEEP_ALLOC_MMAP=1): anonymous mappings only ---- */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  CALLER_CTX;
  ENSURE(real_mmap);
  void *p = real_mmap(addr, len, prot, flags, fd, off);
  if (trace_mmap && p != MAP_FAILED && (flags & MAP_ANONYMOUS))
    RECORD(ps_alloc_on_alloc(PS_FN_MMAP, len, p, ip0_, sp0_));
  return p;
}

EXPORT int munmap(void *addr, size_t len)
{
  ENSURE(real_munmap);
  if (trace_mmap)
    RECORD(ps_alloc_on_free(PS_FN_MUNMAP, addr));
  return real_munmap(addr, len);
}

/* ---- threads: a thread that starts or waits for others writes out its records first ----
 * A buffer goes to the file when it is full or its thread ends, so the few records of a main
 * thread that allocates, starts workers and waits for them would come last in the file although
 * their seqs come first: a reader that unpacks a packed trace in file order while it merges by
 * seq (trace-pack-stream.c) would then wait for the whole file before merging anything. */

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg)
{
  ENSURE(real_pthread_create);
  if (!real_pthread_create)
    return EAGAIN;
  RECORD(ps_alloc_on_thread_boundary());
  return real_pthread_create(th, attr, fn, arg);
}

EXPORT int pthread_join(pthread_t th, void **ret)
{
  ENSURE(real_pthread_join);
  if (!real_pthread_join)
    return ESRCH;
  RECORD(ps_alloc_on_thread_boundary());
  return real_pthread_join(th, ret);
}

/* ---- _exit skips destructors: flush first ---- */

EXPORT void _exit(int status)
{
  RECORD(ps_alloc_on_exec());
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

EXPORT void _Exit(int status) { _exit(status); }

/* ---- exec: the new image writes its own trace (the environment is inherited) ---- */

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
  ENSURE(real_execve);
  RECORD(ps_alloc_on_exec());
  return real_execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
  extern char **environ;
  return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
  ENSURE(real_execvpe);
  RECORD(ps_alloc_on_exec());
  return real_execvpe(file, argv, envp);
}

EXPORT int execvp(const char *file, char *const argv[])
{
  extern char **environ;
  return execvpe(file, argv, environ);
}
