/* fx-gen.c - the deterministic dataset generator (see fx-gen.h and docs/workloads.md).
 * Every draw comes from a per-table xoshiro stream, and dirty records from a stream of their
 * own, so turning --dirty or --cutoff-days on never changes the clean records.
 */
#include "fx-gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx-rng.h"

struct scale {
  const char *name;
  uint32_t shops, products, customers, collections, orders, events;
};

static const struct scale scales[] = {
  {"tiny", 1, 350, 381, 12, 1500, 6000},
  {"small", 3, 3000, 10000, 60, 40000, 160000},
  {"medium", 5, 20000, 100000, 300, 400000, 1600000},
  {"large", 10, 100000, 1000000, 2000, 4000000, 16000000},
};

/* id bases per table; dirty records get fresh ids above FX_ID_DIRTY */
#define FX_ID_PRODUCT 1000000000LL
#define FX_ID_VARIANT 2000000000LL
#define FX_ID_COLLECTION 3000000000LL
#define FX_ID_CUSTOMER 4000000000LL
#define FX_ID_ORDER 5000000000LL
#define FX_ID_LINE 6000000000LL
#define FX_ID_EVENT 7000000000LL
#define FX_ID_UNKNOWN 8999999999LL
#define FX_ID_DIRTY 9000000000LL
#define FX_SHOP_UNKNOWN 999

const char *const fx_raw_names[FX_RAW_COUNT] = {"shops", "products", "collections",
                                                "customers", "orders", "events"};

void fx_raw_free(struct fx_raw *r)
{
  for (int t = 0; t < FX_RAW_COUNT; t++)
    fx_buf_free(&r->table[t]);
  fx_buf_free(&r->manifest);
}

static const struct scale *find_scale(const char *name)
{
  for (size_t i = 0; i < sizeof scales / sizeof *scales; i++)
    if (name && strcmp(scales[i].name, name) == 0)
      return &scales[i];
  return NULL;
}

int fx_gen_scale_valid(const char *name) { return find_scale(name) != NULL; }

int fx_gen_parse_rate(const char *s, uint32_t *ppm)
{
  uint64_t whole = 0, frac = 0;
  int nfrac = 0;
  const char *p = s;
  if (!s || !*s)
    return -1;
  if (*p < '0' || *p > '9')
    return -1;
  while (*p >= '0' && *p <= '9') {
    whole = whole * 10 + (uint64_t)(*p - '0');
    if (whole > 1)
      return -1;
    p++;
  }
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return -1;
    while (*p >= '0' && *p <= '9') {
      if (++nfrac > 6)
        return -1;
      frac = frac * 10 + (uint64_t)(*p - '0');
      p++;
    }
  }
  if (*p)
    return -1;
  while (nfrac < 6) {
    frac *= 10;
    nfrac++;
  }
  uint64_t v = whole * 1000000 + frac;
  if (v > 1000000)
    return -1;
  *ppm = (uint32_t)v;
  return 0;
}

/* ---- the world being generated ---- */

struct world {
  const struct scale *sc;
  fx_time ref, start;
  uint32_t *p_start, *p_count, *c_start, *c_count; /* per shop product / customer ranges */
  fx_time *p_created, *c_created;
  int64_t *p_price;
  uint8_t *p_variants;
  struct fx_rng dirty;
  uint32_t dirty_ppm;
  fx_time cutoff;
  uint64_t dirty_seq;
  struct fx_gen_counts counts;
};

/* Splits n over shops with linearly decreasing weights (shop 1 biggest). */
static void split(uint32_t n, uint32_t shops, uint32_t *start, uint32_t *count)
{
  uint64_t wsum = (uint64_t)shops * (shops + 1) / 2, given = 0;
  for (uint32_t s = 0; s < shops; s++) {
    count[s] = (uint32_t)((uint64_t)n * (shops - s) / wsum);
    given += count[s];
  }
  count[0] += (uint32_t)(n - given);
  uint32_t at = 0;
  for (uint32_t s = 0; s < shops; s++) {
    start[s] = at;
    at += count[s];
  }
}

/* Popularity rank -> local index: a fixed stride permutation, so popular items are spread
 * over old and new ones. */
static uint32_t perm(uint64_t rank, uint32_t count)
{
  uint64_t stride = count % 7919 ? 7919 : 7907;
  return (uint32_t)((rank * stride + 17) % count);
}

