/* fx-normalize.c - the normalize stage (see fx-normalize.h and docs/features.md, "Rejected
 * records"). Order of checks for each record: missing required fields, invalid values,
 * timestamps after the reference time, foreign keys, duplicate id; the first that fails
 * decides the category. Accepted rows are appended to the dataset in input order.
 */
#include "fx-normalize.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-idmap.h"
#include "fx-json.h"
#include "fx-time.h"

/* Grows a dataset array to hold one more element. */
#define FX_PUSH(arr, n, cap)                                                                  \
  do {                                                                                        \
    if ((n) == (cap)) {                                                                       \
      size_t nc_ = (cap) ? (cap) * 2 : 1024;                                                  \
      void *p_ = realloc((arr), nc_ * sizeof *(arr));                                         \
      if (!p_) {                                                                              \
        fprintf(stderr, "perfsweep-features: error: out of memory normalizing; use a "        \
                        "smaller --scale\n");                                                 \
        exit(PS_EXIT_ENVIRONMENT);                                                            \
      }                                                                                       \
      (arr) = p_;                                                                             \
      (cap) = nc_;                                                                            \
    }                                                                                         \
  } while (0)

enum verdict { OK, MISSING, INVALID, FUTURE, FK, DUPLICATE };

/* Duplicate detection for the tables whose ids nothing references (orders, events). While ids
 * arrive ascending, as exports list them, an id above every accepted one cannot be a duplicate
 * and no hash is touched; the first id at or below that maximum builds the hash set from the
 * accepted rows, which is used from then on. Same answers as a hash set, far fewer misses. */
struct dedupe { struct fx_idmap set; int64_t max; int built; };
_Static_assert(offsetof(struct fx_order, id) == 0, "dedupe_put reads the id first");
_Static_assert(offsetof(struct fx_event, id) == 0, "dedupe_put reads the id first");

/* 1 if id is new (and now recorded), 0 if it was accepted before. rows[0..n) are the accepted
 * rows, each starting with its int64_t id, stride bytes apart. */
static int dedupe_put(struct dedupe *d, int64_t id, uint32_t idx, const void *rows, size_t n,
                      size_t stride)
{
  if (!d->built) {
    if (n == 0 || id > d->max) {
      d->max = id;
      return 1;
    }
    fx_idmap_reserve(&d->set, 2 * n);
    for (size_t i = 0; i < n; i++)
      fx_idmap_put(&d->set, *(const int64_t *)((const char *)rows + i * stride), (uint32_t)i,
                   NULL);
    d->built = 1;
  }
  return fx_idmap_put(&d->set, id, idx, NULL);
}

struct fx_norm {
  struct fx_dataset *ds;
  char origin[512];              /* the folder, or "gen:SCALE", for messages */
  size_t line[FX_RAW_COUNT];     /* lines of each table seen so far */
  struct fx_idmap shops, products, collections, customers;
  struct dedupe orders, events;
  size_t cap_shops, cap_products, cap_collections, cap_links, cap_customers, cap_orders,
      cap_items, cap_events;
  /* the shop of each accepted product and customer, for the foreign-key checks: 4 bytes
   * each instead of a row of 32-40 bytes, so those random reads stay in cache */
  uint32_t *product_shop, *customer_shop;
  size_t cap_product_shop, cap_customer_shop;
  /* scratch of the record being parsed */
  int64_t *ids; size_t n_ids, cap_ids;
  struct fx_item *items; size_t n_items, cap_items_tmp;
};

/* Per-record parse state: presence bits and an invalid flag. */
struct rec { unsigned have; int invalid; int future; };

static int int_field(struct fx_json *j, struct rec *r, unsigned bit, int64_t *v)
{
  if (fx_json_null(j))
    return 0;
  int k = fx_json_int(j, v);
  if (k == FX_J_SYNTAX)
    return -1;
  r->have |= bit; /* present: a bad value is invalid data, not a missing field */
  if (k == FX_J_TYPE || *v <= 0)
    r->invalid = 1;
  return 0;
}

