/* pg-source.c - the postgres:DSN source: reads the normalized tables written by `load` back
 * into the engine's dataset. Each worker owns a connection and takes whole tables; a table is
 * read as keyset-paginated pages, one query per page of B entities with their rows (orders
 * with their items, collections with their member products). References are resolved from
 * ids to indices afterwards. A failed page names the stage, table, page and key; transient
 * failures are retried after reconnecting (--retries / PERFSWEEP_PG_RETRIES).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-source.h"
#include "pg-config.h"
#include "pg-schema.h"
#include "pg-session.h"

/* ---------------------------------------------------------------- fetched rows */

struct r_product { int64_t shop, id, price, created, updated; };
struct r_customer { int64_t shop, id, created, updated; };
struct r_collection { int64_t shop, id, updated; uint32_t first_link, n_links; };
struct r_order {
  int64_t shop, id, customer, cancelled, created, updated;
  int status; uint32_t first_item, n_items;
};
struct r_item { int64_t product; int64_t price; int32_t qty; };
struct r_event { int64_t shop, id, customer, product, at; uint8_t kind; };

#define VEC(T) struct { T *v; size_t n, cap; }
typedef VEC(int64_t) vec_i64;

static void *vec_grow(void *v, size_t *cap, size_t need, size_t elem)
{
  if (need <= *cap)
    return v;
  size_t c = *cap ? *cap * 2 : 1024;
  while (c < need)
    c *= 2;
  void *nv = realloc(v, c * elem);
  if (!nv) {
    fprintf(stderr, "perfsweep-features: error: out of memory reading from PostgreSQL\n");
    exit(PS_EXIT_ENVIRONMENT);
  }
  *cap = c;
  return nv;
}
#define PUSH(vec, val)                                                              \
  do {                                                                              \
    (vec).v = vec_grow((vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v);         \
    (vec).v[(vec).n++] = (val);                                                     \
  } while (0)

enum job { J_EVENTS, J_ORDERS, J_PRODUCTS, J_CUSTOMERS, J_COLLECTIONS, J_SHOPS, J_COUNT };
static const char *const job_table[J_COUNT] = {"events",    "orders",      "products",
                                               "customers", "collections", "shops"};

/* The page queries: $1,$2 the last key of the previous page, $3 the page size. */
static const char *const job_sql[J_COUNT] = {
    "SELECT shop_id, id, customer_id, product_id, kind, occurred_at FROM events"
    " WHERE (shop_id, id) > ($1, $2) ORDER BY shop_id, id LIMIT $3",
    "WITH o AS (SELECT * FROM orders WHERE (shop_id, id) > ($1, $2)"
    " ORDER BY shop_id, id LIMIT $3)"
    " SELECT o.shop_id, o.id, o.customer_id, o.financial_status, o.cancelled_at,"
    " o.created_at, o.updated_at, i.product_id, i.quantity, i.price_cents"
    " FROM o LEFT JOIN order_items i ON i.order_id = o.id"
    " ORDER BY o.shop_id, o.id, i.line_no",
    "SELECT shop_id, id, price_cents, created_at, updated_at FROM products"
    " WHERE (shop_id, id) > ($1, $2) ORDER BY shop_id, id LIMIT $3",
    "SELECT shop_id, id, created_at, updated_at FROM customers"
    " WHERE (shop_id, id) > ($1, $2) ORDER BY shop_id, id LIMIT $3",
    "WITH c AS (SELECT * FROM collections WHERE (shop_id, id) > ($1, $2)"
    " ORDER BY shop_id, id LIMIT $3)"
    " SELECT c.shop_id, c.id, c.updated_at, l.product_id"
    " FROM c LEFT JOIN collection_products l ON l.collection_id = c.id"
    " ORDER BY c.shop_id, c.id, l.product_id",
    "SELECT id, id FROM shops WHERE (id, id) > ($1, $2) ORDER BY id LIMIT $3"};

struct fetched {
  vec_i64 shops;
  VEC(struct r_product) products;
  VEC(struct r_customer) customers;
  VEC(struct r_collection) collections;
  vec_i64 link_products;
  VEC(struct r_order) orders;
  VEC(struct r_item) items;
  VEC(struct r_event) events;
};

struct src_ctx {
  struct pg_session *sess;
  int n_sess;
  struct fetched f;
  size_t batch;
  int retries;
  atomic_int next_job;
  atomic_int failed;
  uint64_t pages[J_COUNT], rows[J_COUNT];
  int rc;
  char err[1536];
  pthread_mutex_t lock;
};

static int64_t cell(PGresult *r, int row, int col)
{
  return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Appends one page of job j to the fetched rows; returns the number of entities in it and
 * sets the last key. -1 for a value the schema does not allow (message in err). */
static long take_page(struct fetched *f, enum job j, PGresult *r, int64_t last[2], char *err,
                      size_t errlen)
{
  int n = PQntuples(r);
  long ents = 0;
  for (int i = 0; i < n; i++) {
    int64_t shop = cell(r, i, 0), id = cell(r, i, 1);
    switch (j) {
    case J_SHOPS:
      PUSH(f->shops, shop);
      ents++;
      break;
    case J_PRODUCTS:
      PUSH(f->products, ((struct r_product){shop, id, cell(r, i, 2), cell(r, i, 3), cell(r, i, 4)}));
      ents++;
      break;
    case J_CUSTOMERS:
      PUSH(f->customers, ((struct r_customer){shop, id, cell(r, i, 2), cell(r, i, 3)}));
      ents++;
      break;
    case J_EVENTS: {
      const char *kind = PQgetvalue(r, i, 4);
      uint8_t k = strcmp(kind, "view") == 0 ? FX_EV_VIEW : FX_EV_CART_ADD;
      if (k == FX_EV_CART_ADD && strcmp(kind, "cart_add") != 0) {
        snprintf(err, errlen, "events (%lld, %lld) has kind '%s', which is neither view nor "
                 "cart_add; reload the dataset with perfsweep-features load", (long long)shop,
                 (long long)id, kind);
        return -1;
      }
      PUSH(f->events, ((struct r_event){shop, id, cell(r, i, 2), cell(r, i, 3), cell(r, i, 5), k}));
      ents++;
      break;
    }
    case J_ORDERS: {
      struct r_order *prev = f->orders.n ? &f->orders.v[f->orders.n - 1] : NULL;
      if (!prev || prev->shop != shop || prev->id != id || i == 0) {
        const char *st = PQgetvalue(r, i, 3);
        int status = fx_status_parse(st, strlen(st));
        if (status < 0) {
          snprintf(err, errlen, "orders (%lld, %lld) has financial_status '%s', which the "
                   "engine does not know; reload the dataset with perfsweep-features load",
                   (long long)shop, (long long)id, st);
          return -1;
        }
        struct r_order o = {shop, id, cell(r, i, 2),
                            PQgetisnull(r, i, 4) ? FX_NONE : cell(r, i, 4), cell(r, i, 5),
                            cell(r, i, 6), status, (uint32_t)f->items.n, 0};
        PUSH(f->orders, o);
        prev = &f->orders.v[f->orders.n - 1];
        ents++;
      }
      if (!PQgetisnull(r, i, 7)) {
        PUSH(f->items, ((struct r_item){cell(r, i, 7), cell(r, i, 9), (int32_t)cell(r, i, 8)}));
        prev->n_items++;
      }
      break;
    }
    case J_COLLECTIONS: {
      struct r_collection *prev = f->collections.n ? &f->collections.v[f->collections.n - 1] : NULL;
      if (!prev || prev->shop != shop || prev->id != id || i == 0) {
        PUSH(f->collections,
             ((struct r_collection){shop, id, cell(r, i, 2), (uint32_t)f->link_products.n, 0}));
        prev = &f->collections.v[f->collections.n - 1];
        ents++;
      }
      if (!PQgetisnull(r, i, 3)) {
        PUSH(f->link_products, cell(r, i, 3));
        prev->n_links++;
      }
      break;
    }
    case J_COUNT:
      break;
    }
    last[0] = shop;
    last[1] = id;
  }
  return ents;
}

/* Reads every page of job j through session s. Returns 0 or a PS_EXIT_* code with c->err. */
static int fetch_job(struct src_ctx *c, struct pg_session *s, enum job j)
{
  /* Each job appends to its own vectors, so no lock is needed while fetching. */
  int64_t last[2] = {INT64_MIN, INT64_MIN};
  char limit[24];
  snprintf(limit, sizeof limit, "%zu", c->batch);
  enum pg_query_kind kind = PG_Q_READ_ROWS;
  for (uint64_t page = 0;; page++) {
    if (atomic_load(&c->failed))
      return 0;
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", (long long)last[0]);
    snprintf(b, sizeof b, "%lld", (long long)last[1]);
    const char *params[] = {a, b, limit};
    PGresult *r = NULL;
    for (int attempt = 0;; attempt++) {
      r = pg_session_query(s, kind, job_sql[j], 3, params);
      if (r || !s->transient || attempt >= c->retries)
        break;
      pg_session_backoff(attempt + 1);
      pg_session_reconnect(s);
    }
    if (!r) {
      pthread_mutex_lock(&c->lock);
      if (!c->err[0])
        snprintf(c->err, sizeof c->err,
                 "stage collect, table %s, batch %llu (keys after (%s, %s)) failed%s: %s",
                 job_table[j], (unsigned long long)page + 1, a, b,
                 c->retries ? " after its retries" : "", s->err);
      c->rc = s->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_TARGET;
      pthread_mutex_unlock(&c->lock);
      atomic_store(&c->failed, 1);
      return c->rc;
    }
    char perr[512] = "";
    long ents = take_page(&c->f, j, r, last, perr, sizeof perr);
    c->rows[j] += (uint64_t)PQntuples(r);
    c->pages[j]++;
    PQclear(r);
    if (ents < 0) {
      pthread_mutex_lock(&c->lock);
      snprintf(c->err, sizeof c->err, "stage collect, table %s: %s", job_table[j], perr);
      c->rc = PS_EXIT_DATA;
      pthread_mutex_unlock(&c->lock);
      atomic_store(&c->failed, 1);
      return PS_EXIT_DATA;
    }
    if ((size_t)ents < c->batch)
      return 0;
  }
}

struct worker_arg {
  struct src_ctx *c;
  int idx;
};

static void *worker_main(void *p)
{
  struct worker_arg *w = p;
  struct src_ctx *c = w->c;
  for (;;) {
    int j = atomic_fetch_add(&c->next_job, 1);
    if (j >= J_COUNT || atomic_load(&c->failed))
      break;
    fetch_job(c, &c->sess[w->idx], (enum job)j);
  }
  return NULL;
}

/* ---------------------------------------------------------------- resolution */

struct key2 { int64_t shop, id; };

/* Index of (shop, id) in an array sorted by (shop, id) whose element starts with the two
 * int64 fields; stride is the element size. -1 when absent. */
static long find2(const void *base, size_t n, size_t stride, int64_t shop, int64_t id)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const int64_t *k = (const int64_t *)((const char *)base + mid * stride);
    if (k[0] < shop || (k[0] == shop && k[1] < id))
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < n) {
    const int64_t *k = (const int64_t *)((const char *)base + lo * stride);
    if (k[0] == shop && k[1] == id)
      return (long)lo;
  }
  return -1;
}

