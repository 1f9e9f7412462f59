/* alloc-live.c - live block map of the allocation analysis (see alloc-live.h). */
#include "alloc-live.h"

#include <stdlib.h>

#include "util.h"

static size_t slot_of(uint64_t ptr, size_t cap) { return (size_t)((ptr >> 4) * 0x9e3779b97f4a7c15ull >> 17) & (cap - 1); }

static void grow(struct alloc_live *m)
{
  size_t cap = m->cap ? m->cap * 2 : 4096;
  struct alloc_block *s = ps_xcalloc(cap, sizeof *s);
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->slots[i].ptr)
      continue;
    size_t j = slot_of(m->slots[i].ptr, cap);
    while (s[j].ptr)
      j = (j + 1) & (cap - 1);
    s[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = s;
  m->cap = cap;
}

void alloc_live_put(struct alloc_live *m, const struct alloc_block *b, struct alloc_block *old)
{
  old->ptr = 0;
  if ((m->n + 1) * 4 > m->cap * 3)
    grow(m);
  size_t j = slot_of(b->ptr, m->cap);
  while (m->slots[j].ptr) {
    if (m->slots[j].ptr == b->ptr) {
      *old = m->slots[j];
      m->slots[j] = *b;
      return;
    }
    j = (j + 1) & (m->cap - 1);
  }
  m->slots[j] = *b;
  m->n++;
}

int alloc_live_take(struct alloc_live *m, uint64_t ptr, struct alloc_block *out)
{
  if (!m->cap)
    return 0;
  size_t j = slot_of(ptr, m->cap);
  while (m->slots[j].ptr && m->slots[j].ptr != ptr)
    j = (j + 1) & (m->cap - 1);
  if (!m->slots[j].ptr)
    return 0;
  *out = m->slots[j];
  /* backward-shift deletion keeps probe chains intact without tombstones */
  size_t i = j;
  for (;;) {
    m->slots[i].ptr = 0;
    size_t k = i;
    for (;;) {
      k = (k + 1) & (m->cap - 1);
      if (!m->slots[k].ptr) {
        m->n--;
        return 1;
      }
      size_t home = slot_of(m->slots[k].ptr, m->cap);
      /* can the entry at k move to i? yes when home is not in (i, k] cyclically */
      if ((i <= k) ? (home <= i || home > k) : (home <= i && home > k))
        break;
    }
    m->slots[i] = m->slots[k];
    i = k;
  }
}

void alloc_live_free(struct alloc_live *m)
{
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}
