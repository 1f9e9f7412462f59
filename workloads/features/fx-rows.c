/* fx-rows.c - the typed-row model: feature-table descriptions, the CSR lookup indexes that
 * compute gathers through, and freeing. No I/O here.
 */
#include "fx-rows.h"

#include <stdlib.h>
#include <string.h>

#define FX_FIELD_NAME(n) #n,
static const char *const product_fields[] = {FX_PRODUCT_FIELDS(FX_FIELD_NAME)};
static const char *const user_fields[] = {FX_USER_FIELDS(FX_FIELD_NAME)};
static const char *const collection_fields[] = {FX_COLLECTION_FIELDS(FX_FIELD_NAME)};
#undef FX_FIELD_NAME

static const struct fx_table_desc descs[FX_KIND_COUNT] = {
  {"product_features", "product", sizeof product_fields / sizeof *product_fields, product_fields},
  {"user_features", "user", sizeof user_fields / sizeof *user_fields, user_fields},
  {"collection_features", "collection", sizeof collection_fields / sizeof *collection_fields,
   collection_fields},
};

const struct fx_table_desc *fx_table_desc(enum fx_kind kind) { return &descs[kind]; }

static const char *const status_names[] = {
#define FX_STATUS_NAME(n, s) s,
  FX_STATUS_MAP(FX_STATUS_NAME)
#undef FX_STATUS_NAME
};

const char *fx_status_name(int status)
{
  return status >= 0 && status < FX_ST_COUNT ? status_names[status] : "unknown";
}

int fx_status_parse(const char *s, size_t n)
{
  for (int i = 0; i < FX_ST_COUNT; i++)
    if (strlen(status_names[i]) == n && memcmp(status_names[i], s, n) == 0)
      return i;
  return -1;
}

size_t fx_dataset_count(const struct fx_dataset *ds, enum fx_kind kind)
{
  switch (kind) {
  case FX_KIND_PRODUCT: return ds->n_products;
  case FX_KIND_USER: return ds->n_customers;
  default: return ds->n_collections;
  }
}

/* Builds one CSR index: n entities, m rows, key(row) gives the entity of each row. Rows keep
 * their table order inside each entity. */
#define FX_CSR_BUILD(csr, n_ent, m, KEY)                                                      \
  do {                                                                                        \
    (csr)->n = (n_ent);                                                                       \
    (csr)->start = calloc((n_ent) + 1, sizeof(uint32_t));                                     \
    (csr)->idx = malloc(((m) ? (m) : 1) * sizeof(uint32_t));                                  \
    if (!(csr)->start || !(csr)->idx)                                                         \
      return -1;                                                                              \
    for (size_t r_ = 0; r_ < (m); r_++)                                                       \
      (csr)->start[(KEY(r_)) + 1]++;                                                          \
    for (size_t e_ = 0; e_ < (n_ent); e_++)                                                   \
      (csr)->start[e_ + 1] += (csr)->start[e_];                                               \
    uint32_t *fill_ = malloc(((n_ent) ? (n_ent) : 1) * sizeof(uint32_t));                     \
    if (!fill_)                                                                               \
      return -1;                                                                              \
    memcpy(fill_, (csr)->start, (n_ent) * sizeof(uint32_t));                                  \
    for (size_t r_ = 0; r_ < (m); r_++)                                                       \
      (csr)->idx[fill_[KEY(r_)]++] = (uint32_t)r_;                                            \
    free(fill_);                                                                              \
  } while (0)

static void csr_free(struct fx_csr *c)
{
  free(c->start);
  free(c->idx);
  memset(c, 0, sizeof *c);
}

static int index_all(struct fx_dataset *ds)
{
#define K_ITEM_PRODUCT(r) ds->items[r].product
#define K_EVENT_PRODUCT(r) ds->events[r].product
#define K_ORDER_CUSTOMER(r) ds->orders[r].customer
#define K_EVENT_CUSTOMER(r) ds->events[r].customer
#define K_LINK_COLLECTION(r) ds->links[r].collection
#define K_LINK_PRODUCT(r) ds->links[r].product
  FX_CSR_BUILD(&ds->product_items, ds->n_products, ds->n_items, K_ITEM_PRODUCT);
  FX_CSR_BUILD(&ds->product_events, ds->n_products, ds->n_events, K_EVENT_PRODUCT);
  FX_CSR_BUILD(&ds->customer_orders, ds->n_customers, ds->n_orders, K_ORDER_CUSTOMER);
  FX_CSR_BUILD(&ds->customer_events, ds->n_customers, ds->n_events, K_EVENT_CUSTOMER);
  FX_CSR_BUILD(&ds->collection_links, ds->n_collections, ds->n_links, K_LINK_COLLECTION);
  FX_CSR_BUILD(&ds->product_links, ds->n_products, ds->n_links, K_LINK_PRODUCT);
  return 0;
}

static void free_indexes(struct fx_dataset *ds)
{
  csr_free(&ds->product_items);
  csr_free(&ds->product_events);
  csr_free(&ds->customer_orders);
  csr_free(&ds->customer_events);
  csr_free(&ds->collection_links);
  csr_free(&ds->product_links);
}

int fx_dataset_index(struct fx_dataset *ds)
{
  if (index_all(ds) == 0)
    return 0;
  free_indexes(ds);
  return -1;
}

void fx_dataset_free(struct fx_dataset *ds)
{
  if (!ds)
    return;
  free(ds->shops);
  free(ds->products);
  free(ds->collections);
  free(ds->links);
  free(ds->customers);
  free(ds->orders);
  free(ds->items);
  free(ds->events);
  free_indexes(ds);
  memset(ds, 0, sizeof *ds);
}

void fx_features_free(struct fx_features *f)
{
  if (!f)
    return;
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    free(f->rows[k]);
    free(f->written[k]);
  }
  memset(f, 0, sizeof *f);
}