/* A skew-popular entity of range [start, start+count) that already existed at time t. */
static uint32_t pick(struct fx_rng *r, uint32_t start, uint32_t count, const fx_time *created,
                     fx_time t)
{
  for (int tries = 0; tries < 8; tries++) {
    uint32_t l = perm(fx_rng_skewed(r, count), count);
    if (created[start + l] <= t)
      return start + l;
  }
  uint32_t old = count - count / 10;
  return start + (uint32_t)fx_rng_below(r, old ? old : 1);
}

/* Whether to add a bad record after this clean one, and which kind (-1: none). The dirty
 * stream is drawn for every clean record, emitted or not, so cutoffs keep it aligned. */
static int dirty_kind(struct world *w)
{
  if (!w->dirty_ppm)
    return -1;
  uint64_t roll = fx_rng_below(&w->dirty, 1000000);
  int kind = (int)fx_rng_below(&w->dirty, FX_DIRTY_COUNT);
  return roll < w->dirty_ppm ? kind : -1;
}

static void kv_i64(struct fx_buf *b, const char *key, int64_t v)
{
  fx_buf_str(b, key);
  fx_buf_i64(b, v);
}

static void kv_time(struct fx_buf *b, const char *key, fx_time t)
{
  fx_buf_str(b, key);
  fx_buf_time(b, t);
}

/* A timestamp 1..30 days after the reference time, derived from the bad record's id. */
static fx_time future(const struct world *w, int64_t id) { return w->ref + FX_DAY * (1 + id % 30); }

/* Emits a clean line (when inside the cutoff) and its dirty sibling. The writer is called
 * with kind -1 for the clean record, and with a dirty kind and a fresh id for the bad one. */
typedef void (*writer_fn)(struct world *w, struct fx_buf *b, const void *rec, int kind, int64_t id);

static void emit(struct world *w, struct fx_buf *b, enum fx_raw_table t, writer_fn fn,
                 const void *rec, int64_t id, fx_time updated)
{
  int kind = dirty_kind(w);
  if (w->cutoff && updated > w->cutoff)
    return;
  size_t line = b->len;
  fn(w, b, rec, -1, id);
  w->counts.records[t]++;
  if (kind < 0)
    return;
  if (kind == FX_DIRTY_duplicates) {
    size_t n = b->len - line;
    fx_buf_reserve(b, n);
    memcpy(b->data + b->len, b->data + line, n);
    b->len += n;
  } else {
    fn(w, b, rec, kind, FX_ID_DIRTY + (int64_t)w->dirty_seq++);
  }
  w->counts.dirty[kind]++;
}

/* ---- products ---- */

struct product_rec { uint32_t i, shop; };

static void write_product(struct world *w, struct fx_buf *b, const void *rec, int kind, int64_t id)
{
  const struct product_rec *p = rec;
  fx_time created = w->p_created[p->i];
  if (kind == FX_DIRTY_future_timestamps)
    created = future(w, id);
  kv_i64(b, "{\"id\":", id);
  kv_i64(b, ",\"shop_id\":", kind == FX_DIRTY_fk_violations ? FX_SHOP_UNKNOWN : p->shop + 1);
  fx_buf_str(b, ",\"title\":\"Product ");
  fx_buf_i64(b, id - FX_ID_PRODUCT);
  kv_i64(b, "\",\"product_type\":\"type-", p->i % 17);
  kv_time(b, "\",\"created_at\":", created);
  kv_time(b, ",\"updated_at\":", created);
  if (kind != FX_DIRTY_missing_fields) {
    fx_buf_str(b, ",\"variants\":[");
    for (uint32_t v = 0; v < w->p_variants[p->i]; v++) {
      kv_i64(b, v ? ",{\"id\":" : "{\"id\":", FX_ID_VARIANT + (int64_t)p->i * 4 + v);
      fx_buf_str(b, ",\"price\":");
      if (kind == FX_DIRTY_invalid_data)
        fx_buf_str(b, "\"12.3x\"");
      else
        fx_buf_price(b, w->p_price[p->i] + 500 * v);
      kv_i64(b, ",\"sku\":\"SKU-", (int64_t)p->i * 4 + v);
      fx_buf_str(b, "\"}");
    }
    fx_buf_ch(b, ']');
  }
  fx_buf_str(b, "}\n");
}

/* ---- collections ---- */