static int time_field(struct fx_json *j, struct rec *r, unsigned bit, fx_time *t, fx_time ref)
{
  const char *s;
  size_t n;
  if (fx_json_null(j))
    return 0;
  int k = fx_json_string(j, &s, &n);
  if (k == FX_J_SYNTAX)
    return -1;
  r->have |= bit;
  if (k == FX_J_TYPE || fx_time_parse(s, n, t) != 0) {
    r->invalid = 1;
    return 0;
  }
  if (*t > ref)
    r->future = 1;
  return 0;
}

static int skip_value(struct fx_json *j) { return fx_json_skip(j) == FX_J_OK ? 0 : -1; }

static enum verdict decide(const struct rec *r, unsigned required)
{
  if ((r->have & required) != required)
    return MISSING;
  if (r->invalid)
    return INVALID;
  if (r->future)
    return FUTURE;
  return OK;
}

static void count(struct fx_dataset *ds, enum verdict v)
{
  switch (v) {
  case MISSING: ds->rejects.missing_fields++; break;
  case INVALID: ds->rejects.invalid_data++; break;
  case FUTURE: ds->rejects.future_timestamps++; break;
  case FK: ds->rejects.fk_violations++; break;
  case DUPLICATE: ds->rejects.duplicates++; break;
  case OK: break;
  }
}

static void fresh(struct fx_dataset *ds, fx_time t)
{
  if (t > ds->newest)
    ds->newest = t;
}

/* ---- one parser per table; each returns -1 on a JSON syntax error ---- */

static int parse_shop(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0;
  const char *k;
  size_t kl;
  int m;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id") ? int_field(j, &r, 1, &id) : skip_value(j))
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1);
  if (v == OK && !fx_idmap_put(&nm->shops, id, (uint32_t)nm->ds->n_shops, NULL))
    v = DUPLICATE;
  count(nm->ds, v);
  if (v != OK)
    return 0;
  FX_PUSH(nm->ds->shops, nm->ds->n_shops, nm->cap_shops);
  nm->ds->shops[nm->ds->n_shops++] = (struct fx_shop){id};
  return 0;
}

static int parse_variants(struct fx_norm *nm, struct fx_json *j, struct rec *r, int64_t *price)
{
  int m, e;
  const char *k;
  size_t kl;
  int n = 0, missing = 0;
  *price = INT64_MAX;
  if ((e = fx_json_array(j)) != FX_J_OK) {
    r->invalid = 1;
    return e == FX_J_SYNTAX ? -1 : 0;
  }
  while ((e = fx_json_element(j)) == 1) {
    int has_price = 0;
    if ((m = fx_json_object(j)) != FX_J_OK) {
      if (m == FX_J_SYNTAX)
        return -1;
      r->invalid = 1;
      continue;
    }
    while ((m = fx_json_member(j, &k, &kl)) == 1) {
      if (fx_json_key_is(k, kl, "price")) {
        const char *s;
        size_t sn;
        int64_t cents;
        if (fx_json_null(j))
          continue;
        has_price = 1;
        int t = fx_json_string(j, &s, &sn);
        if (t == FX_J_SYNTAX)
          return -1;
        if (t == FX_J_TYPE || fx_price_parse(s, sn, &cents) != 0) {
          r->invalid = 1;
          continue;
        }
        if (cents < *price)
          *price = cents;
      } else if (skip_value(j)) {
        return -1;
      }
    }
    if (m < 0)
      return -1;
    missing |= !has_price;
    n++;
  }
  if (e < 0)
    return -1;
  if (n > 0 && !missing)
    r->have |= 8;
  (void)nm;
  return 0;
}

static int parse_product(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0, shop = 0, price = 0;
  fx_time created = 0, updated = 0;
  const char *k;
  size_t kl;
  int m, bad = 0;
  fx_time ref = nm->ds->reference_time;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id"))
      bad = int_field(j, &r, 1, &id);
    else if (fx_json_key_is(k, kl, "shop_id"))
      bad = int_field(j, &r, 2, &shop);
    else if (fx_json_key_is(k, kl, "variants")) {
      if (!fx_json_null(j))
        bad = parse_variants(nm, j, &r, &price);
    } else if (fx_json_key_is(k, kl, "created_at"))
      bad = time_field(j, &r, 16, &created, ref);
    else if (fx_json_key_is(k, kl, "updated_at"))
      bad = time_field(j, &r, 32, &updated, ref);
    else
      bad = skip_value(j);
    if (bad)
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1 | 2 | 8 | 16 | 32);
  uint32_t s = FX_IDMAP_NONE;
  if (v == OK && (s = fx_idmap_get(&nm->shops, shop)) == FX_IDMAP_NONE)
    v = FK;
  if (v == OK && !fx_idmap_put(&nm->products, id, (uint32_t)nm->ds->n_products, NULL))
    v = DUPLICATE;
  count(nm->ds, v);
  if (v != OK)
    return 0;
  struct fx_dataset *ds = nm->ds;
  FX_PUSH(ds->products, ds->n_products, nm->cap_products);
  FX_PUSH(nm->product_shop, ds->n_products, nm->cap_product_shop);
  nm->product_shop[ds->n_products] = s;
  ds->products[ds->n_products++] = (struct fx_product){id, s, price, created, updated};
  fresh(ds, updated);
  return 0;
}

