/* fx-sink-gorse.c - the gorse:DIR sink: the recommender export in Gorse's import shape, one
 * JSON object per line: items.jsonl (ItemId, IsHidden, Categories, Timestamp, Labels,
 * Comment), users.jsonl (UserId, Labels, Subscribe, Comment) and feedback.jsonl
 * (FeedbackType view|cart_add|purchase, UserId, ItemId, Timestamp, Comment).
 */
#include <stdio.h>

#include "fx-buf.h"
#include "fx-sink.h"

static void labels(struct fx_buf *b, enum fx_kind k, const int64_t *row, size_t skip)
{
  const struct fx_table_desc *d = fx_table_desc(k);
  fx_buf_str(b, "\"Labels\":[");
  for (size_t i = skip; i < d->n_fields; i++) {
    fx_buf_str(b, i > skip ? ",\"" : "\"");
    fx_buf_str(b, d->fields[i]);
    fx_buf_ch(b, ':');
    fx_buf_i64(b, row[i]);
    fx_buf_ch(b, '"');
  }
  fx_buf_ch(b, ']');
}

static void feedback(struct fx_buf *b, const char *type, int64_t user, int64_t item, fx_time at)
{
  fx_buf_str(b, "{\"FeedbackType\":\"");
  fx_buf_str(b, type);
  fx_buf_str(b, "\",\"UserId\":\"");
  fx_buf_i64(b, user);
  fx_buf_str(b, "\",\"ItemId\":\"");
  fx_buf_i64(b, item);
  fx_buf_str(b, "\",\"Timestamp\":");
  fx_buf_time(b, at);
  fx_buf_str(b, ",\"Comment\":\"\"}\n");
}

static int gorse_write(const char *arg, const struct fx_dataset *ds, const struct fx_features *f,
                       char *err, size_t errlen)
{
  struct fx_buf b = {0};
  size_t np = fx_table_desc(FX_KIND_PRODUCT)->n_fields;
  for (size_t p = 0; p < ds->n_products; p++) {
    const struct fx_product *pr = &ds->products[p];
    fx_buf_str(&b, "{\"ItemId\":\"");
    fx_buf_i64(&b, pr->id);
    fx_buf_str(&b, "\",\"IsHidden\":false,\"Categories\":[\"shop-");
    fx_buf_i64(&b, ds->shops[pr->shop].id);
    fx_buf_ch(&b, '"');
    for (uint32_t r = ds->product_links.start[p]; r < ds->product_links.start[p + 1]; r++) {
      fx_buf_str(&b, ",\"collection-");
      fx_buf_i64(&b, ds->collections[ds->links[ds->product_links.idx[r]].collection].id);
      fx_buf_ch(&b, '"');
    }
    fx_buf_str(&b, "],\"Timestamp\":");
    fx_buf_time(&b, pr->created_at);
    fx_buf_ch(&b, ',');
    labels(&b, FX_KIND_PRODUCT, f->rows[FX_KIND_PRODUCT] + p * np, 2);
    fx_buf_str(&b, ",\"Comment\":\"\"}\n");
  }
  int rc = fx_sink_write_file(arg, "items.jsonl", b.data ? b.data : "", b.len, err, errlen);
  b.len = 0;
  size_t nu = fx_table_desc(FX_KIND_USER)->n_fields;
  for (size_t c = 0; rc == 0 && c < ds->n_customers; c++) {
    fx_buf_str(&b, "{\"UserId\":\"");
    fx_buf_i64(&b, ds->customers[c].id);
    fx_buf_str(&b, "\",");
    labels(&b, FX_KIND_USER, f->rows[FX_KIND_USER] + c * nu, 2);
    fx_buf_str(&b, ",\"Subscribe\":[],\"Comment\":\"\"}\n");
  }
  if (rc == 0)
    rc = fx_sink_write_file(arg, "users.jsonl", b.data ? b.data : "", b.len, err, errlen);
  b.len = 0;
  for (size_t e = 0; rc == 0 && e < ds->n_events; e++) {
    const struct fx_event *ev = &ds->events[e];
    feedback(&b, ev->kind == FX_EV_VIEW ? "view" : "cart_add", ds->customers[ev->customer].id,
             ds->products[ev->product].id, ev->at);
  }
  for (size_t i = 0; rc == 0 && i < ds->n_items; i++) {
    const struct fx_order *o = &ds->orders[ds->items[i].order];
    if (o->status == FX_ST_PAID && o->cancelled_at == FX_NONE)
      feedback(&b, "purchase", ds->customers[o->customer].id,
               ds->products[ds->items[i].product].id, o->created_at);
  }
  if (rc == 0)
    rc = fx_sink_write_file(arg, "feedback.jsonl", b.data ? b.data : "", b.len, err, errlen);
  fx_buf_free(&b);
  return rc;
}

const struct fx_sink_ops fx_sink_gorse = {
  "gorse", "gorse:DIR     Gorse import files DIR/{items,users,feedback}.jsonl", gorse_write};
