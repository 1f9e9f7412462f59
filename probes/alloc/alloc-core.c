/* alloc-core.c - records allocation events into the trace: exact mode (every event with its
 * stack) and sample mode (Poisson byte sampling: a block of size Z is recorded with probability
 * 1 - exp(-Z/R); only the frees of recorded blocks are recorded).
 *
 * Never: malloc, stdio, locks the target may hold. Called with the shim's re-entrancy guard set.
 */
#include "alloc-core.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "modmap.h"
#include "sample-set.h"
#include "stack-table.h"
#include "trace-format.h"
#include "trace-writer.h"
#include "unwind.h"
#include "unwind-cache.h"

int ps_alloc_mode;

static struct ps_probe_config cfg;
static int inited;
__thread int64_t ps_alloc_t_left __attribute__((tls_model("initial-exec")));
#define t_left ps_alloc_t_left
static __thread uint64_t t_rng __attribute__((tls_model("initial-exec")));

/* ---- unwinding cache (unwind-cache.h) ---- */

__thread struct ps_uc_ent *ps_uc_tab __attribute__((tls_model("initial-exec")));
static __thread int t_uc_failed __attribute__((tls_model("initial-exec")));
uint32_t ps_uc_gen = 1;

/* Maps the calling thread's cache; NULL (for good) when that fails. */
static __attribute__((noinline)) struct ps_uc_ent *uc_map(void)
{
  if (!ps_uc_tab) {
    if (t_uc_failed)
      return NULL;
    int saved_errno = errno;
    void *m = mmap(NULL, PS_UC_ENTRIES * sizeof(struct ps_uc_ent), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    errno = saved_errno;
    if (m == MAP_FAILED) {
      t_uc_failed = 1;
      return NULL;
    }
    ps_uc_tab = m;
  }
  return ps_uc_tab;
}

static inline __attribute__((always_inline)) struct ps_uc_ent *uc_slot(uintptr_t ip0, uintptr_t sp0)
{
  struct ps_uc_ent *t = ps_uc_tab;
  if (__builtin_expect(!t, 0) && !(t = uc_map()))
    return NULL;
  return ps_uc_slot(t, ip0, sp0);
}

static void after_fork_child(void)
{
  ps_uc_gen++;
  if (!ps_alloc_mode)
    return;
  ps_stack_table_reset();
  ps_modmap_reset();
  ps_tw_after_fork_child();
  ps_modmap_sync();
}

void ps_alloc_init(void)
{
  if (inited)
    return;
  inited = 1;
  ps_config_read(&cfg);
  if (!cfg.alloc_mode || !cfg.trace_dir)
    return;
  if (ps_stack_table_init() || (cfg.alloc_mode == 2 && ps_sample_set_init()))
    return;
  struct ps_tw_config tw = {.kind = PS_TRACE_ALLOC, .mode = (uint32_t)cfg.alloc_mode,
                            .param = cfg.alloc_mode == 2 ? cfg.sample_bytes : 0,
                            .depth = cfg.depth, .dir = cfg.trace_dir};
  if (ps_tw_open(&tw))
    return; /* no trace directory or not writable: stay off, the target runs untouched */
  uintptr_t lo, hi;
  if (ps_modmap_range_of((uintptr_t)&ps_alloc_init, &lo, &hi) == 0)
    ps_unwind_set_skip_range(lo, hi);
  ps_modmap_sync();
  ps_tw_install_crash_handlers();
  pthread_atfork(NULL, NULL, after_fork_child);
  ps_alloc_mode = cfg.alloc_mode;
}

void ps_alloc_fini(void)
{
  if (ps_alloc_mode)
    ps_tw_shutdown();
}

void ps_alloc_on_modules(void)
{
  if (ps_alloc_mode)
    ps_modmap_sync();
}

void ps_alloc_on_exec(void)
{
  if (ps_alloc_mode)
    ps_tw_shutdown();
}

void ps_alloc_on_thread_boundary(void)
{
  if (ps_alloc_mode)
    ps_tw_flush_self();
}

/* ---- sample mode ---- */

static double uniform01(void)
{
  if (!t_rng)
    t_rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)syscall(SYS_gettid) << 17) ^ (uint64_t)(uintptr_t)&t_rng;
  t_rng ^= t_rng << 13;
  t_rng ^= t_rng >> 7;
  t_rng ^= t_rng << 17;
  return ((double)(t_rng >> 11) + 0.5) / 9007199254740992.0; /* (0,1) */
}

static int64_t next_interval(void) { return (int64_t)(-log(uniform01()) * (double)cfg.sample_bytes) + 1; }

/* 1 when this allocation of size bytes is sampled. */
static int sample_pick(size_t size)
{
  if (t_left == 0)
    t_left = next_interval();
  t_left -= (int64_t)size;
  if (t_left > 0)
    return 0;
  t_left = next_interval();
  return 1;
}

/* ---- recording ---- */

/* Writes one ALLOC/ALLOCS/REALLOC record (and the STACK record first when the stack is new). */
static inline __attribute__((always_inline)) void
write_alloc(unsigned type, unsigned fn, size_t size, uintptr_t ptr, uintptr_t old, int have_old,
            uint32_t id, int is_new, const uintptr_t *ips, int n)
{
  struct ps_tbuf *b;
  uint8_t *p = ps_tw_reserve_hot((is_new ? PS_STACK_REC_MAX(n) : 0) + 6 * PS_VARINT_MAX, &b);
  if (!p)
    return;
  if (is_new)
    p = ps_stack_put_record(b, p, id, ips, (unsigned)n);
  if (have_old) {
    p = ps_tw_rec_start(b, p, PS_REC_REALLOC, fn);
    p = ps_put_varint(p, size);
    p = ps_tw_put_ptr(b, p, old);
    p = ps_tw_put_ptr(b, p, ptr);
  } else if (type == PS_REC_ALLOC && fn == PS_FN_MALLOC && ps_tw_aptr_ok(b, ptr)) {
    p = ps_tw_rec_start_c(b, p, PS_REC_MALLOC_C);
    p = ps_put_varint(p, size);
    p = ps_tw_put_aptr(b, p, ptr);
  } else {
    p = ps_tw_rec_start(b, p, type, fn);
    p = ps_put_varint(p, size);
    p = ps_tw_put_ptr(b, p, ptr);
  }
  p = ps_put_varint(p, id);
  ps_tw_commit_hot(b, p);
}

