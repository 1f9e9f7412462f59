/* fx-compute.c - the compute stage (see fx-compute.h). Workers pull batches from one atomic
 * counter; each writes only the rows of its own batch's entities, so no locks are needed and
 * the result does not depend on scheduling. It must never read another batch's buffers.
 */
#include "fx-compute.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A gathered order line: an order_items row joined with its order. */
struct jitem {
  fx_time at;      /* order created_at */
  int64_t amount;  /* quantity * price_cents */
  uint32_t order, product;
  int32_t qty;
  uint8_t paid, refunded;
};
/* A gathered event row. */
struct jevent { fx_time at; uint8_t kind; };

struct wbuf {
  struct jitem *it; size_t n_it, cap_it;
  struct jevent *ev; size_t n_ev, cap_ev;
  size_t *it_off, *ev_off, cap_it_off, cap_ev_off;    /* per entity (or member) offsets */
  uint32_t *scratch; size_t cap_scratch;
  size_t peak_bytes;
  uint64_t rows, batches, entities;
  double cpu_seconds; /* this worker's thread CPU time */
  int failed;
};

struct job {
  const struct fx_dataset *ds;
  const struct fx_compute_opts *o;
  uint32_t *const *todo;
  const size_t *n_todo;
  struct fx_features *out;
  size_t n_batches[FX_KIND_COUNT], total;
  atomic_size_t next;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 256;
  while (c < need)
    c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q)
    return -1;
  *p = q;
  *cap = c;
  return 0;
}

static size_t wbuf_bytes(const struct wbuf *w)
{
  return w->cap_it * sizeof *w->it + w->cap_ev * sizeof *w->ev +
         (w->cap_it_off + w->cap_ev_off) * sizeof(size_t) + w->cap_scratch * sizeof(uint32_t);
}

/* ---- gathering ---- */

static int push_items_of_product(struct wbuf *w, const struct fx_dataset *ds, uint32_t p)
{
  const struct fx_csr *c = &ds->product_items;
  size_t a = c->start[p], b = c->start[p + 1];
  if (grow((void **)&w->it, &w->cap_it, w->n_it + (b - a), sizeof *w->it))
    return -1;
  for (size_t r = a; r < b; r++) {
    const struct fx_item *item = &ds->items[c->idx[r]];
    const struct fx_order *o = &ds->orders[item->order];
    w->it[w->n_it++] = (struct jitem){
      o->created_at, (int64_t)item->quantity * item->price_cents, item->order, item->product,
      item->quantity, o->status == FX_ST_PAID && o->cancelled_at == FX_NONE,
      o->status == FX_ST_REFUNDED || o->status == FX_ST_PARTIALLY_REFUNDED};
  }
  return 0;
}

static int push_events(struct wbuf *w, const struct fx_dataset *ds, const struct fx_csr *c,
                       uint32_t e)
{
  size_t a = c->start[e], b = c->start[e + 1];
  if (grow((void **)&w->ev, &w->cap_ev, w->n_ev + (b - a), sizeof *w->ev))
    return -1;
  for (size_t r = a; r < b; r++) {
    const struct fx_event *ev = &ds->events[c->idx[r]];
    w->ev[w->n_ev++] = (struct jevent){ev->at, ev->kind};
  }
  return 0;
}

static int push_orders_of_customer(struct wbuf *w, const struct fx_dataset *ds, uint32_t cu)
{
  const struct fx_csr *c = &ds->customer_orders;
  for (size_t r = c->start[cu]; r < c->start[cu + 1]; r++) {
    const struct fx_order *o = &ds->orders[c->idx[r]];
    if (grow((void **)&w->it, &w->cap_it, w->n_it + o->n_items, sizeof *w->it))
      return -1;
    for (uint32_t k = 0; k < o->n_items; k++) {
      const struct fx_item *item = &ds->items[o->first_item + k];
      w->it[w->n_it++] = (struct jitem){
        o->created_at, (int64_t)item->quantity * item->price_cents, item->order, item->product,
        item->quantity, o->status == FX_ST_PAID && o->cancelled_at == FX_NONE,
        o->status == FX_ST_REFUNDED || o->status == FX_ST_PARTIALLY_REFUNDED};
    }
  }
  return 0;
}