static int parse_id_list(struct fx_norm *nm, struct fx_json *j, struct rec *r, unsigned bit)
{
  int e, t;
  nm->n_ids = 0;
  if ((e = fx_json_array(j)) != FX_J_OK) {
    r->invalid = 1;
    return e == FX_J_SYNTAX ? -1 : 0;
  }
  while ((e = fx_json_element(j)) == 1) {
    int64_t v;
    if ((t = fx_json_int(j, &v)) == FX_J_SYNTAX)
      return -1;
    if (t == FX_J_TYPE || v <= 0) {
      r->invalid = 1;
      continue;
    }
    FX_PUSH(nm->ids, nm->n_ids, nm->cap_ids);
    nm->ids[nm->n_ids++] = v;
  }
  if (e < 0)
    return -1;
  r->have |= bit;
  return 0;
}

static int parse_collection(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0, shop = 0;
  fx_time updated = 0;
  const char *k;
  size_t kl;
  int m, bad = 0;
  struct fx_dataset *ds = nm->ds;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  nm->n_ids = 0;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id"))
      bad = int_field(j, &r, 1, &id);
    else if (fx_json_key_is(k, kl, "shop_id"))
      bad = int_field(j, &r, 2, &shop);
    else if (fx_json_key_is(k, kl, "updated_at"))
      bad = time_field(j, &r, 4, &updated, ds->reference_time);
    else if (fx_json_key_is(k, kl, "products")) {
      if (!fx_json_null(j))
        bad = parse_id_list(nm, j, &r, 8);
    } else
      bad = skip_value(j);
    if (bad)
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1 | 2 | 4 | 8);
  uint32_t s = FX_IDMAP_NONE;
  if (v == OK && (s = fx_idmap_get(&nm->shops, shop)) == FX_IDMAP_NONE)
    v = FK;
  for (size_t i = 0; v == OK && i < nm->n_ids; i++) {
    uint32_t p = fx_idmap_get(&nm->products, nm->ids[i]);
    if (p == FX_IDMAP_NONE || nm->product_shop[p] != s)
      v = FK;
  }
  if (v == OK && !fx_idmap_put(&nm->collections, id, (uint32_t)ds->n_collections, NULL))
    v = DUPLICATE;
  count(ds, v);
  if (v != OK)
    return 0;
  uint32_t c = (uint32_t)ds->n_collections;
  FX_PUSH(ds->collections, ds->n_collections, nm->cap_collections);
  ds->collections[ds->n_collections++] = (struct fx_collection){id, s, updated};
  size_t first = ds->n_links;
  for (size_t i = 0; i < nm->n_ids; i++) {
    uint32_t p = fx_idmap_get(&nm->products, nm->ids[i]);
    int seen = 0; /* a product listed twice is one membership */
    for (size_t q = first; q < ds->n_links && !seen; q++)
      seen = ds->links[q].product == p;
    if (seen)
      continue;
    FX_PUSH(ds->links, ds->n_links, nm->cap_links);
    ds->links[ds->n_links++] = (struct fx_link){c, p};
  }
  fresh(ds, updated);
  return 0;
}

