/* pg-load.c - COPY of a normalized dataset into PostgreSQL (see pg-load.h). Rows are encoded
 * in COPY's text format in chunks of about 4 MB so memory stays flat at any scale; the ids
 * written are the platform ids, the references resolved back from indices to ids.
 */
#include "pg-load.h"

#include <stdio.h>
#include <string.h>

#include "pg-schema.h"

const char *const pg_table_names[PG_T_COUNT] = {
    "dataset",   "shops",  "products",    "collections", "collection_products",
    "customers", "orders", "order_items", "events"};

#define CHUNK_BYTES (4u << 20)

static const char *event_kind_name(uint8_t kind)
{
  return kind == FX_EV_VIEW ? "view" : "cart_add";
}

/* Encodes row i of table t into b, in the column order of docs/features.md. */
static void encode_row(const struct fx_dataset *ds, enum pg_table t, size_t i,
                       struct pg_copybuf *b, const char *origin)
{
  switch (t) {
  case PG_T_DATASET:
    pg_copybuf_i64(b, 1, ds->reference_time);
    pg_copybuf_text(b, 0, origin);
    break;
  case PG_T_SHOPS:
    pg_copybuf_i64(b, 1, ds->shops[i].id);
    break;
  case PG_T_PRODUCTS: {
    const struct fx_product *p = &ds->products[i];
    pg_copybuf_i64(b, 1, p->id);
    pg_copybuf_i64(b, 0, ds->shops[p->shop].id);
    pg_copybuf_i64(b, 0, p->price_cents);
    pg_copybuf_i64(b, 0, p->created_at);
    pg_copybuf_i64(b, 0, p->updated_at);
    break;
  }
  case PG_T_COLLECTIONS: {
    const struct fx_collection *c = &ds->collections[i];
    pg_copybuf_i64(b, 1, c->id);
    pg_copybuf_i64(b, 0, ds->shops[c->shop].id);
    pg_copybuf_i64(b, 0, c->updated_at);
    break;
  }
  case PG_T_COLLECTION_PRODUCTS: {
    const struct fx_link *l = &ds->links[i];
    pg_copybuf_i64(b, 1, ds->collections[l->collection].id);
    pg_copybuf_i64(b, 0, ds->products[l->product].id);
    break;
  }
  case PG_T_CUSTOMERS: {
    const struct fx_customer *c = &ds->customers[i];
    pg_copybuf_i64(b, 1, c->id);
    pg_copybuf_i64(b, 0, ds->shops[c->shop].id);
    pg_copybuf_i64(b, 0, c->created_at);
    pg_copybuf_i64(b, 0, c->updated_at);
    break;
  }
  case PG_T_ORDERS: {
    const struct fx_order *o = &ds->orders[i];
    pg_copybuf_i64(b, 1, o->id);
    pg_copybuf_i64(b, 0, ds->shops[o->shop].id);
    pg_copybuf_i64(b, 0, ds->customers[o->customer].id);
    pg_copybuf_i64(b, 0, o->created_at);
    pg_copybuf_i64(b, 0, o->updated_at);
    pg_copybuf_text(b, 0, fx_status_name(o->status));
    if (o->cancelled_at == FX_NONE)
      pg_copybuf_text(b, 0, NULL);
    else
      pg_copybuf_i64(b, 0, o->cancelled_at);
    break;
  }
  case PG_T_ORDER_ITEMS: {
    const struct fx_item *it = &ds->items[i];
    const struct fx_order *o = &ds->orders[it->order];
    pg_copybuf_i64(b, 1, o->id);
    pg_copybuf_i64(b, 0, (long long)(i - o->first_item));
    pg_copybuf_i64(b, 0, ds->products[it->product].id);
    pg_copybuf_i64(b, 0, it->quantity);
    pg_copybuf_i64(b, 0, it->price_cents);
    break;
  }
  case PG_T_EVENTS: {
    const struct fx_event *e = &ds->events[i];
    pg_copybuf_i64(b, 1, e->id);
    pg_copybuf_i64(b, 0, ds->shops[e->shop].id);
    pg_copybuf_i64(b, 0, ds->customers[e->customer].id);
    pg_copybuf_i64(b, 0, ds->products[e->product].id);
    pg_copybuf_text(b, 0, event_kind_name(e->kind));
    pg_copybuf_i64(b, 0, e->at);
    break;
  }
  case PG_T_COUNT:
    break;
  }
  pg_copybuf_end_row(b);
}

static size_t table_rows(const struct fx_dataset *ds, enum pg_table t)
{
  switch (t) {
  case PG_T_DATASET: return 1;
  case PG_T_SHOPS: return ds->n_shops;
  case PG_T_PRODUCTS: return ds->n_products;
  case PG_T_COLLECTIONS: return ds->n_collections;
  case PG_T_COLLECTION_PRODUCTS: return ds->n_links;
  case PG_T_CUSTOMERS: return ds->n_customers;
  case PG_T_ORDERS: return ds->n_orders;
  case PG_T_ORDER_ITEMS: return ds->n_items;
  case PG_T_EVENTS: return ds->n_events;
  default: return 0;
  }
}

static int copy_table(struct pg_session *s, const struct fx_dataset *ds, enum pg_table t,
                      const char *origin, struct pg_copybuf *b, uint64_t *rows)
{
  char sql[128];
  if (t == PG_T_DATASET)
    snprintf(sql, sizeof sql, "COPY dataset (reference_time, origin) FROM STDIN");
  else
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", pg_table_names[t]);
  double t0 = pg_now();
  if (pg_session_copy_start(s, sql))
    return -1;
  size_t n = table_rows(ds, t);
  pg_copybuf_reset(b);
  for (size_t i = 0; i < n && !s->err[0]; i++) {
    encode_row(ds, t, i, b, origin);
    if (b->len >= CHUNK_BYTES) {
      pg_session_copy_put(s, b->data, b->len);
      b->len = 0;
    }
  }
  if (!s->err[0] && b->len)
    pg_session_copy_put(s, b->data, b->len);
  *rows = n;
  return pg_session_copy_finish(s, sql, n, t0);
}

int pg_load_dataset(struct pg_session *s, const struct fx_dataset *ds, const char *origin,
                    struct pg_load_report *rep)
{
  memset(rep, 0, sizeof *rep);
  struct pg_copybuf b = {0};
  double t0 = pg_now();
  if (pg_session_command(s, PG_Q_TXN, "BEGIN", 0, NULL) || pg_schema_create_tables(s))
    goto fail;
  for (int t = 0; t < PG_T_COUNT; t++)
    if (copy_table(s, ds, (enum pg_table)t, origin, &b, &rep->rows[t]))
      goto fail;
  rep->seconds_copy = pg_now() - t0;
  t0 = pg_now();
  if (pg_schema_index(s) || pg_schema_ensure_features(s) || pg_schema_reset_features(s) ||
      pg_session_command(s, PG_Q_TXN, "COMMIT", 0, NULL))
    goto fail;
  rep->seconds_index = pg_now() - t0;
  pg_copybuf_release(&b);
  return 0;
fail:
  if (s->conn && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
    char keep[sizeof s->err];
    memcpy(keep, s->err, sizeof keep);
    PQclear(PQexec(s->conn, "ROLLBACK"));
    memcpy(s->err, keep, sizeof keep);
  }
  pg_copybuf_release(&b);
  return -1;
}
