/* fx-sink-none.c - the `none` sink: discards the rows (the digest is still computed). */
#include "fx-sink.h"

static int none_write(const char *arg, const struct fx_dataset *ds, const struct fx_features *f,
                      char *err, size_t errlen)
{
  (void)arg, (void)ds, (void)f, (void)err, (void)errlen;
  return 0;
}

const struct fx_sink_ops fx_sink_none = {"none", "none          discard the feature rows", none_write};