static int parse_customer(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0, shop = 0;
  fx_time created = 0, updated = 0;
  const char *k;
  size_t kl;
  int m, bad = 0;
  struct fx_dataset *ds = nm->ds;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id"))
      bad = int_field(j, &r, 1, &id);
    else if (fx_json_key_is(k, kl, "shop_id"))
      bad = int_field(j, &r, 2, &shop);
    else if (fx_json_key_is(k, kl, "created_at"))
      bad = time_field(j, &r, 4, &created, ds->reference_time);
    else if (fx_json_key_is(k, kl, "updated_at"))
      bad = time_field(j, &r, 8, &updated, ds->reference_time);
    else
      bad = skip_value(j);
    if (bad)
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1 | 2 | 4 | 8);
  uint32_t s = FX_IDMAP_NONE;
  if (v == OK && (s = fx_idmap_get(&nm->shops, shop)) == FX_IDMAP_NONE)
    v = FK;
  if (v == OK && !fx_idmap_put(&nm->customers, id, (uint32_t)ds->n_customers, NULL))
    v = DUPLICATE;
  count(ds, v);
  if (v != OK)
    return 0;
  FX_PUSH(ds->customers, ds->n_customers, nm->cap_customers);
  FX_PUSH(nm->customer_shop, ds->n_customers, nm->cap_customer_shop);
  nm->customer_shop[ds->n_customers] = s;
  ds->customers[ds->n_customers++] = (struct fx_customer){id, s, created, updated};
  fresh(ds, updated);
  return 0;
}

/* The nested customer object of an order: only its id matters. */
static int parse_order_customer(struct fx_json *j, struct rec *r, int64_t *cid)
{
  const char *k;
  size_t kl;
  int m = fx_json_object(j);
  if (m != FX_J_OK) {
    r->invalid = 1;
    return m == FX_J_SYNTAX ? -1 : 0;
  }
  while ((m = fx_json_member(j, &k, &kl)) == 1)
    if (fx_json_key_is(k, kl, "id") ? int_field(j, r, 64, cid) : skip_value(j))
      return -1;
  return m < 0 ? -1 : 0;
}

/* line_items: product_id, quantity, price per item; a missing one makes the order MISSING. */
static int parse_line_items(struct fx_norm *nm, struct fx_json *j, struct rec *r)
{
  int e, m;
  const char *k;
  size_t kl;
  nm->n_items = 0;
  if ((e = fx_json_array(j)) != FX_J_OK) {
    r->invalid = 1;
    return e == FX_J_SYNTAX ? -1 : 0;
  }
  int all_complete = 1;
  while ((e = fx_json_element(j)) == 1) {
    struct rec ir = {0};
    int64_t product = 0, qty = 0, cents = 0;
    if ((m = fx_json_object(j)) != FX_J_OK) {
      if (m == FX_J_SYNTAX)
        return -1;
      r->invalid = 1;
      continue;
    }
    while ((m = fx_json_member(j, &k, &kl)) == 1) {
      int bad = 0;
      if (fx_json_key_is(k, kl, "product_id"))
        bad = int_field(j, &ir, 1, &product);
      else if (fx_json_key_is(k, kl, "quantity")) {
        if (!fx_json_null(j)) {
          int t = fx_json_int(j, &qty);
          if (t == FX_J_SYNTAX)
            return -1;
          ir.have |= 2;
          if (t == FX_J_TYPE || qty <= 0 || qty > 1000000)
            ir.invalid = 1;
        }
      } else if (fx_json_key_is(k, kl, "price")) {
        const char *s;
        size_t sn;
        if (!fx_json_null(j)) {
          int t = fx_json_string(j, &s, &sn);
          if (t == FX_J_SYNTAX)
            return -1;
          ir.have |= 4;
          if (t == FX_J_TYPE || fx_price_parse(s, sn, &cents) != 0)
            ir.invalid = 1;
        }
      } else
        bad = skip_value(j);
      if (bad)
        return -1;
    }
    if (m < 0)
      return -1;
    if (ir.invalid)
      r->invalid = 1;
    if ((ir.have & 7) != 7) {
      all_complete = 0;
      continue;
    }
    FX_PUSH(nm->items, nm->n_items, nm->cap_items_tmp);
    FX_PUSH(nm->ids, nm->n_items - 0, nm->cap_ids);
    nm->ids[nm->n_items] = product;
    nm->items[nm->n_items++] = (struct fx_item){0, 0, (int32_t)qty, cents};
  }
  if (e < 0)
    return -1;
  if (all_complete && nm->n_items > 0)
    r->have |= 128;
  return 0;
}

