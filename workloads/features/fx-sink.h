/* fx-sink.h - the sink interface of perfsweep-features: where feature rows go. Selected by
 * --sink SCHEME[:ARG] ("none", "jsonl:DIR", "gorse:DIR", later "postgres:DSN"). To add one,
 * write a new file in workloads/features/ that defines, at the start of a line,
 *     const struct fx_sink_ops fx_sink_<scheme> = { "<scheme>", "<help>", <write> };
 * and the generated registry picks it up.
 */
#ifndef PERFSWEEP_FX_SINK_H
#define PERFSWEEP_FX_SINK_H

#include <stddef.h>

#include "fx-rows.h"

struct fx_sink_ops {
  const char *scheme;
  const char *help;
  /* Writes every feature row of f (one per entity of ds, all present: the pipeline checked)
   * to arg. Rows of kind k are f->rows[k], fx_table_desc(k)->n_fields int64 each, in entity
   * order; ds gives the source tables (e.g. for feedback exports). Returns 0, or a PS_EXIT_*
   * code (PS_EXIT_IO for an unwritable target) with one sentence in err. */
  int (*write)(const char *arg, const struct fx_dataset *ds, const struct fx_features *f,
               char *err, size_t errlen);
};

extern const struct fx_sink_ops *const fx_sinks[]; /* NULL-terminated (generated) */

/* As fx_source_find; a spec without a colon ("none") gives *arg = "". */
const struct fx_sink_ops *fx_sink_find(const char *spec, const char **arg);

/* Helper for file sinks: writes data to DIR/name atomically (temporary file + rename),
 * creating DIR. Returns 0, or PS_EXIT_IO with a sentence in err. */
int fx_sink_write_file(const char *dir, const char *name, const char *data, size_t len,
                       char *err, size_t errlen);

/* Writes DIR/<table>.jsonl for every feature kind, canonical lines in entity order (used by
 * the jsonl sink and the incremental state). Returns 0, or PS_EXIT_IO with err. */
int fx_sink_write_rows(const char *dir, const struct fx_features *f, char *err, size_t errlen);

#endif