/* ---- aggregation over gathered rows ---- */

struct item_agg {
  int64_t paid_orders, paid_orders_30d, units, revenue, refunded_orders, last_sale;
};

/* Rows of one product, in order of orders: distinct orders are counted on order change. */
static void agg_product_items(const struct jitem *it, size_t n, fx_time since, struct item_agg *a)
{
  memset(a, 0, sizeof *a);
  a->last_sale = FX_NONE;
  uint32_t prev = UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    int new_order = it[i].order != prev;
    prev = it[i].order;
    if (it[i].paid) {
      a->paid_orders += new_order;
      a->paid_orders_30d += new_order && it[i].at > since;
      a->units += it[i].qty;
      a->revenue += it[i].amount;
      if (it[i].at > a->last_sale)
        a->last_sale = it[i].at;
    }
    a->refunded_orders += new_order && it[i].refunded;
  }
}

static void count_events(const struct jevent *ev, size_t n, fx_time since, int64_t *views,
                         int64_t *carts)
{
  int64_t v = 0, c = 0;
  for (size_t i = 0; i < n; i++)
    if (ev[i].at > since) {
      v += ev[i].kind == FX_EV_VIEW;
      c += ev[i].kind == FX_EV_CART_ADD;
    }
  *views = v;
  *carts = c;
}

static int64_t rate_bp(int64_t num, int64_t den) { return den ? num * 10000 / den : 0; }

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* ---- one batch per kind ---- */

static int batch_products(struct wbuf *w, const struct fx_dataset *ds, const uint32_t *ents,
                          size_t n, struct fx_features *out, int drop_last)
{
  fx_time ref = ds->reference_time, since = ref - (fx_time)FX_WINDOW_DAYS * FX_DAY;
  if (grow((void **)&w->it_off, &w->cap_it_off, n + 1, sizeof(size_t)) ||
      grow((void **)&w->ev_off, &w->cap_ev_off, n + 1, sizeof(size_t)))
    return -1;
  w->n_it = w->n_ev = 0;
  for (size_t i = 0; i < n; i++) { /* gather the batch's result set first */
    w->it_off[i] = w->n_it;
    w->ev_off[i] = w->n_ev;
    if (push_items_of_product(w, ds, ents[i]) ||
        push_events(w, ds, &ds->product_events, ents[i]))
      return -1;
  }
  w->it_off[n] = w->n_it;
  w->ev_off[n] = w->n_ev;
  w->rows += w->n_it + w->n_ev;
  for (size_t i = 0; i < n - (drop_last ? 1 : 0); i++) {
    const struct fx_product *p = &ds->products[ents[i]];
    struct fx_product_features *f =
        (struct fx_product_features *)out->rows[FX_KIND_PRODUCT] + ents[i];
    struct item_agg a;
    agg_product_items(w->it + w->it_off[i], w->it_off[i + 1] - w->it_off[i], since, &a);
    f->shop_id = ds->shops[p->shop].id;
    f->product_id = p->id;
    count_events(w->ev + w->ev_off[i], w->ev_off[i + 1] - w->ev_off[i], since, &f->views_30d,
                 &f->cart_adds_30d);
    f->paid_orders = a.paid_orders;
    f->paid_orders_30d = a.paid_orders_30d;
    f->units_sold = a.units;
    f->revenue_cents = a.revenue;
    f->conversion_rate_30d_bp = rate_bp(a.paid_orders_30d, f->views_30d);
    f->refunded_orders = a.refunded_orders;
    f->refund_rate_bp = rate_bp(a.refunded_orders, a.paid_orders + a.refunded_orders);
    f->last_sale_at = a.last_sale;
    f->days_since_last_sale = a.last_sale == FX_NONE ? FX_NONE : (ref - a.last_sale) / FX_DAY;
    out->written[FX_KIND_PRODUCT][ents[i]]++;
    w->entities++;
  }
  return 0;
}

