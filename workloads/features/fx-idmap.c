/* fx-idmap.c - open addressing with linear probing; INT64_MIN marks a free slot (ids that
 * reach here are validated positive). Grows at 50% load.
 */
#include "fx-idmap.h"

#include <stdio.h>
#include <stdlib.h>

#include "exit-codes.h"

#define FREE_SLOT INT64_MIN

static inline size_t slot(int64_t id, size_t cap)
{
  uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
  return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static void grow_to(struct fx_idmap *m, size_t cap)
{
  struct fx_idmap_slot *slots = malloc(cap * sizeof *slots);
  if (!slots) {
    fprintf(stderr, "perfsweep-features: error: out of memory for an id index of %zu slots; "
                    "use a smaller --scale\n", cap);
    exit(PS_EXIT_ENVIRONMENT);
  }
  for (size_t i = 0; i < cap; i++)
    slots[i].key = FREE_SLOT;
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].key == FREE_SLOT)
      continue;
    size_t s = slot(m->slots[i].key, cap);
    while (slots[s].key != FREE_SLOT)
      s = (s + 1) & (cap - 1);
    slots[s] = m->slots[i];
  }
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
}

static void grow(struct fx_idmap *m) { grow_to(m, m->cap ? m->cap * 2 : 1024); }

void fx_idmap_reserve(struct fx_idmap *m, size_t n)
{
  size_t cap = m->cap ? m->cap : 1024;
  while (cap < 2 * n + 2)
    cap *= 2;
  if (cap > m->cap)
    grow_to(m, cap);
}

int fx_idmap_put(struct fx_idmap *m, int64_t id, uint32_t val, uint32_t *old)
{
  if ((m->n + 1) * 2 > m->cap)
    grow(m);
  size_t s = slot(id, m->cap);
  while (m->slots[s].key != FREE_SLOT) {
    if (m->slots[s].key == id) {
      if (old)
        *old = m->slots[s].val;
      return 0;
    }
    s = (s + 1) & (m->cap - 1);
  }
  m->slots[s].key = id;
  m->slots[s].val = val;
  m->n++;
  return 1;
}

uint32_t fx_idmap_get(const struct fx_idmap *m, int64_t id)
{
  if (!m->cap)
    return FX_IDMAP_NONE;
  size_t s = slot(id, m->cap);
  while (m->slots[s].key != FREE_SLOT) {
    if (m->slots[s].key == id)
      return m->slots[s].val;
    s = (s + 1) & (m->cap - 1);
  }
  return FX_IDMAP_NONE;
}

void fx_idmap_free(struct fx_idmap *m)
{
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}
