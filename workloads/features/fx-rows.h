/* fx-rows.h - the typed-row model of perfsweep-features: the normalized tables every source
 * produces (shops, products, collections, collection_products, customers, orders, order_items,
 * events) and the three feature tables every sink consumes. Plain arrays, indices not pointers,
 * so a source (JSON lines, generator, PostgreSQL) can fill them and a sink can stream them.
 * docs/features.md gives the same tables as SQL; keep the two in step.
 */
#ifndef PERFSWEEP_FX_ROWS_H
#define PERFSWEEP_FX_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t fx_time; /* seconds since 1970-01-01T00:00:00Z, UTC */

#define FX_DAY 86400
#define FX_WINDOW_DAYS 30
#define FX_NONE (-1) /* the value of a time or day count that does not exist (never sold) */

/* Order financial statuses, as the shop platform spells them. */
#define FX_STATUS_MAP(X)                                                                      \
  X(PENDING, "pending") X(AUTHORIZED, "authorized") X(PAID, "paid")                          \
  X(PARTIALLY_PAID, "partially_paid") X(PARTIALLY_REFUNDED, "partially_refunded")            \
  X(REFUNDED, "refunded") X(VOIDED, "voided")
enum fx_status {
#define FX_STATUS_ENUM(n, s) FX_ST_##n,
  FX_STATUS_MAP(FX_STATUS_ENUM)
#undef FX_STATUS_ENUM
  FX_ST_COUNT
};
enum fx_event_kind { FX_EV_VIEW, FX_EV_CART_ADD };

/* Normalized rows. `shop` and other lower-case references are indices into the dataset's
 * arrays (the foreign key already resolved); `id`s are the platform's ids. */
struct fx_shop { int64_t id; };
struct fx_product {
  int64_t id; uint32_t shop; int64_t price_cents; /* lowest variant price */
  fx_time created_at, updated_at;
};
struct fx_collection { int64_t id; uint32_t shop; fx_time updated_at; };
struct fx_link { uint32_t collection, product; };            /* collection_products */
struct fx_customer { int64_t id; uint32_t shop; fx_time created_at, updated_at; };
struct fx_order {
  int64_t id; uint32_t shop, customer; fx_time created_at, updated_at;
  fx_time cancelled_at; /* FX_NONE when not cancelled */
  uint8_t status; uint32_t first_item, n_items; /* into items[] */
};
struct fx_item { uint32_t order, product; int32_t quantity; int64_t price_cents; };
struct fx_event { int64_t id; uint32_t shop, customer, product; fx_time at; uint8_t kind; };

/* Rejected records by category (docs/metrics.md). */
#define FX_REJECT_MAP(X)                                                                      \
  X(missing_fields) X(invalid_data) X(duplicates) X(fk_violations) X(future_timestamps)
struct fx_rejects {
#define FX_REJECT_FIELD(n) uint64_t n;
  FX_REJECT_MAP(FX_REJECT_FIELD)
#undef FX_REJECT_FIELD
};

/* CSR index: the rows of entity e are idx[start[e] .. start[e+1]) (row indices). */
struct fx_csr { uint32_t *start; uint32_t *idx; size_t n; };

/* The normalized dataset. A source fills the tables, reference_time and rejects; the
 * pipeline then calls fx_dataset_index() to build the lookup indexes compute needs. */
struct fx_dataset {
  fx_time reference_time;     /* "now" of the dataset: all windows end here */
  struct fx_shop *shops; size_t n_shops;
  struct fx_product *products; size_t n_products;
  struct fx_collection *collections; size_t n_collections;
  struct fx_link *links; size_t n_links;
  struct fx_customer *customers; size_t n_customers;
  struct fx_order *orders; size_t n_orders;
  struct fx_item *items; size_t n_items;   /* grouped by order, in order of orders[] */
  struct fx_event *events; size_t n_events;
  struct fx_rejects rejects;
  uint64_t records_in;        /* raw records the source read (accepted + rejected) */
  fx_time newest;             /* newest accepted updated_at / occurred_at (freshness) */
  /* built by fx_dataset_index() */
  struct fx_csr product_items, product_events, customer_orders, customer_events,
      collection_links, product_links;
};

/* Feature rows: every field an int64, so rows are also int64 arrays for the digest and the
 * sinks. Field lists are X-macros so names, JSON and SQL columns cannot drift apart. */
#define FX_PRODUCT_FIELDS(X)                                                                  \
  X(shop_id) X(product_id) X(views_30d) X(cart_adds_30d) X(paid_orders) X(paid_orders_30d)   \
  X(units_sold) X(revenue_cents) X(conversion_rate_30d_bp) X(refunded_orders)                \
  X(refund_rate_bp) X(last_sale_at) X(days_since_last_sale)
#define FX_USER_FIELDS(X)                                                                     \
  X(shop_id) X(customer_id) X(paid_orders) X(total_spent_cents) X(avg_order_value_cents)     \
  X(first_order_at) X(last_order_at) X(recency_days) X(distinct_products) X(views_30d)       \
  X(cart_adds_30d) X(refunds)
#define FX_COLLECTION_FIELDS(X)                                                               \
  X(shop_id) X(collection_id) X(product_count) X(units_sold) X(revenue_cents) X(views_30d)   \
  X(avg_price_cents) X(conversion_rate_30d_bp)

#define FX_FIELD_DECL(n) int64_t n;
struct fx_product_features { FX_PRODUCT_FIELDS(FX_FIELD_DECL) };
struct fx_user_features { FX_USER_FIELDS(FX_FIELD_DECL) };
struct fx_collection_features { FX_COLLECTION_FIELDS(FX_FIELD_DECL) };

enum fx_kind { FX_KIND_PRODUCT, FX_KIND_USER, FX_KIND_COLLECTION, FX_KIND_COUNT };

/* Static description of one feature table: its name ("product_features"), its short kind
 * name ("product"), its field names and count. Rows are n_fields int64 each. */
struct fx_table_desc {
  const char *table, *kind; size_t n_fields; const char *const *fields;
};
const struct fx_table_desc *fx_table_desc(enum fx_kind kind);

/* All feature rows of one run: rows[k] has n_rows[k] rows of desc(k)->n_fields int64 each,
 * row i belonging to entity i of the dataset (product i, customer i, collection i). */
struct fx_features {
  int64_t *rows[FX_KIND_COUNT];
  size_t n_rows[FX_KIND_COUNT];
  uint8_t *written[FX_KIND_COUNT]; /* how many times each entity's row was written */
};

/* Number of entities of a kind in the dataset. */
size_t fx_dataset_count(const struct fx_dataset *ds, enum fx_kind kind);
/* Builds the CSR indexes. Returns 0, or -1 when out of memory (dataset unchanged then). */
int fx_dataset_index(struct fx_dataset *ds);
/* Frees every array of the dataset (tables and indexes); accepts NULL. */
void fx_dataset_free(struct fx_dataset *ds);
/* Frees the feature rows; accepts NULL. */
void fx_features_free(struct fx_features *f);

/* Name of a status / parsing of a status name; -1 when unknown. */
const char *fx_status_name(int status);
int fx_status_parse(const char *s, size_t n);

#endif
