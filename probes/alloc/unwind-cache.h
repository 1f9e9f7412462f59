/* unwind-cache.h - the allocation tracer's per-thread unwinding cache: a call from the same
 * return address with the same caller stack pointer, whose return-address slots up the stack all
 * still hold the same return addresses, has the same stack (each frame's CFA is the address of its
 * return-address slot + 8, so equal slots mean equal frames; the one blind spot: a frame with a
 * variable-size frame (alloca) at the same sp). A hit gives the stack's id without libunwind.
 * Defined in alloc-core.c; the lookup is inline for the shim's fast paths (alloc-fast.h).
 */
#ifndef PERFSWEEP_UNWIND_CACHE_H
#define PERFSWEEP_UNWIND_CACHE_H

#include <stdint.h>

#define PS_UC_ENTRIES 256
#define PS_UC_DEPTH 62 /* deeper stacks are never cached; 62 makes an entry 1 KiB */

struct ps_uc_frame {
  uintptr_t slot; /* address of the frame's return-address slot */
  uintptr_t ip;   /* the return address it held */
};

struct ps_uc_ent {
  uintptr_t ip0, sp0;
  uint32_t id, gen;
  uint32_t n, pad;
  struct ps_uc_frame fr[PS_UC_DEPTH]; /* fr[0] is (sp0 - 8, ip0), never looked at again */
};

_Static_assert(sizeof(struct ps_uc_ent) == 1024, "an entry is 1 KiB: the index is a shift");
_Static_assert(PS_UC_ENTRIES == 256, "ps_uc_slot takes the top 8 bits of the hash");

/* The calling thread's table (NULL until its first miss maps it) and the generation its entries
 * must carry (bumped in a fork child: the parent's stack ids mean nothing there). */
extern __attribute__((visibility("hidden"))) __thread struct ps_uc_ent *ps_uc_tab
    __attribute__((tls_model("initial-exec")));
extern __attribute__((visibility("hidden"))) uint32_t ps_uc_gen;

/* The entry for (ip0, sp0) in table t. */
static inline __attribute__((always_inline)) struct ps_uc_ent *ps_uc_slot(struct ps_uc_ent *t,
                                                                          uintptr_t ip0,
                                                                          uintptr_t sp0)
{
  uint64_t h = ((uint64_t)ip0 ^ ((uint64_t)sp0 << 16)) * 0x9e3779b97f4a7c15ull;
  return &t[h >> 56]; /* the top 8 bits: PS_UC_ENTRIES == 256 */
}

/* 1 when entry e holds the stack of a call from (ip0, sp0) made now. */
static inline __attribute__((always_inline)) int ps_uc_valid(const struct ps_uc_ent *e,
                                                             uintptr_t ip0, uintptr_t sp0)
{
  if (e->gen != ps_uc_gen || e->ip0 != ip0 || e->sp0 != sp0)
    return 0;
  for (const struct ps_uc_frame *f = e->fr + 1, *end = e->fr + e->n; f < end; f++)
    if (*(const uintptr_t *)f->slot != f->ip)
      return 0;
  return 1;
}

/* The cached entry of the current call's stack, or NULL (no table yet, or a miss). */
static inline __attribute__((always_inline)) const struct ps_uc_ent *ps_uc_hit(uintptr_t ip0,
                                                                               uintptr_t sp0)
{
  struct ps_uc_ent *t = ps_uc_tab;
  if (__builtin_expect(!t, 0))
    return 0;
  const struct ps_uc_ent *e = ps_uc_slot(t, ip0, sp0);
  return ps_uc_valid(e, ip0, sp0) ? e : 0;
}

#endif
