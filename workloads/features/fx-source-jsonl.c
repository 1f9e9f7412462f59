/* fx-source-jsonl.c - the jsonl:DIR source: a folder written by `perfsweep-features
 * generate` (or any export in the same shape), streamed by collect in pages of B records,
 * each page parsed by normalize before the next is read.
 */
#include "fx-collect.h"
#include "fx-source.h"

static int jsonl_load(const char *arg, const struct fx_source_params *p, struct fx_dataset *ds,
                      struct fx_stage *collect, struct fx_stage *normalize, char *err,
                      size_t errlen)
{
  return fx_collect_stream(arg, p, ds, collect, normalize, err, errlen);
}

const struct fx_source_ops fx_source_jsonl = {
  "jsonl", "jsonl:DIR     a dataset folder written by `perfsweep-features generate --out DIR`",
  jsonl_load};
