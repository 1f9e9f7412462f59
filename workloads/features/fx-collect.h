/* fx-collect.h - the collect stage for JSON-lines input: read the raw tables of a folder (or
 * take the generator's buffers) in pages of B records, then hand them to normalize. Shared by
 * the jsonl and gen sources.
 */
#ifndef PERFSWEEP_FX_COLLECT_H
#define PERFSWEEP_FX_COLLECT_H

#include <stddef.h>

#include "fx-metrics.h"
#include "fx-raw.h"
#include "fx-source.h"

/* Reads DIR/dataset.json and every DIR/<table>.jsonl into raw (zeroed by the caller; free
 * with fx_raw_free). Returns 0, or PS_EXIT_USAGE with a sentence in err when DIR is not a
 * dataset folder or a file cannot be read. */
int fx_collect_dir(const char *dir, struct fx_raw *raw, char *err, size_t errlen);

/* Counts records (non-blank lines) of raw into the collect stage: records_in/out and
 * batches = pages of batch_size. */
void fx_collect_count(const struct fx_raw *raw, size_t batch_size, struct fx_stage *collect);

/* Normalizes raw into ds (releasing raw's table texts as it goes), filling the normalize
 * stage. Returns as fx_normalize. */
int fx_collect_normalize(struct fx_raw *raw, const struct fx_source_params *p,
                         struct fx_dataset *ds, struct fx_stage *normalize, char *err,
                         size_t errlen);

#endif
