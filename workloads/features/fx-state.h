/* fx-state.h - incremental mode (--state DIR): per-shop, per-feature-type watermarks plus the
 * feature rows of the last run. A run with state recomputes only the entities that records
 * newer than their shop's watermark touch, takes every other row from the state, and must end
 * with exactly the rows a full recompute gives (docs/features.md, "Incremental mode").
 */
#ifndef PERFSWEEP_FX_STATE_H
#define PERFSWEEP_FX_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "fx-rows.h"

struct fx_state_plan {
  int full;            /* 1: no usable state, everything is computed */
  const char *reason;  /* why full (static text), or NULL */
  uint64_t reused[FX_KIND_COUNT], todo[FX_KIND_COUNT];
  uint64_t late; /* shop x feature-type pairs recomputed in full: records arrived below the
                  * watermark (their count at or below it changed) */
};

/* Plans an incremental run: reads DIR (a missing DIR or state file means a full run), copies
 * the stored rows of untouched entities into f (prepared by fx_features_alloc, marking them
 * written) and sets todo[k]/n_todo[k] to the malloc'd list of entities to compute (caller
 * frees; NULL means all). Returns 0, or PS_EXIT_USAGE with a sentence in err when the state
 * exists but cannot be read. */
int fx_state_plan(const char *dir, const struct fx_dataset *ds, struct fx_features *f,
                  uint32_t *todo[FX_KIND_COUNT], size_t n_todo[FX_KIND_COUNT],
                  struct fx_state_plan *plan, char *err, size_t errlen);

/* Writes the state for ds and f (complete rows) into DIR atomically. Returns 0, or PS_EXIT_IO
 * with a sentence in err. */
int fx_state_save(const char *dir, const struct fx_dataset *ds, const struct fx_features *f,
                  char *err, size_t errlen);

#endif
