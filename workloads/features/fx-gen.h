/* fx-gen.h - the deterministic dataset generator: shops, products with variants, collections,
 * customers, orders with line items and browsing events, as JSON lines shaped like a shop
 * platform's export. Same options, same bytes, on any machine (integer-only, own PRNG).
 */
#ifndef PERFSWEEP_FX_GEN_H
#define PERFSWEEP_FX_GEN_H

#include <stdint.h>

#include "fx-raw.h"

/* The reference time of every generated dataset: 2026-01-01T00:00:00Z. */
#define FX_GEN_REFERENCE_TIME 1767225600LL
/* Activity spans the 180 days before the reference time. */
#define FX_GEN_SPAN_DAYS 180

/* Dirty-record kinds, in the order of the manifest's "dirty" object. */
#define FX_DIRTY_MAP(X) X(duplicates) X(missing_fields) X(invalid_data) X(fk_violations) \
  X(future_timestamps)
enum fx_dirty {
#define FX_DIRTY_ENUM(n) FX_DIRTY_##n,
  FX_DIRTY_MAP(FX_DIRTY_ENUM)
#undef FX_DIRTY_ENUM
  FX_DIRTY_COUNT
};

struct fx_gen_opts {
  const char *scale;   /* tiny | small | medium | large */
  uint64_t seed;
  uint32_t dirty_ppm;  /* bad records per million clean records (--dirty 0.05 = 50000) */
  uint32_t cutoff_days; /* 0: everything; else only records updated before ref - days */
};

struct fx_gen_counts {
  uint64_t records[FX_RAW_COUNT];  /* clean records written per table */
  uint64_t dirty[FX_DIRTY_COUNT];  /* extra bad records written per kind */
};

/* 1 if name is a known scale, else 0. */
int fx_gen_scale_valid(const char *name);
/* Generates the dataset into out (zeroed by the caller; free with fx_raw_free), including the
 * manifest. Returns 0, or -1 for an unknown scale. counts may be NULL. */
int fx_gen(const struct fx_gen_opts *o, struct fx_raw *out, struct fx_gen_counts *counts);
/* Parses a dirty rate "0.05" / "0" / "1" (a decimal fraction in [0,1], at most 6 decimals)
 * into parts per million. Returns 0, or -1 if the text is not such a number. */
int fx_gen_parse_rate(const char *s, uint32_t *ppm);

#endif