static long find_shop(const vec_i64 *shops, int64_t id)
{
  size_t lo = 0, hi = shops->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (shops->v[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < shops->n && shops->v[lo] == id ? (long)lo : -1;
}

#define ALLOC(p, n) ((p) = calloc((n) ? (n) : 1, sizeof *(p)))

static int dangling(char *err, size_t errlen, const char *table, int64_t shop, int64_t id,
                    const char *what, int64_t ref)
{
  snprintf(err, errlen, "stage normalize: %s (%lld, %lld) references %s %lld, which is not in "
           "the database; the tables are inconsistent, reload them with perfsweep-features load",
           table, (long long)shop, (long long)id, what, (long long)ref);
  return PS_EXIT_DATA;
}

static fx_time maxt(fx_time a, fx_time b) { return a > b ? a : b; }

static int resolve(struct fetched *f, struct fx_dataset *ds, char *err, size_t errlen)
{
  const struct fetched *F = f;
  if (!ALLOC(ds->shops, F->shops.n) || !ALLOC(ds->products, F->products.n) ||
      !ALLOC(ds->customers, F->customers.n) || !ALLOC(ds->collections, F->collections.n) ||
      !ALLOC(ds->links, F->link_products.n) || !ALLOC(ds->orders, F->orders.n) ||
      !ALLOC(ds->items, F->items.n) || !ALLOC(ds->events, F->events.n)) {
    snprintf(err, errlen, "out of memory building the dataset read from PostgreSQL");
    return PS_EXIT_ENVIRONMENT;
  }
  ds->n_shops = F->shops.n;
  for (size_t i = 0; i < F->shops.n; i++)
    ds->shops[i].id = F->shops.v[i];
  fx_time newest = 0;
#define SHOP_OF(table, r)                                                                  \
  long shop = find_shop(&F->shops, (r)->shop);                                             \
  if (shop < 0)                                                                            \
    return dangling(err, errlen, table, (r)->shop, (r)->id, "shop", (r)->shop);
  for (size_t i = 0; i < F->products.n; i++) {
    const struct r_product *r = &F->products.v[i];
    SHOP_OF("products", r);
    ds->products[i] = (struct fx_product){r->id, (uint32_t)shop, r->price, r->created, r->updated};
    newest = maxt(newest, r->updated);
  }
  ds->n_products = F->products.n;
  for (size_t i = 0; i < F->customers.n; i++) {
    const struct r_customer *r = &F->customers.v[i];
    SHOP_OF("customers", r);
    ds->customers[i] = (struct fx_customer){r->id, (uint32_t)shop, r->created, r->updated};
    newest = maxt(newest, r->updated);
  }
  ds->n_customers = F->customers.n;
  for (size_t i = 0; i < F->collections.n; i++) {
    const struct r_collection *r = &F->collections.v[i];
    SHOP_OF("collections", r);
    ds->collections[i] = (struct fx_collection){r->id, (uint32_t)shop, r->updated};
    newest = maxt(newest, r->updated);
    for (uint32_t k = 0; k < r->n_links; k++) {
      int64_t pid = F->link_products.v[r->first_link + k];
      long p = find2(F->products.v, F->products.n, sizeof *F->products.v, r->shop, pid);
      if (p < 0)
        return dangling(err, errlen, "collection_products", r->shop, r->id, "product", pid);
      ds->links[ds->n_links++] = (struct fx_link){(uint32_t)i, (uint32_t)p};
    }
  }
  ds->n_collections = F->collections.n;
  for (size_t i = 0; i < F->orders.n; i++) {
    const struct r_order *r = &F->orders.v[i];
    SHOP_OF("orders", r);
    long cu = find2(F->customers.v, F->customers.n, sizeof *F->customers.v, r->shop, r->customer);
    if (cu < 0)
      return dangling(err, errlen, "orders", r->shop, r->id, "customer", r->customer);
    ds->orders[i] = (struct fx_order){.id = r->id, .shop = (uint32_t)shop,
                                      .customer = (uint32_t)cu, .created_at = r->created,
                                      .updated_at = r->updated, .cancelled_at = r->cancelled,
                                      .status = (uint8_t)r->status,
                                      .first_item = (uint32_t)ds->n_items,
                                      .n_items = r->n_items};
    newest = maxt(newest, r->updated);
    for (uint32_t k = 0; k < r->n_items; k++) {
      const struct r_item *it = &F->items.v[r->first_item + k];
      long p = find2(F->products.v, F->products.n, sizeof *F->products.v, r->shop, it->product);
      if (p < 0)
        return dangling(err, errlen, "order_items", r->shop, r->id, "product", it->product);
      ds->items[ds->n_items++] = (struct fx_item){(uint32_t)i, (uint32_t)p, it->qty, it->price};
    }
  }
  ds->n_orders = F->orders.n;
  for (size_t i = 0; i < F->events.n; i++) {
    const struct r_event *r = &F->events.v[i];
    SHOP_OF("events", r);
    long cu = find2(F->customers.v, F->customers.n, sizeof *F->customers.v, r->shop, r->customer);
    long p = find2(F->products.v, F->products.n, sizeof *F->products.v, r->shop, r->product);
    if (cu < 0)
      return dangling(err, errlen, "events", r->shop, r->id, "customer", r->customer);
    if (p < 0)
      return dangling(err, errlen, "events", r->shop, r->id, "product", r->product);
    ds->events[i] = (struct fx_event){r->id, (uint32_t)shop, (uint32_t)cu, (uint32_t)p, r->at,
                                      r->kind};
    newest = maxt(newest, r->at);
  }
  ds->n_events = F->events.n;
#undef SHOP_OF
  ds->newest = newest;
  return 0;
}

static void fetched_free(struct fetched *f)
{
  free(f->shops.v);
  free(f->products.v);
  free(f->customers.v);
  free(f->collections.v);
  free(f->link_products.v);
  free(f->orders.v);
  free(f->items.v);
  free(f->events.v);
}

/* ---------------------------------------------------------------- the source */

static int read_reference_time(struct pg_session *s, struct fx_dataset *ds, char *err,
                               size_t errlen)
{
  if (pg_schema_check_loaded(s)) {
    snprintf(err, errlen, "%s", s->err);
    return s->transient ? PS_EXIT_ENVIRONMENT : PS_EXIT_USAGE;
  }
  PGresult *r = pg_session_query(s, PG_Q_READ_KEYS, "SELECT reference_time FROM dataset", 0, NULL);
  if (!r || PQntuples(r) != 1) {
    snprintf(err, errlen, "%s", r ? "the dataset table must hold exactly one row; reload with "
             "perfsweep-features load" : s->err);
    PQclear(r);
    return r ? PS_EXIT_DATA : PS_EXIT_ENVIRONMENT;
  }
  ds->reference_time = cell(r, 0, 0);
  PQclear(r);
  return 0;
}

static int pg_source_load(const char *arg, const struct fx_source_params *p, struct fx_dataset *ds,
                          struct fx_stage *collect, struct fx_stage *normalize, char *err,
                          size_t errlen)
{
  char *dsn_copy = strdup(pg_dsn_from_spec(arg));
  if (!dsn_copy) {
    snprintf(err, errlen, "out of memory starting the postgres source");
    return PS_EXIT_ENVIRONMENT;
  }
  pg_dsn_hide_in_place((char *)arg); /* the run echoes its --source: never the password */
  const char *dsn = dsn_copy;
  if (!*dsn) {
    free(dsn_copy);
    snprintf(err, errlen, "--source postgres: needs a DSN after the colon; e.g. --source "
             "postgres:postgresql://perfsweep@127.0.0.1:5432/perfsweep");
    return PS_EXIT_USAGE;
  }
  pg_config_set_run(p->batch_size, p->workers, p->retries);
  struct pg_config *cfg = pg_config();
  struct src_ctx c = {.batch = cfg->batch_size, .retries = cfg->retries};
  pthread_mutex_init(&c.lock, NULL);
  c.n_sess = cfg->workers < J_COUNT ? cfg->workers : J_COUNT;
  c.sess = calloc((unsigned)c.n_sess, sizeof *c.sess);
  int rc = 0, opened = 0;
  struct pg_server_snapshot before = {0}, after = {0};
  struct pg_activity_monitor *mon = NULL;
  double t0 = pg_now();
  if (!c.sess) {
    snprintf(err, errlen, "out of memory opening %d connections", c.n_sess);
    rc = PS_EXIT_ENVIRONMENT;
    goto out;
  }
  for (; opened < c.n_sess; opened++) {
    rc = pg_session_open(&c.sess[opened], dsn, cfg->slow_ms);
    if (rc) {
      snprintf(err, errlen, "--source postgres: %s", c.sess[opened].err);
      opened++;
      goto out;
    }
    /* A page joins B parents to their children: that must be B index lookups. Left to itself
     * the planner hashes the whole child table for every page (cost O(pages x table)). */
    PQclear(PQexec(c.sess[opened].conn, "SET enable_hashjoin = off; SET enable_mergejoin = off"));
  }
  rc = read_reference_time(&c.sess[0], ds, err, errlen);
  if (rc)
    goto out;
  pg_server_snapshot_take(c.sess[0].conn, &before);
  mon = pg_activity_monitor_start(dsn, 50);

  pthread_t th[J_COUNT];
  struct worker_arg wa[J_COUNT];
  int started = 0;
  for (int i = 0; i < c.n_sess; i++) {
    wa[i] = (struct worker_arg){&c, i};
    if (pthread_create(&th[i], NULL, worker_main, &wa[i]) == 0)
      started++;
    else
      break;
  }
  if (started == 0)
    worker_main(&(struct worker_arg){&c, 0});
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  int peak_a, peak_c;
  pg_activity_monitor_stop(mon, &peak_a, &peak_c);
  mon = NULL;
  double wall = pg_now() - t0;
  pg_server_snapshot_take(c.sess[0].conn, &after);

  uint64_t rows = 0, pages = 0;
  for (int j = 0; j < J_COUNT; j++) {
    rows += c.rows[j];
    pages += c.pages[j];
  }
  *collect = (struct fx_stage){.name = collect->name, .seconds = wall, .records_in = rows,
                               .records_out = rows, .batches = pages, .workers = c.n_sess,
                               .peak_rss_kb = fx_peak_rss_kb(), .freshness_seconds = -1};
  pg_session_emit_metrics("pg_collect", c.sess, c.n_sess, wall, &before, &after, peak_a, peak_c,
                          rows, (long long)rows);
  if (c.rc) {
    snprintf(err, errlen, "%s", c.err);
    rc = c.rc;
    goto out;
  }
  double t1 = pg_now();
  rc = resolve(&c.f, ds, err, errlen);
  if (rc)
    goto out;
  ds->records_in = ds->n_shops + ds->n_products + ds->n_collections + ds->n_links +
                   ds->n_customers + ds->n_orders + ds->n_items + ds->n_events;
  *normalize = (struct fx_stage){.name = normalize->name, .seconds = pg_now() - t1,
                                 .records_in = ds->records_in, .records_out = ds->records_in,
                                 .batches = pages, .workers = 1,
                                 .peak_rss_kb = fx_peak_rss_kb(),
                                 .freshness_seconds = ds->newest ? ds->reference_time - ds->newest
                                                                 : -1};
out:
  if (mon) {
    int a, b;
    pg_activity_monitor_stop(mon, &a, &b);
  }
  for (int i = 0; i < opened; i++)
    pg_session_close(&c.sess[i]);
  free(c.sess);
  free(dsn_copy);
  fetched_free(&c.f);
  pthread_mutex_destroy(&c.lock);
  return rc;
}

const struct fx_source_ops fx_source_postgres = {
  "postgres", "postgres:DSN  the tables written by `load` (keyset pages of --batch-size, one "
  "connection per worker)", pg_source_load};