static int parse_order(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0, shop = 0, cid = 0;
  fx_time created = 0, updated = 0, cancelled_at = 0;
  int status = -1, cancelled = 0;
  const char *k, *s;
  size_t kl, sn;
  int m, bad = 0;
  struct fx_dataset *ds = nm->ds;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  nm->n_items = 0;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id"))
      bad = int_field(j, &r, 1, &id);
    else if (fx_json_key_is(k, kl, "shop_id"))
      bad = int_field(j, &r, 2, &shop);
    else if (fx_json_key_is(k, kl, "created_at"))
      bad = time_field(j, &r, 4, &created, ds->reference_time);
    else if (fx_json_key_is(k, kl, "updated_at"))
      bad = time_field(j, &r, 8, &updated, ds->reference_time);
    else if (fx_json_key_is(k, kl, "financial_status")) {
      if (!fx_json_null(j)) {
        int t = fx_json_string(j, &s, &sn);
        if (t == FX_J_SYNTAX)
          return -1;
        r.have |= 16;
        if (t == FX_J_TYPE || (status = fx_status_parse(s, sn)) < 0)
          r.invalid = 1;
      }
    } else if (fx_json_key_is(k, kl, "cancelled_at")) {
      struct rec cr = {0};
      bad = time_field(j, &cr, 1, &cancelled_at, ds->reference_time);
      cancelled = cr.have & 1;
      r.invalid |= cr.invalid;
      r.future |= cr.future;
    } else if (fx_json_key_is(k, kl, "customer")) {
      if (!fx_json_null(j)) {
        r.have |= 32;
        bad = parse_order_customer(j, &r, &cid);
      }
    } else if (fx_json_key_is(k, kl, "line_items")) {
      if (!fx_json_null(j))
        bad = parse_line_items(nm, j, &r);
    } else
      bad = skip_value(j);
    if (bad)
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128);
  uint32_t sh = FX_IDMAP_NONE, cust = FX_IDMAP_NONE;
  if (v == OK && (sh = fx_idmap_get(&nm->shops, shop)) == FX_IDMAP_NONE)
    v = FK;
  if (v == OK &&
      ((cust = fx_idmap_get(&nm->customers, cid)) == FX_IDMAP_NONE || nm->customer_shop[cust] != sh))
    v = FK;
  for (size_t i = 0; v == OK && i < nm->n_items; i++) {
    uint32_t p = fx_idmap_get(&nm->products, nm->ids[i]);
    if (p == FX_IDMAP_NONE || nm->product_shop[p] != sh)
      v = FK;
    else
      nm->items[i].product = p;
  }
  if (v == OK && !dedupe_put(&nm->orders, id, (uint32_t)ds->n_orders, ds->orders, ds->n_orders,
                             sizeof *ds->orders))
    v = DUPLICATE;
  count(ds, v);
  if (v != OK)
    return 0;
  uint32_t o = (uint32_t)ds->n_orders;
  FX_PUSH(ds->orders, ds->n_orders, nm->cap_orders);
  ds->orders[ds->n_orders++] =
      (struct fx_order){id, sh, cust, created, updated, cancelled ? cancelled_at : FX_NONE,
                        (uint8_t)status, (uint32_t)ds->n_items, (uint32_t)nm->n_items};
  for (size_t i = 0; i < nm->n_items; i++) {
    FX_PUSH(ds->items, ds->n_items, nm->cap_items);
    nm->items[i].order = o;
    ds->items[ds->n_items++] = nm->items[i];
  }
  fresh(ds, updated);
  return 0;
}

