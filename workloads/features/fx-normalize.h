/* fx-normalize.h - the normalize stage: raw JSON lines -> validated, deduplicated typed rows
 * (fx-rows.h). Every rejected record is counted in exactly one category; malformed JSON is not
 * a dirty record but unreadable input, and stops the run with a message naming file and line.
 */
#ifndef PERFSWEEP_FX_NORMALIZE_H
#define PERFSWEEP_FX_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "fx-raw.h"
#include "fx-rows.h"

/* Fills ds (zeroed by the caller; release with fx_dataset_free even on failure) from raw.
 * Returns 0; or PS_EXIT_USAGE with a one-line message in err (naming the file, the line and
 * the fix) when a line is not valid JSON or the manifest is missing or unusable. */
int fx_normalize(const struct fx_raw *raw, struct fx_dataset *ds, char *err, size_t errlen);

/* As fx_normalize, but frees each table's raw text as soon as it is parsed, so the raw input
 * and the typed rows are not both held in full (the sources use this). */
int fx_normalize_release(struct fx_raw *raw, struct fx_dataset *ds, char *err, size_t errlen);

/* The parse-only reference: validates the JSON syntax of every line of every table without
 * extracting anything. Returns 0 with *records set, or PS_EXIT_USAGE with err as above. */
int fx_parse_only(const struct fx_raw *raw, uint64_t *records, char *err, size_t errlen);

/* Reads the reference time from a manifest text. Returns 0, or -1 if absent or malformed. */
int fx_manifest_reference_time(const char *text, size_t len, fx_time *t);

#endif
