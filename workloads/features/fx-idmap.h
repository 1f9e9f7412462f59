/* fx-idmap.h - a map from a platform id (int64) to a row index, used by normalize for
 * duplicate detection and foreign-key resolution, and by incremental mode. Ids that fall in a
 * dense window above the first id put (exports number their rows consecutively) live in a
 * direct array of 4-byte values; any other id in an open-addressing hash.
 */
#ifndef PERFSWEEP_FX_IDMAP_H
#define PERFSWEEP_FX_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct fx_idmap_slot { int64_t key; uint32_t val; };
struct fx_idmap {
  struct fx_idmap_slot *slots; size_t cap, n; /* the hash: ids outside the window */
  uint32_t *dense; size_t dense_len;          /* dense[id - lo] for lo <= id < lo + dense_len */
  int64_t lo;
  size_t n_dense, hint;                       /* entries in dense; fx_idmap_reserve's n */
};

#define FX_IDMAP_NONE UINT32_MAX

/* Inserts id -> val unless id is present; val must not be FX_IDMAP_NONE. Returns 1 if
 * inserted, 0 if it was already there (*old set to its value when old is non-NULL). Exits
 * with code 4 when out of memory. */
int fx_idmap_put(struct fx_idmap *m, int64_t id, uint32_t val, uint32_t *old);
/* A hint that about n entries will be put (sizes the dense window's limit; exits with code 4
 * on OOM). Results never depend on it. */
void fx_idmap_reserve(struct fx_idmap *m, size_t n);
/* The value of id, or FX_IDMAP_NONE. */
uint32_t fx_idmap_get(const struct fx_idmap *m, int64_t id);
void fx_idmap_free(struct fx_idmap *m); /* accepts a zeroed map */

#endif