static int parse_event(struct fx_norm *nm, struct fx_json *j)
{
  struct rec r = {0};
  int64_t id = 0, shop = 0, cid = 0, pid = 0;
  fx_time at = 0;
  int kind = -1;
  const char *k, *s;
  size_t kl, sn;
  int m, bad = 0;
  struct fx_dataset *ds = nm->ds;
  if (fx_json_object(j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "id"))
      bad = int_field(j, &r, 1, &id);
    else if (fx_json_key_is(k, kl, "shop_id"))
      bad = int_field(j, &r, 2, &shop);
    else if (fx_json_key_is(k, kl, "customer_id"))
      bad = int_field(j, &r, 4, &cid);
    else if (fx_json_key_is(k, kl, "product_id"))
      bad = int_field(j, &r, 8, &pid);
    else if (fx_json_key_is(k, kl, "occurred_at"))
      bad = time_field(j, &r, 16, &at, ds->reference_time);
    else if (fx_json_key_is(k, kl, "kind")) {
      if (!fx_json_null(j)) {
        int t = fx_json_string(j, &s, &sn);
        if (t == FX_J_SYNTAX)
          return -1;
        if (t == FX_J_OK && fx_json_key_is(s, sn, "view"))
          kind = FX_EV_VIEW;
        else if (t == FX_J_OK && fx_json_key_is(s, sn, "cart_add"))
          kind = FX_EV_CART_ADD;
        r.have |= 32;
        if (kind < 0)
          r.invalid = 1;
      }
    } else
      bad = skip_value(j);
    if (bad)
      return -1;
  }
  if (m < 0)
    return -1;
  enum verdict v = decide(&r, 1 | 2 | 4 | 8 | 16 | 32);
  uint32_t sh = FX_IDMAP_NONE, cust = FX_IDMAP_NONE, prod = FX_IDMAP_NONE;
  if (v == OK && (sh = fx_idmap_get(&nm->shops, shop)) == FX_IDMAP_NONE)
    v = FK;
  if (v == OK && ((cust = fx_idmap_get(&nm->customers, cid)) == FX_IDMAP_NONE ||
                  nm->customer_shop[cust] != sh))
    v = FK;
  if (v == OK && ((prod = fx_idmap_get(&nm->products, pid)) == FX_IDMAP_NONE ||
                  nm->product_shop[prod] != sh))
    v = FK;
  if (v == OK && !dedupe_put(&nm->events, id, (uint32_t)ds->n_events, ds->events, ds->n_events,
                             sizeof *ds->events))
    v = DUPLICATE;
  count(ds, v);
  if (v != OK)
    return 0;
  FX_PUSH(ds->events, ds->n_events, nm->cap_events);
  ds->events[ds->n_events++] = (struct fx_event){id, sh, cust, prod, at, (uint8_t)kind};
  fresh(ds, at);
  return 0;
}

typedef int (*parse_fn)(struct fx_norm *nm, struct fx_json *j);
static const parse_fn parsers[FX_RAW_COUNT] = {parse_shop, parse_product, parse_collection,
                                               parse_customer, parse_order, parse_event};

static int syntax_error(const char *origin, int t, size_t line, const struct fx_json *j,
                        char *err, size_t errlen)
{
  snprintf(err, errlen,
           "%s/%s.jsonl:%zu: unreadable JSON at column %zu (%s); fix or regenerate the file "
           "(perfsweep-features generate)",
           origin, fx_raw_names[t], line, fx_json_column(j), j->err ? j->err : "not an object");
  return PS_EXIT_USAGE;
}

/* Calls fn on every non-blank line of text[0, len), a run of whole lines of table t whose
 * first line is *line + 1; *line ends as the number of the last line seen. */
static int each_line(const char *text, size_t len, size_t *line, const char *origin, int t,
                     struct fx_norm *nm, parse_fn fn, uint64_t *records, char *err, size_t errlen)
{
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    ++*line;
    const char *q = p;
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
      q++;
    if (q < e) {
      struct fx_json j;
      fx_json_init(&j, p, (size_t)(e - p));
      (*records)++;
      int r = fn ? fn(nm, &j) : (fx_json_skip(&j) == FX_J_OK ? 0 : -1);
      if (r != 0 || fx_json_end(&j) != FX_J_OK)
        return syntax_error(origin, t, *line, &j, err, errlen);
    }
    p = e + 1;
  }
  return 0;
}

int fx_manifest_reference_time(const char *text, size_t len, fx_time *t)
{
  struct fx_json j;
  const char *k, *s;
  size_t kl, sn;
  int m, found = 0;
  fx_json_init(&j, text, len);
  if (fx_json_object(&j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(&j, &k, &kl)) == 1) {
    if (fx_json_key_is(k, kl, "reference_time")) {
      if (fx_json_string(&j, &s, &sn) != FX_J_OK || fx_time_parse(s, sn, t) != 0)
        return -1;
      found = 1;
    } else if (fx_json_skip(&j) != FX_J_OK) {
      return -1;
    }
  }
  return m == 0 && found && fx_json_end(&j) == FX_J_OK ? 0 : -1;
}

