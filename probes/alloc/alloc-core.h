/* alloc-core.h - the allocation tracer's core verbs, called by the interposition shim
 * (preload.c) after a real allocation succeeded or before a real free.
 *
 * Never: malloc, stdio, locks the target may hold. Callers hold the thread's re-entrancy guard,
 * so allocations made while recording (libunwind, the loader) are never recorded themselves.
 */
#ifndef PERFSWEEP_ALLOC_CORE_H
#define PERFSWEEP_ALLOC_CORE_H

#include <stddef.h>
#include <stdint.h>

/* 0 off (pass-through), 1 exact, 2 sample. Set once by ps_alloc_init. */
extern int ps_alloc_mode;

/* Sample mode's per-thread byte countdown to the next sample (0 = not drawn yet). It is also
 * what makes malloc's fast path need no test of the mode: it stays 0 in exact mode and before
 * the start (every malloc takes the recording way), and with tracing off the shim sets it to
 * PS_ALLOC_LEFT_OFF (no allocation ever reaches 0 from there). */
extern __thread int64_t ps_alloc_t_left __attribute__((tls_model("initial-exec")));
#define PS_ALLOC_LEFT_OFF ((int64_t)1 << 62)

/* The fast path, inlined into the shim: 1 when an allocation of size bytes is not sampled (it
 * only counts down); 0 when the caller must decide. The countdown is never negative, so one
 * unsigned comparison covers every size. */
static inline int ps_alloc_skip_sample(size_t size)
{
  uint64_t left = (uint64_t)ps_alloc_t_left;
  if (__builtin_expect(size < left, 1)) {
    ps_alloc_t_left = (int64_t)(left - size);
    return 1;
  }
  return 0;
}

/* Reads the environment, opens the trace, records the module map. Idempotent. */
void ps_alloc_init(void);
/* At exit: flushes every buffer, marks the trace complete. */
void ps_alloc_fini(void);

/* ip0/sp0: the return address into the caller of the allocation function and the caller's stack
 * pointer (frame address of the interposed function + 16); they key the unwinding cache. */
void ps_alloc_on_alloc(unsigned fn, size_t size, void *ptr, uintptr_t ip0, uintptr_t sp0);
void ps_alloc_on_free(unsigned fn, void *ptr);
/* old: the block passed to realloc; ret: the result; seq_before: ps_tw_next_seq() taken before
 * the real call (the old block was freed then). */
void ps_alloc_on_realloc(unsigned fn, void *old, size_t size, void *ret, uint64_t seq_before,
                         uintptr_t ip0, uintptr_t sp0);
/* Module map changed (after dlopen/dlclose returned). */
void ps_alloc_on_modules(void);
/* Before exec: the new image starts a new trace; flush ours. */
void ps_alloc_on_exec(void);
/* Before pthread_create/pthread_join: the caller's buffer goes to the file now, so its records
 * do not wait there, behind everything the other threads write, until it is full or ends. */
void ps_alloc_on_thread_boundary(void);

#endif
