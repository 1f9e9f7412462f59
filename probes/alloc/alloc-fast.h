/* alloc-fast.h - exact mode's two common events written inline by the shim, with no call of
 * ours in between: a malloc whose stack is in the unwinding cache, and a free, each as a compact
 * record (PS_REC_MALLOC_C / PS_REC_FREE_C) straight into the thread's buffer. The bytes are the
 * same as alloc-core.c's general path writes. Anything else (a cache miss, no buffer yet, a full
 * buffer, an address too far from the chunk's last, tracing off or shutting down) returns 0
 * having written nothing, and the caller takes the general path (RECORD → alloc-core.c).
 *
 * Callers check ps_alloc_mode == 1 and that the thread is not inside the tracer (t_guard).
 */
#ifndef PERFSWEEP_ALLOC_FAST_H
#define PERFSWEEP_ALLOC_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "trace-format.h"
#include "trace-writer.h"
#include "unwind-cache.h"

/* The most a compact record takes: type byte, seq delta, size, aptr, stack id. */
#define PS_ALLOC_FAST_MAX (4 * PS_VARINT_MAX + 1)

/* Claims the thread's buffer b when ptr can be written as an aptr and b has room; returns the
 * write position or NULL (nothing claimed). b->last_ptr is the owner's own: read before the
 * claim. */
static inline __attribute__((always_inline)) uint8_t *ps_alloc_fast_claim(struct ps_tbuf *b,
                                                                          uintptr_t ptr)
{
  if (__builtin_expect(!ps_aptr_ok(ptr - b->last_ptr), 0))
    return NULL;
  return ps_tw_try_reserve_hot(b, PS_ALLOC_FAST_MAX);
}

/* A malloc(size) that returned ptr, called from (ip0, sp0): 1 when recorded here. */
static inline __attribute__((always_inline)) int ps_alloc_fast_malloc(size_t size, uintptr_t ptr,
                                                                      uintptr_t ip0, uintptr_t sp0)
{
  const struct ps_uc_ent *e = ps_uc_hit(ip0, sp0);
  struct ps_tbuf *b = ps_tw_tbuf;
  if (__builtin_expect(!e || !b, 0))
    return 0;
  uint8_t *p = ps_alloc_fast_claim(b, ptr);
  if (__builtin_expect(!p, 0))
    return 0;
  p = ps_tw_rec_start_c(b, p, PS_REC_MALLOC_C);
  p = ps_put_varint(p, size);
  p = ps_put_varint(p, ps_aptr_encode(ptr - b->last_ptr));
  b->last_ptr = ptr;
  p = ps_put_varint(p, e->id);
  ps_tw_commit_claimed(b, p);
  return 1;
}

/* A free(ptr) about to be made: 1 when recorded here. */
static inline __attribute__((always_inline)) int ps_alloc_fast_free(uintptr_t ptr)
{
  struct ps_tbuf *b = ps_tw_tbuf;
  if (__builtin_expect(!b, 0))
    return 0;
  uint8_t *p = ps_alloc_fast_claim(b, ptr);
  if (__builtin_expect(!p, 0))
    return 0;
  p = ps_tw_rec_start_c(b, p, PS_REC_FREE_C);
  p = ps_put_varint(p, ps_aptr_encode(ptr - b->last_ptr));
  b->last_ptr = ptr;
  ps_tw_commit_claimed(b, p);
  return 1;
}

#endif