/* The unwinding-cache miss: unwind, look the stack up, refill the cache entry, record. Out of line
 * so the hit path does not set up its 4 KiB of stack arrays. */
static __attribute__((noinline)) void record_alloc_miss(unsigned type, unsigned fn, size_t size,
                                                        uintptr_t ptr, uintptr_t old, int have_old,
                                                        uintptr_t ip0, uintptr_t sp0,
                                                        struct ps_uc_ent *e)
{
  uintptr_t ips[256], slots[256];
  int n = 0, is_new = 0;
  int saved_errno = errno; /* libunwind may probe memory with syscalls */
  if (e) {
    n = ps_unwind_slots(ips, slots, (int)cfg.depth);
  } else {
    n = ps_unwind_backtrace(ips, (int)cfg.depth);
  }
  errno = saved_errno;
  uint32_t id = ps_stack_id(ips, (unsigned)n, &is_new);
  if (e && n > 0 && n <= PS_UC_DEPTH && ips[0] == ip0 && slots[0] == sp0 - sizeof(uintptr_t)) {
    e->ip0 = ip0;
    e->sp0 = sp0;
    e->id = id;
    e->n = (uint32_t)n;
    for (int i = 0; i < n; i++) {
      e->fr[i].slot = slots[i];
      e->fr[i].ip = ips[i];
    }
    e->gen = ps_uc_gen;
  }
  write_alloc(type, fn, size, ptr, old, have_old, id, is_new, ips, n);
}

static inline __attribute__((always_inline)) void
record_alloc(unsigned type, unsigned fn, size_t size, uintptr_t ptr, uintptr_t old, int have_old,
             uintptr_t ip0, uintptr_t sp0)
{
  struct ps_uc_ent *e = ip0 ? uc_slot(ip0, sp0) : NULL;
  if (__builtin_expect(e && ps_uc_valid(e, ip0, sp0), 1))
    write_alloc(type, fn, size, ptr, old, have_old, e->id, 0, NULL, 0);
  else
    record_alloc_miss(type, fn, size, ptr, old, have_old, ip0, sp0, e);
}

static inline __attribute__((always_inline)) void record_free(unsigned fn, uintptr_t ptr,
                                                              uint64_t seq, int have_seq)
{
  struct ps_tbuf *b;
  uint8_t *p = ps_tw_reserve_hot(4 * PS_VARINT_MAX, &b);
  if (!p)
    return;
  if (!have_seq && fn == PS_FN_FREE && ps_tw_aptr_ok(b, ptr)) {
    p = ps_tw_rec_start_c(b, p, PS_REC_FREE_C);
    p = ps_tw_put_aptr(b, p, ptr);
  } else {
    p = have_seq ? ps_tw_rec_start_at(b, p, PS_REC_FREE, fn, seq)
                 : ps_tw_rec_start(b, p, PS_REC_FREE, fn);
    p = ps_tw_put_ptr(b, p, ptr);
  }
  ps_tw_commit_hot(b, p);
}

void ps_alloc_on_alloc(unsigned fn, size_t size, void *ptr, uintptr_t ip0, uintptr_t sp0)
{
  if (ps_alloc_mode == 1) {
    record_alloc(PS_REC_ALLOC, fn, size, (uintptr_t)ptr, 0, 0, ip0, sp0);
  } else if (sample_pick(size)) {
    ps_sample_set_add((uintptr_t)ptr);
    record_alloc(PS_REC_ALLOCS, fn, size, (uintptr_t)ptr, 0, 0, ip0, sp0);
  }
}

void ps_alloc_on_free(unsigned fn, void *ptr)
{
  if (ps_alloc_mode == 1 || ps_sample_set_take((uintptr_t)ptr))
    record_free(fn, (uintptr_t)ptr, 0, 0);
}

void ps_alloc_on_realloc(unsigned fn, void *old, size_t size, void *ret, uint64_t seq_before,
                         uintptr_t ip0, uintptr_t sp0)
{
  if (ps_alloc_mode == 1) {
    if (ret && ret == old) { /* resized in place */
      record_alloc(PS_REC_ALLOC, fn, size, (uintptr_t)ret, (uintptr_t)old, 1, ip0, sp0);
      return;
    }
    if (old && (ret || size == 0))
      record_free(fn, (uintptr_t)old, seq_before, 1); /* freed inside the real call */
    if (ret)
      record_alloc(PS_REC_ALLOC, fn, size, (uintptr_t)ret, 0, 0, ip0, sp0);
    else if (size == 0 && old) /* realloc(p, 0): a call that only freed */
      record_alloc(PS_REC_ALLOC, fn, 0, 0, 0, 1, ip0, sp0);
    return;
  }
  if (old && ps_sample_set_take((uintptr_t)old))
    record_free(fn, (uintptr_t)old, seq_before, 1);
  if (ret && sample_pick(size)) {
    ps_sample_set_add((uintptr_t)ret);
    record_alloc(PS_REC_ALLOCS, fn, size, (uintptr_t)ret, 0, 0, ip0, sp0);
  }
}
