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

/* ---- the page API: the streaming collect stage feeds pages as it reads them ---- */

struct fx_norm; /* normalize state between pages: id indexes, line numbers */

/* Starts normalizing into ds (zeroed by the caller; release with fx_dataset_free even on
 * failure): reads the reference time from the manifest text. origin names the folder in
 * messages. Returns 0 with *out set (free with fx_norm_end), or PS_EXIT_USAGE with a sentence
 * in err when the manifest has no valid reference time. Exits with code 4 when out of memory. */
int fx_norm_begin(struct fx_norm **out, struct fx_dataset *ds, const char *origin,
                  const char *manifest, size_t manifest_len, char *err, size_t errlen);

/* A hint: table (shops .. customers) will hold about records records; sizes its id index
 * once. Optional; results do not depend on it. */
void fx_norm_reserve(struct fx_norm *nm, int table, size_t records);

/* Normalizes one page: whole lines of table, following the previous page of the same table;
 * tables must come in fx_raw_table order. Line numbers in messages count from the table's
 * first page. Returns 0, or PS_EXIT_USAGE with "DIR/<table>.jsonl:LINE: ..." in err when a
 * line is not valid JSON. The text may be reused by the caller once this returns. */
int fx_norm_page(struct fx_norm *nm, int table, const char *text, size_t len, char *err,
                 size_t errlen);

/* Frees the normalize state (not the dataset); accepts NULL. */
void fx_norm_end(struct fx_norm *nm);

/* The parse-only reference: validates the JSON syntax of every line of every table without
 * extracting anything. Returns 0 with *records set, or PS_EXIT_USAGE with err as above. */
int fx_parse_only(const struct fx_raw *raw, uint64_t *records, char *err, size_t errlen);

/* fx_parse_only of one page of table (whole lines following the previous page; *line is the
 * number of lines of the table before this page and is advanced). Returns as fx_parse_only. */
int fx_parse_only_page(const char *origin, int table, const char *text, size_t len,
                       size_t *line, uint64_t *records, char *err, size_t errlen);

/* Reads the reference time from a manifest text. Returns 0, or -1 if absent or malformed. */
int fx_manifest_reference_time(const char *text, size_t len, fx_time *t);

#endif
