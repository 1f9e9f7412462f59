/* fx-source-gen.c - the gen:SCALE source: the generator's bytes in memory, exactly what
 * `generate --scale SCALE --seed N` would write, so no disk is involved. The collect stage
 * is the generation itself.
 */
#include <stdio.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-collect.h"
#include "fx-gen.h"
#include "fx-source.h"

static int gen_load(const char *arg, const struct fx_source_params *p, struct fx_dataset *ds,
                    struct fx_stage *collect, struct fx_stage *normalize, char *err,
                    size_t errlen)
{
  if (!fx_gen_scale_valid(arg)) {
    snprintf(err, errlen, "--source gen:%s: unknown scale; use gen:tiny, gen:small, gen:medium "
             "or gen:large", arg);
    return PS_EXIT_USAGE;
  }
  struct fx_raw raw = {0};
  struct fx_gen_opts o = {.scale = arg, .seed = p->seed};
  double t0 = fx_now(), c0 = fx_cpu_now();
  fx_gen(&o, &raw, NULL);
  fx_collect_count(&raw, p->batch_size, collect);
  collect->seconds = fx_now() - t0;
  collect->cpu_seconds = fx_cpu_now() - c0;
  collect->peak_rss_kb = fx_peak_rss_kb();
  int rc = fx_collect_normalize(&raw, p, ds, normalize, err, errlen);
  fx_raw_free(&raw);
  normalize->peak_rss_kb = fx_peak_rss_kb();
  return rc;
}

const struct fx_source_ops fx_source_gen = {
  "gen", "gen:SCALE     generate tiny|small|medium|large in memory (seed from --seed)",
  gen_load};
