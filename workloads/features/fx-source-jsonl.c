/* fx-source-jsonl.c - the jsonl:DIR source: a folder written by `perfsweep-features
 * generate` (or any export in the same shape), read by collect and parsed by normalize.
 */
#include <string.h>

#include "fx-collect.h"
#include "fx-source.h"

static int jsonl_load(const char *arg, const struct fx_source_params *p, struct fx_dataset *ds,
                      struct fx_stage *collect, struct fx_stage *normalize, char *err,
                      size_t errlen)
{
  struct fx_raw raw = {0};
  double t0 = fx_now(), c0 = fx_cpu_now();
  int rc = fx_collect_dir(arg, &raw, err, errlen);
  if (rc == 0) {
    fx_collect_count(&raw, p->batch_size, collect);
    collect->seconds = fx_now() - t0;
    collect->cpu_seconds = fx_cpu_now() - c0;
    collect->peak_rss_kb = fx_peak_rss_kb();
    rc = fx_collect_normalize(&raw, p, ds, normalize, err, errlen);
  }
  fx_raw_free(&raw);
  normalize->peak_rss_kb = fx_peak_rss_kb();
  return rc;
}

const struct fx_source_ops fx_source_jsonl = {
  "jsonl", "jsonl:DIR     a dataset folder written by `perfsweep-features generate --out DIR`",
  jsonl_load};
