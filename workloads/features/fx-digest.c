/* fx-digest.c - canonical feature-row lines and their order-independent digest. */
#include "fx-digest.h"

void fx_row_json(struct fx_buf *b, enum fx_kind kind, const int64_t *row)
{
  const struct fx_table_desc *d = fx_table_desc(kind);
  for (size_t i = 0; i < d->n_fields; i++) {
    fx_buf_str(b, i ? ",\"" : "{\"");
    fx_buf_str(b, d->fields[i]);
    fx_buf_str(b, "\":");
    fx_buf_i64(b, row[i]);
  }
  fx_buf_str(b, "}\n");
}

uint64_t fx_fnv1a64(const char *s, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t fx_digest(const struct fx_features *f)
{
  struct fx_buf b = {0};
  uint64_t sum = 0;
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    size_t nf = fx_table_desc((enum fx_kind)k)->n_fields;
    for (size_t i = 0; i < f->n_rows[k]; i++) {
      b.len = 0;
      fx_row_json(&b, (enum fx_kind)k, f->rows[k] + i * nf);
      sum += fx_fnv1a64(b.data, b.len);
    }
  }
  fx_buf_free(&b);
  return sum;
}