static int batch_users(struct wbuf *w, const struct fx_dataset *ds, const uint32_t *ents,
                       size_t n, struct fx_features *out)
{
  fx_time ref = ds->reference_time, since = ref - (fx_time)FX_WINDOW_DAYS * FX_DAY;
  if (grow((void **)&w->it_off, &w->cap_it_off, n + 1, sizeof(size_t)) ||
      grow((void **)&w->ev_off, &w->cap_ev_off, n + 1, sizeof(size_t)))
    return -1;
  w->n_it = w->n_ev = 0;
  for (size_t i = 0; i < n; i++) {
    w->it_off[i] = w->n_it;
    w->ev_off[i] = w->n_ev;
    if (push_orders_of_customer(w, ds, ents[i]) ||
        push_events(w, ds, &ds->customer_events, ents[i]))
      return -1;
  }
  w->it_off[n] = w->n_it;
  w->ev_off[n] = w->n_ev;
  w->rows += w->n_it + w->n_ev;
  for (size_t i = 0; i < n; i++) {
    const struct fx_customer *c = &ds->customers[ents[i]];
    struct fx_user_features *f = (struct fx_user_features *)out->rows[FX_KIND_USER] + ents[i];
    const struct jitem *it = w->it + w->it_off[i];
    size_t ni = w->it_off[i + 1] - w->it_off[i], nd = 0;
    if (grow((void **)&w->scratch, &w->cap_scratch, ni + 1, sizeof(uint32_t)))
      return -1;
    int64_t paid = 0, spent = 0, refunds = 0;
    fx_time first = FX_NONE, last = FX_NONE;
    uint32_t prev = UINT32_MAX;
    for (size_t r = 0; r < ni; r++) {
      int new_order = it[r].order != prev;
      prev = it[r].order;
      refunds += new_order && it[r].refunded;
      if (!it[r].paid)
        continue;
      if (new_order) {
        paid++;
        if (first == FX_NONE || it[r].at < first)
          first = it[r].at;
        if (it[r].at > last)
          last = it[r].at;
      }
      spent += it[r].amount;
      w->scratch[nd++] = it[r].product;
    }
    qsort(w->scratch, nd, sizeof(uint32_t), cmp_u32);
    int64_t distinct = 0;
    for (size_t r = 0; r < nd; r++)
      distinct += r == 0 || w->scratch[r] != w->scratch[r - 1];
    f->shop_id = ds->shops[c->shop].id;
    f->customer_id = c->id;
    f->paid_orders = paid;
    f->total_spent_cents = spent;
    f->avg_order_value_cents = paid ? spent / paid : 0;
    f->first_order_at = first;
    f->last_order_at = last;
    f->recency_days = last == FX_NONE ? FX_NONE : (ref - last) / FX_DAY;
    f->distinct_products = distinct;
    count_events(w->ev + w->ev_off[i], w->ev_off[i + 1] - w->ev_off[i], since, &f->views_30d,
                 &f->cart_adds_30d);
    f->refunds = refunds;
    out->written[FX_KIND_USER][ents[i]]++;
    w->entities++;
  }
  return 0;
}