/* ---- the page API (fx-normalize.h) ---- */

int fx_norm_begin(struct fx_norm **out, struct fx_dataset *ds, const char *origin,
                  const char *manifest, size_t manifest_len, char *err, size_t errlen)
{
  *out = NULL;
  if (fx_manifest_reference_time(manifest, manifest_len, &ds->reference_time)) {
    snprintf(err, errlen,
             "%s/%s: missing or without a valid \"reference_time\"; regenerate the dataset "
             "with perfsweep-features generate",
             origin, FX_MANIFEST_FILE);
    return PS_EXIT_USAGE;
  }
  struct fx_norm *nm = calloc(1, sizeof *nm);
  if (!nm) {
    fprintf(stderr, "perfsweep-features: error: out of memory normalizing; use a smaller "
                    "--scale\n");
    exit(PS_EXIT_ENVIRONMENT);
  }
  nm->ds = ds;
  snprintf(nm->origin, sizeof nm->origin, "%s", origin);
  *out = nm;
  return 0;
}

void fx_norm_reserve(struct fx_norm *nm, int table, size_t records)
{
  struct fx_idmap *maps[] = {&nm->shops, &nm->products, &nm->collections, &nm->customers};
  if (table >= 0 && table < 4) /* sized once: no rehashing */
    fx_idmap_reserve(maps[table], records + 1);
}

int fx_norm_page(struct fx_norm *nm, int table, const char *text, size_t len, char *err,
                 size_t errlen)
{
  return each_line(text, len, &nm->line[table], nm->origin, table, nm, parsers[table],
                   &nm->ds->records_in, err, errlen);
}

void fx_norm_end(struct fx_norm *nm)
{
  if (!nm)
    return;
  fx_idmap_free(&nm->shops);
  fx_idmap_free(&nm->products);
  fx_idmap_free(&nm->collections);
  fx_idmap_free(&nm->customers);
  fx_idmap_free(&nm->orders.set);
  fx_idmap_free(&nm->events.set);
  free(nm->ids);
  free(nm->items);
  free(nm->product_shop);
  free(nm->customer_shop);
  free(nm);
}

/* ---- whole tables in memory: each table is one page ---- */

static int normalize(struct fx_raw *raw, int release, struct fx_dataset *ds, char *err,
                     size_t errlen)
{
  struct fx_norm *nm;
  int rc = fx_norm_begin(&nm, ds, raw->origin, raw->manifest.data, raw->manifest.len, err,
                         errlen);
  if (rc)
    return rc;
  for (int t = 0; t < 4; t++) {
    size_t lines = 0;
    const char *p = raw->table[t].data, *end = p + raw->table[t].len;
    while (p && p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      lines++;
      p++;
    }
    fx_norm_reserve(nm, t, lines);
  }
  for (int t = 0; t < FX_RAW_COUNT && rc == 0; t++) {
    rc = fx_norm_page(nm, t, raw->table[t].data, raw->table[t].len, err, errlen);
    if (release) /* the raw text of a parsed table is not needed any more */
      fx_buf_free(&raw->table[t]);
  }
  fx_norm_end(nm);
  return rc;
}

int fx_normalize(const struct fx_raw *raw, struct fx_dataset *ds, char *err, size_t errlen)
{
  return normalize((struct fx_raw *)raw, 0, ds, err, errlen); /* release = 0: raw untouched */
}

int fx_normalize_release(struct fx_raw *raw, struct fx_dataset *ds, char *err, size_t errlen)
{
  return normalize(raw, 1, ds, err, errlen);
}

int fx_parse_only_page(const char *origin, int table, const char *text, size_t len,
                       size_t *line, uint64_t *records, char *err, size_t errlen)
{
  return each_line(text, len, line, origin, table, NULL, NULL, records, err, errlen);
}

int fx_parse_only(const struct fx_raw *raw, uint64_t *records, char *err, size_t errlen)
{
  *records = 0;
  for (int t = 0; t < FX_RAW_COUNT; t++) {
    size_t line = 0;
    int rc = fx_parse_only_page(raw->origin, t, raw->table[t].data, raw->table[t].len, &line,
                                records, err, errlen);
    if (rc)
      return rc;
  }
  return 0;
}