struct collection_rec { uint32_t i, shop, n; const uint32_t *members; fx_time updated; };

static void write_collection(struct world *w, struct fx_buf *b, const void *rec, int kind,
                             int64_t id)
{
  const struct collection_rec *c = rec;
  kv_i64(b, "{\"id\":", id);
  kv_i64(b, ",\"shop_id\":", c->shop + 1);
  kv_i64(b, ",\"title\":\"Collection ", c->i);
  if (kind == FX_DIRTY_invalid_data)
    fx_buf_str(b, "\",\"updated_at\":\"yesterday\"");
  else
    kv_time(b, "\",\"updated_at\":", kind == FX_DIRTY_future_timestamps ? future(w, id) : c->updated);
  if (kind != FX_DIRTY_missing_fields) {
    fx_buf_str(b, ",\"products\":[");
    for (uint32_t k = 0; k < c->n; k++) {
      if (k)
        fx_buf_ch(b, ',');
      fx_buf_i64(b, FX_ID_PRODUCT + c->members[k]);
    }
    if (kind == FX_DIRTY_fk_violations)
      kv_i64(b, c->n ? "," : "", FX_ID_UNKNOWN);
    fx_buf_ch(b, ']');
  }
  fx_buf_str(b, "}\n");
}

/* ---- customers ---- */

struct customer_rec { uint32_t i, shop; };

static void write_customer(struct world *w, struct fx_buf *b, const void *rec, int kind, int64_t id)
{
  const struct customer_rec *c = rec;
  fx_time created = kind == FX_DIRTY_future_timestamps ? future(w, id) : w->c_created[c->i];
  kv_i64(b, "{\"id\":", id);
  kv_i64(b, ",\"shop_id\":", kind == FX_DIRTY_fk_violations ? FX_SHOP_UNKNOWN : c->shop + 1);
  kv_i64(b, ",\"email\":\"customer-", id - FX_ID_CUSTOMER);
  fx_buf_str(b, "@example.com\"");
  if (kind == FX_DIRTY_invalid_data)
    fx_buf_str(b, ",\"created_at\":\"2025-13-45T00:00:00Z\"");
  else if (kind != FX_DIRTY_missing_fields)
    kv_time(b, ",\"created_at\":", created);
  kv_time(b, ",\"updated_at\":", created);
  fx_buf_str(b, "}\n");
}

/* ---- orders ---- */

#define FX_MAX_ITEMS 4
struct order_rec {
  uint64_t i; uint32_t shop, customer, n;
  uint32_t product[FX_MAX_ITEMS], qty[FX_MAX_ITEMS], variant[FX_MAX_ITEMS];
  fx_time created, updated, cancelled; int status;
};

static const char *const statuses[] = {"pending", "authorized", "paid", "partially_paid",
                                       "partially_refunded", "refunded", "voided"};

static void write_order(struct world *w, struct fx_buf *b, const void *rec, int kind, int64_t id)
{
  const struct order_rec *o = rec;
  fx_time created = o->created, updated = o->updated;
  int bad = kind == FX_DIRTY_invalid_data ? (int)(id % 3) : -1;
  if (kind == FX_DIRTY_future_timestamps)
    created = updated = future(w, id);
  kv_i64(b, "{\"id\":", id);
  kv_i64(b, ",\"shop_id\":", o->shop + 1);
  kv_i64(b, ",\"name\":\"#", (int64_t)o->i + 1001);
  kv_time(b, "\",\"created_at\":", created);
  kv_time(b, ",\"updated_at\":", updated);
  fx_buf_str(b, ",\"financial_status\":\"");
  fx_buf_str(b, bad == 2 ? "mystery" : statuses[o->status]);
  fx_buf_str(b, "\",\"cancelled_at\":");
  if (o->cancelled)
    fx_buf_time(b, o->cancelled);
  else
    fx_buf_str(b, "null");
  if (kind != FX_DIRTY_missing_fields) {
    kv_i64(b, ",\"customer\":{\"id\":",
           kind == FX_DIRTY_fk_violations && o->n > 1 ? FX_ID_UNKNOWN
                                                       : FX_ID_CUSTOMER + o->customer);
    kv_i64(b, ",\"email\":\"customer-", o->customer);
    fx_buf_str(b, "@example.com\"}");
  }
  fx_buf_str(b, ",\"line_items\":[");
  for (uint32_t k = 0; k < o->n; k++) {
    uint32_t p = o->product[k];
    kv_i64(b, k ? ",{\"id\":" : "{\"id\":", FX_ID_LINE + (int64_t)o->i * FX_MAX_ITEMS + k);
    kv_i64(b, ",\"product_id\":",
           kind == FX_DIRTY_fk_violations && o->n == 1 ? FX_ID_UNKNOWN : FX_ID_PRODUCT + p);
    kv_i64(b, ",\"variant_id\":", FX_ID_VARIANT + (int64_t)p * 4 + o->variant[k]);
    kv_i64(b, ",\"quantity\":", bad == 0 && k == 0 ? -(int64_t)o->qty[k] : (int64_t)o->qty[k]);
    fx_buf_str(b, ",\"price\":");
    if (bad == 1 && k == 0)
      fx_buf_str(b, "\"n/a\"");
    else
      fx_buf_price(b, w->p_price[p] + 500 * o->variant[k]);
    fx_buf_ch(b, '}');
  }
  fx_buf_str(b, "]}\n");
}