static int batch_collections(struct wbuf *w, const struct fx_dataset *ds, const uint32_t *ents,
                             size_t n, struct fx_features *out)
{
  fx_time ref = ds->reference_time, since = ref - (fx_time)FX_WINDOW_DAYS * FX_DAY;
  const struct fx_csr *cl = &ds->collection_links;
  size_t members = 0;
  for (size_t i = 0; i < n; i++)
    members += cl->start[ents[i] + 1] - cl->start[ents[i]];
  if (grow((void **)&w->it_off, &w->cap_it_off, members + 1, sizeof(size_t)) ||
      grow((void **)&w->ev_off, &w->cap_ev_off, members + 1, sizeof(size_t)) ||
      grow((void **)&w->scratch, &w->cap_scratch, members + 1, sizeof(uint32_t)))
    return -1;
  w->n_it = w->n_ev = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) /* one segment per member product */
    for (size_t r = cl->start[ents[i]]; r < cl->start[ents[i] + 1]; r++, m++) {
      uint32_t p = ds->links[cl->idx[r]].product;
      w->scratch[m] = p;
      w->it_off[m] = w->n_it;
      w->ev_off[m] = w->n_ev;
      if (push_items_of_product(w, ds, p) || push_events(w, ds, &ds->product_events, p))
        return -1;
    }
  w->it_off[m] = w->n_it;
  w->ev_off[m] = w->n_ev;
  w->rows += w->n_it + w->n_ev + members;
  m = 0;
  for (size_t i = 0; i < n; i++) {
    const struct fx_collection *c = &ds->collections[ents[i]];
    struct fx_collection_features *f =
        (struct fx_collection_features *)out->rows[FX_KIND_COLLECTION] + ents[i];
    int64_t count = 0, units = 0, revenue = 0, views = 0, orders30 = 0, price = 0;
    size_t end = m + (cl->start[ents[i] + 1] - cl->start[ents[i]]);
    for (; m < end; m++) {
      struct item_agg a;
      int64_t v, carts;
      agg_product_items(w->it + w->it_off[m], w->it_off[m + 1] - w->it_off[m], since, &a);
      count_events(w->ev + w->ev_off[m], w->ev_off[m + 1] - w->ev_off[m], since, &v, &carts);
      count++;
      units += a.units;
      revenue += a.revenue;
      views += v;
      orders30 += a.paid_orders_30d;
      price += ds->products[w->scratch[m]].price_cents;
    }
    f->shop_id = ds->shops[c->shop].id;
    f->collection_id = c->id;
    f->product_count = count;
    f->units_sold = units;
    f->revenue_cents = revenue;
    f->views_30d = views;
    f->avg_price_cents = count ? price / count : 0;
    f->conversion_rate_30d_bp = rate_bp(orders30, views);
    out->written[FX_KIND_COLLECTION][ents[i]]++;
    w->entities++;
  }
  return 0;
}

/* ---- workers ---- */

static void *worker(void *arg)
{
  struct job *job = ((void **)arg)[0];
  struct wbuf *w = ((void **)arg)[1];
  uint32_t *all = NULL;
  size_t cap_all = 0;
  size_t B = job->o->batch_size;
  for (;;) {
    size_t t = atomic_fetch_add(&job->next, 1);
    if (t >= job->total || w->failed)
      break;
    /* heaviest batches first (collections gather every member's rows), so no worker is left
     * with a big batch at the end while the others idle */
    static const int order[FX_KIND_COUNT] = {FX_KIND_COLLECTION, FX_KIND_PRODUCT, FX_KIND_USER};
    int oi = 0, k = order[0];
    while (t >= job->n_batches[k]) {
      t -= job->n_batches[k];
      k = order[++oi];
    }
    size_t n_ent = job->n_todo[k], first = t * B, n = n_ent - first < B ? n_ent - first : B;
    const uint32_t *ents;
    if (job->todo[k]) {
      ents = job->todo[k] + first;
    } else { /* all entities: the batch is the index range [first, first + n) */
      if (grow((void **)&all, &cap_all, n, sizeof(uint32_t))) {
        w->failed = 1;
        break;
      }
      for (size_t i = 0; i < n; i++)
        all[i] = (uint32_t)(first + i);
      ents = all;
    }
    int rc = k == FX_KIND_PRODUCT ? batch_products(w, job->ds, ents, n, job->out,
                                                   job->o->fault_drop_row && t == 0)
           : k == FX_KIND_USER ? batch_users(w, job->ds, ents, n, job->out)
                               : batch_collections(w, job->ds, ents, n, job->out);
    if (rc) {
      w->failed = 1;
      break;
    }
    w->batches++;
    size_t bytes = wbuf_bytes(w) + cap_all * sizeof(uint32_t);
    if (bytes > w->peak_bytes)
      w->peak_bytes = bytes;
  }
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  w->cpu_seconds = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  free(all);
  free(w->it);
  free(w->ev);
  free(w->it_off);
  free(w->ev_off);
  free(w->scratch);
  return NULL;
}

