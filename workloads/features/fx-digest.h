/* fx-digest.h - the canonical text of a feature row and the order-independent digest of all
 * rows (docs/features.md, "Digest"): the same for any batch size, worker count, or full vs
 * incremental run, and recomputable from the jsonl sink's files.
 */
#ifndef PERFSWEEP_FX_DIGEST_H
#define PERFSWEEP_FX_DIGEST_H

#include <stdint.h>

#include "fx-buf.h"
#include "fx-rows.h"

/* Appends the canonical JSON line of one row (fields in table order, integers, "\n"). */
void fx_row_json(struct fx_buf *b, enum fx_kind kind, const int64_t *row);
/* FNV-1a 64-bit hash of n bytes. */
uint64_t fx_fnv1a64(const char *s, size_t n);
/* Sum (mod 2^64) of fx_fnv1a64 over the canonical lines of every row of every kind. */
uint64_t fx_digest(const struct fx_features *f);

#endif
