/* alloc-live.h - the analysis' map of live blocks (address -> size, stack, weight): open
 * addressing with backward-shift deletion, so memory follows the number of live blocks, never
 * the number of events.
 */
#ifndef PERFSWEEP_ALLOC_LIVE_H
#define PERFSWEEP_ALLOC_LIVE_H

#include <stddef.h>
#include <stdint.h>

struct alloc_block {
  uint64_t ptr;     /* 0 = empty slot */
  uint64_t size;
  uint32_t stack;   /* index of the stack aggregate */
  float weight;     /* 1 in exact mode; 1/p(Z) in sample mode */
};

struct alloc_live {
  struct alloc_block *slots;
  size_t cap, n;
};

/* Inserts (or replaces) a block. Never fails (dies on memory exhaustion). Returns the replaced
 * block's copy in *old (old->ptr == 0 when there was none). */
void alloc_live_put(struct alloc_live *m, const struct alloc_block *b, struct alloc_block *old);
/* Removes ptr; returns 1 and the block in *out, or 0 when unknown. */
int alloc_live_take(struct alloc_live *m, uint64_t ptr, struct alloc_block *out);
void alloc_live_free(struct alloc_live *m);

#endif