int fx_features_alloc(const struct fx_dataset *ds, struct fx_features *out)
{
  memset(out, 0, sizeof *out);
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    size_t n = fx_dataset_count(ds, (enum fx_kind)k);
    out->n_rows[k] = n;
    out->rows[k] = calloc(n ? n : 1, fx_table_desc((enum fx_kind)k)->n_fields * sizeof(int64_t));
    out->written[k] = calloc(n ? n : 1, 1);
    if (!out->rows[k] || !out->written[k]) {
      fx_features_free(out);
      return -1;
    }
  }
  return 0;
}

int fx_compute(const struct fx_dataset *ds, const struct fx_compute_opts *o,
               uint32_t *const todo[FX_KIND_COUNT], const size_t n_todo[FX_KIND_COUNT],
               struct fx_features *out, struct fx_compute_stats *st)
{
  struct job job = {.ds = ds, .o = o, .todo = todo, .out = out};
  size_t counts[FX_KIND_COUNT];
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    counts[k] = todo[k] ? n_todo[k] : fx_dataset_count(ds, (enum fx_kind)k);
    job.n_batches[k] = (counts[k] + o->batch_size - 1) / o->batch_size;
    job.total += job.n_batches[k];
  }
  job.n_todo = counts;
  atomic_init(&job.next, 0);
  int nw = o->workers;
  struct wbuf *w = calloc((size_t)nw, sizeof *w);
  pthread_t *th = calloc((size_t)nw, sizeof *th);
  void *(*args)[2] = calloc((size_t)nw, sizeof *args);
  int rc = 0, started = 0;
  if (!w || !th || !args)
    rc = -1;
  for (int i = 0; rc == 0 && i < nw; i++) {
    args[i][0] = &job;
    args[i][1] = &w[i];
    if (pthread_create(&th[i], NULL, worker, args[i]) != 0)
      rc = -1;
    else
      started++;
  }
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  memset(st, 0, sizeof *st);
  for (int i = 0; w && i < started; i++) {
    st->source_rows += w[i].rows;
    st->entities += w[i].entities;
    st->batches += w[i].batches;
    st->peak_batch_bytes += w[i].peak_bytes;
    st->worker_cpu_sum += w[i].cpu_seconds;
    if (w[i].cpu_seconds > st->worker_cpu_max)
      st->worker_cpu_max = w[i].cpu_seconds;
    if (w[i].failed)
      rc = -1;
  }
  free(w);
  free(th);
  free(args);
  return rc;
}

int fx_features_check(const struct fx_dataset *ds, const struct fx_features *f, char *msg,
                      size_t msglen)
{
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    size_t bad = 0, first = 0;
    uint8_t first_count = 0;
    for (size_t e = 0; e < f->n_rows[k]; e++)
      if (f->written[k][e] != 1) {
        if (!bad++) {
          first = e;
          first_count = f->written[k][e];
        }
      }
    if (!bad)
      continue;
    int64_t id = k == FX_KIND_PRODUCT ? ds->products[first].id
               : k == FX_KIND_USER    ? ds->customers[first].id
                                      : ds->collections[first].id;
    snprintf(msg, msglen,
             "%zu of %zu %s entities have %s feature row (first: id %lld has %u); the "
             "feature table is incomplete, rerun without --state or report a bug",
             bad, f->n_rows[k], fx_table_desc((enum fx_kind)k)->kind,
             first_count ? "more than one" : "no", (long long)id, first_count);
    return -1;
  }
  return 0;
}
