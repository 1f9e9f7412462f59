/* fx-sink-jsonl.c - the jsonl:DIR sink: product_features.jsonl, user_features.jsonl and
 * collection_features.jsonl, one canonical line per row in entity order (the digest's lines).
 */
#include <stdio.h>

#include "fx-digest.h"
#include "fx-sink.h"

int fx_sink_write_rows(const char *arg, const struct fx_features *f, char *err, size_t errlen)
{
  struct fx_buf b = {0};
  int rc = 0;
  for (int k = 0; k < FX_KIND_COUNT && rc == 0; k++) {
    const struct fx_table_desc *d = fx_table_desc((enum fx_kind)k);
    b.len = 0;
    for (size_t i = 0; i < f->n_rows[k]; i++)
      fx_row_json(&b, (enum fx_kind)k, f->rows[k] + i * d->n_fields);
    char name[64];
    snprintf(name, sizeof name, "%s.jsonl", d->table);
    rc = fx_sink_write_file(arg, name, b.data ? b.data : "", b.len, err, errlen);
  }
  fx_buf_free(&b);
  return rc;
}

static int jsonl_write(const char *arg, const struct fx_dataset *ds, const struct fx_features *f,
                       char *err, size_t errlen)
{
  (void)ds;
  return fx_sink_write_rows(arg, f, err, errlen);
}

const struct fx_sink_ops fx_sink_jsonl = {
  "jsonl", "jsonl:DIR     DIR/{product,user,collection}_features.jsonl", jsonl_write};
