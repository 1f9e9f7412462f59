/* fx-idmap.c - the id map (see fx-idmap.h). The window starts at the first id put and grows
 * upwards while it stays within 4 slots per entry (at most 16 bytes per entry, less than the
 * hash's 32-64), so consecutive ids cost one 4-byte slot each and a lookup touches one small
 * array. Other ids go to open addressing with linear probing (INT64_MIN marks a free slot; ids
 * that reach here are validated positive), grown at 50% load. An id lives in exactly one of
 * the two: put looks in both before inserting.
 */
#include "fx-idmap.h"

#include <stdio.h>
#include <stdlib.h>

#include "exit-codes.h"

#define FREE_SLOT INT64_MIN

static void *xrealloc(void *p, size_t bytes, const char *what)
{
  void *q = realloc(p, bytes);
  if (!q) {
    fprintf(stderr, "perfsweep-features: error: out of memory for an id index (%s, %zu bytes); "
                    "use a smaller --scale\n", what, bytes);
    exit(PS_EXIT_ENVIRONMENT);
  }
  return q;
}

/* ---- the hash ---- */

static inline size_t slot(int64_t id, size_t cap)
{
  uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
  return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static void grow_to(struct fx_idmap *m, size_t cap)
{
  struct fx_idmap_slot *slots = xrealloc(NULL, cap * sizeof *slots, "hash");
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

static int hash_put(struct fx_idmap *m, int64_t id, uint32_t val, uint32_t *old)
{
  if ((m->n + 1) * 2 > m->cap)
    grow_to(m, m->cap ? m->cap * 2 : 1024);
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

static uint32_t hash_get(const struct fx_idmap *m, int64_t id)
{
  if (!m->n)
    return FX_IDMAP_NONE;
  size_t s = slot(id, m->cap);
  while (m->slots[s].key != FREE_SLOT) {
    if (m->slots[s].key == id)
      return m->slots[s].val;
    s = (s + 1) & (m->cap - 1);
  }
  return FX_IDMAP_NONE;
}

/* ---- the dense window ---- */

/* Makes the window reach id (>= lo) if that keeps it within 4 slots per entry. Returns 1 if
 * id is in the window now. */
static int window_reach(struct fx_idmap *m, int64_t id)
{
  uint64_t off = (uint64_t)id - (uint64_t)m->lo;
  if (off < m->dense_len)
    return 1;
  size_t entries = (m->n_dense > m->hint ? m->n_dense : m->hint) + 1024;
  if (off >= 4 * (uint64_t)entries)
    return 0;
  size_t len = m->dense_len ? m->dense_len : 1024;
  while (len <= off)
    len *= 2;
  if (len > 4 * entries)
    len = 4 * entries;
  m->dense = xrealloc(m->dense, len * sizeof *m->dense, "window");
  for (size_t i = m->dense_len; i < len; i++)
    m->dense[i] = FX_IDMAP_NONE;
  m->dense_len = len;
  return 1;
}

int fx_idmap_put(struct fx_idmap *m, int64_t id, uint32_t val, uint32_t *old)
{
  if (!m->dense && !m->n) /* the first id opens the window */
    m->lo = id;
  if (id >= m->lo && window_reach(m, id)) {
    uint32_t *d = &m->dense[(uint64_t)id - (uint64_t)m->lo];
    uint32_t h = *d == FX_IDMAP_NONE ? hash_get(m, id) : *d; /* put in the hash before the
                                                                window reached it? */
    if (h != FX_IDMAP_NONE) {
      if (old)
        *old = h;
      return 0;
    }
    *d = val;
    m->n_dense++;
    return 1;
  }
  return hash_put(m, id, val, old);
}

void fx_idmap_reserve(struct fx_idmap *m, size_t n)
{
  if (n > m->hint)
    m->hint = n;
}

uint32_t fx_idmap_get(const struct fx_idmap *m, int64_t id)
{
  uint64_t off = (uint64_t)id - (uint64_t)m->lo;
  if (id >= m->lo && off < m->dense_len && m->dense[off] != FX_IDMAP_NONE)
    return m->dense[off];
  return hash_get(m, id);
}

void fx_idmap_free(struct fx_idmap *m)
{
  free(m->slots);
  free(m->dense);
  *m = (struct fx_idmap){0};
}