/* ---- events ---- */

struct event_rec { uint64_t i; uint32_t shop, customer, product; fx_time at; int cart; };

static void write_event(struct world *w, struct fx_buf *b, const void *rec, int kind, int64_t id)
{
  const struct event_rec *e = rec;
  kv_i64(b, "{\"id\":", id);
  kv_i64(b, ",\"shop_id\":", e->shop + 1);
  fx_buf_str(b, ",\"kind\":\"");
  fx_buf_str(b, kind == FX_DIRTY_invalid_data ? "hover" : e->cart ? "cart_add" : "view");
  kv_i64(b, "\",\"customer_id\":",
         kind == FX_DIRTY_fk_violations ? FX_ID_UNKNOWN : FX_ID_CUSTOMER + e->customer);
  if (kind != FX_DIRTY_missing_fields)
    kv_i64(b, ",\"product_id\":", FX_ID_PRODUCT + e->product);
  kv_time(b, ",\"occurred_at\":", kind == FX_DIRTY_future_timestamps ? future(w, id) : e->at);
  fx_buf_str(b, "}\n");
}

/* ---- the driver ---- */

static void gen_catalog(struct world *w, uint64_t seed, struct fx_raw *out)
{
  const struct scale *sc = w->sc;
  struct fx_rng r;
  fx_rng_seed(&r, seed, 1);
  for (uint32_t s = 0; s < sc->shops; s++)
    for (uint32_t l = 0; l < w->p_count[s]; l++) {
      uint32_t i = w->p_start[s] + l;
      int old = l < w->p_count[s] - w->p_count[s] / 10;
      w->p_created[i] = old ? w->start - FX_DAY * (1 + (fx_time)fx_rng_below(&r, 365))
                            : w->start + (fx_time)fx_rng_below(&r, 170 * FX_DAY);
      w->p_price[i] = 199 + (int64_t)fx_rng_below(&r, 9800);
      w->p_variants[i] = (uint8_t)(1 + fx_rng_below(&r, 3));
      struct product_rec rec = {i, s};
      emit(w, &out->table[FX_RAW_PRODUCTS], FX_RAW_PRODUCTS, write_product, &rec,
           FX_ID_PRODUCT + i, w->p_created[i]);
    }

  fx_rng_seed(&r, seed, 2);
  uint32_t *k_start = calloc(sc->shops, 4), *k_count = calloc(sc->shops, 4);
  uint32_t members[40];
  split(sc->collections, sc->shops, k_start, k_count);
  for (uint32_t s = 0; s < sc->shops; s++)
    for (uint32_t l = 0; l < k_count[s]; l++) {
      struct collection_rec rec = {k_start[s] + l, s, 0, members, 0};
      uint32_t want = 5 + (uint32_t)fx_rng_below(&r, 30);
      fx_time created = w->start - FX_DAY * (30 + (fx_time)fx_rng_below(&r, 170));
      rec.updated = created;
      for (uint32_t k = 0; k < want && rec.n < w->p_count[s]; k++) {
        uint32_t p = w->p_start[s] + (uint32_t)fx_rng_below(&r, w->p_count[s]);
        int dup = 0;
        for (uint32_t m = 0; m < rec.n; m++)
          dup |= members[m] == p;
        if (dup)
          continue;
        members[rec.n++] = p;
        if (w->p_created[p] > rec.updated)
          rec.updated = w->p_created[p];
      }
      emit(w, &out->table[FX_RAW_COLLECTIONS], FX_RAW_COLLECTIONS, write_collection, &rec,
           FX_ID_COLLECTION + rec.i, rec.updated);
    }
  free(k_start);
  free(k_count);

  fx_rng_seed(&r, seed, 3);
  for (uint32_t s = 0; s < sc->shops; s++)
    for (uint32_t l = 0; l < w->c_count[s]; l++) {
      uint32_t i = w->c_start[s] + l;
      int old = l < w->c_count[s] - w->c_count[s] / 10;
      w->c_created[i] = old ? w->start - FX_DAY * (1 + (fx_time)fx_rng_below(&r, 365))
                            : w->start + (fx_time)fx_rng_below(&r, 170 * FX_DAY);
      struct customer_rec rec = {i, s};
      emit(w, &out->table[FX_RAW_CUSTOMERS], FX_RAW_CUSTOMERS, write_customer, &rec,
           FX_ID_CUSTOMER + i, w->c_created[i]);
    }
}

static void gen_activity(struct world *w, uint64_t seed, struct fx_raw *out)
{
  const struct scale *sc = w->sc;
  fx_time span = (fx_time)FX_GEN_SPAN_DAYS * FX_DAY;
  uint32_t *o_start = calloc(sc->shops, 4), *o_count = calloc(sc->shops, 4);
  struct fx_rng r;
  fx_rng_seed(&r, seed, 4);
  split(sc->orders, sc->shops, o_start, o_count);
  for (uint32_t s = 0; s < sc->shops; s++)
    for (uint32_t k = 0; k < o_count[s]; k++) {
      struct order_rec o = {.i = o_start[s] + k, .shop = s};
      fx_time step = span / o_count[s];
      o.created = w->start + (fx_time)k * span / o_count[s] + (fx_time)fx_rng_below(&r, (uint64_t)step);
      o.customer = pick(&r, w->c_start[s], w->c_count[s], w->c_created, o.created);
      uint32_t want = 1 + (uint32_t)fx_rng_skewed(&r, FX_MAX_ITEMS);
      for (uint32_t n = 0; n < want; n++) {
        uint32_t p = pick(&r, w->p_start[s], w->p_count[s], w->p_created, o.created);
        uint32_t qty = 1 + (uint32_t)fx_rng_skewed(&r, 3);
        uint32_t variant = (uint32_t)fx_rng_below(&r, w->p_variants[p]);
        int dup = 0;
        for (uint32_t m = 0; m < o.n; m++)
          dup |= o.product[m] == p;
        if (dup)
          continue;
        o.product[o.n] = p;
        o.qty[o.n] = qty;
        o.variant[o.n++] = variant;
      }
      uint64_t roll = fx_rng_below(&r, 100);
      o.status = roll < 78 ? 2 : roll < 83 ? 0 : roll < 86 ? 1 : roll < 91 ? 5 : roll < 95 ? 4
               : roll < 97 ? 3 : 6;
      uint64_t cancel_roll = fx_rng_below(&r, 100);
      fx_time later = 1 + (fx_time)fx_rng_below(&r, 10 * FX_DAY);
      o.updated = o.created;
      if (o.status == 6 || cancel_roll < 2)
        o.cancelled = o.created + later / 10;
      if (o.status == 4 || o.status == 5)
        o.updated = o.created + later;
      if (o.cancelled > o.updated)
        o.updated = o.cancelled;
      if (o.updated > w->ref)
        o.updated = w->ref;
      if (o.cancelled > w->ref)
        o.cancelled = w->ref;
      emit(w, &out->table[FX_RAW_ORDERS], FX_RAW_ORDERS, write_order, &o,
           FX_ID_ORDER + (int64_t)o.i, o.updated);
    }

  fx_rng_seed(&r, seed, 5);
  split(sc->events, sc->shops, o_start, o_count);
  for (uint32_t s = 0; s < sc->shops; s++)
    for (uint32_t k = 0; k < o_count[s]; k++) {
      struct event_rec e = {.i = o_start[s] + k, .shop = s};
      fx_time step = span / o_count[s];
      e.at = w->start + (fx_time)k * span / o_count[s] + (fx_time)fx_rng_below(&r, (uint64_t)step);
      e.product = pick(&r, w->p_start[s], w->p_count[s], w->p_created, e.at);
      e.customer = pick(&r, w->c_start[s], w->c_count[s], w->c_created, e.at);
      e.cart = fx_rng_below(&r, 100) >= 85;
      emit(w, &out->table[FX_RAW_EVENTS], FX_RAW_EVENTS, write_event, &e,
           FX_ID_EVENT + (int64_t)e.i, e.at);
    }
  free(o_start);
  free(o_count);
}

static void write_manifest(struct world *w, const struct fx_gen_opts *o, struct fx_buf *b)
{
  static const char *const dirty_names[] = {
#define FX_DIRTY_NAME(n) #n,
    FX_DIRTY_MAP(FX_DIRTY_NAME)
#undef FX_DIRTY_NAME
  };
  fx_buf_str(b, "{\"schema\":\"perfsweep.dataset/1\",\"scale\":\"");
  fx_buf_str(b, w->sc->name);
  kv_i64(b, "\",\"seed\":", (int64_t)o->seed);
  kv_time(b, ",\"reference_time\":", w->ref);
  kv_i64(b, ",\"cutoff_days\":", o->cutoff_days);
  kv_i64(b, ",\"dirty_ppm\":", o->dirty_ppm);
  fx_buf_str(b, ",\"records\":{");
  for (int t = 0; t < FX_RAW_COUNT; t++) {
    fx_buf_str(b, t ? ",\"" : "\"");
    fx_buf_str(b, fx_raw_names[t]);
    kv_i64(b, "\":", (int64_t)w->counts.records[t]);
  }
  fx_buf_str(b, "},\"dirty\":{");
  for (int k = 0; k < FX_DIRTY_COUNT; k++) {
    fx_buf_str(b, k ? ",\"" : "\"");
    fx_buf_str(b, dirty_names[k]);
    kv_i64(b, "\":", (int64_t)w->counts.dirty[k]);
  }
  fx_buf_str(b, "}}\n");
}

int fx_gen(const struct fx_gen_opts *o, struct fx_raw *out, struct fx_gen_counts *counts)
{
  struct world w = {.sc = find_scale(o->scale)};
  if (!w.sc)
    return -1;
  const struct scale *sc = w.sc;
  w.ref = FX_GEN_REFERENCE_TIME;
  w.start = w.ref - (fx_time)FX_GEN_SPAN_DAYS * FX_DAY;
  w.dirty_ppm = o->dirty_ppm;
  w.cutoff = o->cutoff_days ? w.ref - (fx_time)o->cutoff_days * FX_DAY : 0;
  fx_rng_seed(&w.dirty, o->seed, 6);
  w.p_start = calloc(sc->shops, 4);
  w.p_count = calloc(sc->shops, 4);
  w.c_start = calloc(sc->shops, 4);
  w.c_count = calloc(sc->shops, 4);
  w.p_created = calloc(sc->products, sizeof(fx_time));
  w.c_created = calloc(sc->customers, sizeof(fx_time));
  w.p_price = calloc(sc->products, sizeof(int64_t));
  w.p_variants = calloc(sc->products, 1);
  if (!w.p_start || !w.p_count || !w.c_start || !w.c_count || !w.p_created || !w.c_created ||
      !w.p_price || !w.p_variants) {
    fx_buf_reserve(&out->manifest, (size_t)1 << 62); /* reports out of memory and exits */
  }
  split(sc->products, sc->shops, w.p_start, w.p_count);
  split(sc->customers, sc->shops, w.c_start, w.c_count);
  snprintf(out->origin, sizeof out->origin, "gen:%s", sc->name);

  for (uint32_t s = 0; s < sc->shops; s++) {
    struct fx_buf *b = &out->table[FX_RAW_SHOPS];
    kv_i64(b, "{\"id\":", s + 1);
    kv_i64(b, ",\"domain\":\"shop-", s + 1);
    fx_buf_str(b, ".example.com\",\"currency\":\"EUR\"}\n");
    w.counts.records[FX_RAW_SHOPS]++;
  }
  gen_catalog(&w, o->seed, out);
  gen_activity(&w, o->seed, out);
  write_manifest(&w, o, &out->manifest);
  if (counts)
    *counts = w.counts;
  free(w.p_start);
  free(w.p_count);
  free(w.c_start);
  free(w.c_count);
  free(w.p_created);
  free(w.c_created);
  free(w.p_price);
  free(w.p_variants);
  return 0;
}
