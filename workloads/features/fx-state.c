/* fx-state.c - incremental mode (see fx-state.h). Files in DIR: watermarks.jsonl (one line per
 * shop and feature type: watermark = newest updated_at seen, records = how many of the shop's
 * accepted records were at or below it) and <kind>_features.jsonl (the rows of the last run,
 * canonical lines). Watermarks are written last, so a crash never lets rows lag them.
 */
#include "fx-state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-buf.h"
#include "fx-digest.h"
#include "fx-idmap.h"
#include "fx-json.h"
#include "fx-sink.h"

#define WM_FILE "watermarks.jsonl"
#define NO_WM INT64_MIN

struct wm { int64_t watermark, records; };

static int read_file(const char *dir, const char *name, struct fx_buf *b)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return -errno;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
    fx_buf_mem(b, chunk, n);
  int bad = ferror(fp);
  fclose(fp);
  return bad ? -EIO : 0;
}

/* Reads the integer members of one flat JSON object line by name. */
static int read_ints(const char *line, size_t len, const char *const *names, size_t n,
                     int64_t *vals)
{
  struct fx_json j;
  const char *k;
  size_t kl;
  int m;
  unsigned seen = 0;
  fx_json_init(&j, line, len);
  if (fx_json_object(&j) != FX_J_OK)
    return -1;
  while ((m = fx_json_member(&j, &k, &kl)) == 1) {
    size_t i = 0;
    while (i < n && !fx_json_key_is(k, kl, names[i]))
      i++;
    if (i == n) {
      if (fx_json_skip(&j) != FX_J_OK)
        return -1;
      continue;
    }
    if (fx_json_int(&j, &vals[i]) != FX_J_OK)
      return -1;
    seen |= 1u << i;
  }
  return m == 0 && fx_json_end(&j) == FX_J_OK && seen == (1u << n) - 1 ? 0 : -1;
}

/* Calls fn(line, len, ctx) for each non-blank line; stops at the first non-zero return and
 * reports its 1-based line number. */
static int each_line(const struct fx_buf *b, int (*fn)(const char *, size_t, void *), void *ctx,
                     size_t *bad_line)
{
  const char *p = b->data, *end = b->data + b->len;
  size_t line = 0;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    line++;
    if (e > p && fn(p, (size_t)(e - p), ctx)) {
      *bad_line = line;
      return -1;
    }
    p = e + 1;
  }
  return 0;
}

struct wm_ctx { const struct fx_dataset *ds; struct fx_idmap *shops; struct wm *wm; int stale; };

static int wm_line(const char *line, size_t len, void *arg)
{
  static const char *const names[] = {"shop_id", "kind", "watermark", "records",
                                      "reference_time"};
  struct wm_ctx *c = arg;
  int64_t v[5];
  if (read_ints(line, len, names, 5, v) || v[1] < 0 || v[1] >= FX_KIND_COUNT)
    return -1;
  if (v[4] != c->ds->reference_time)
    c->stale = 1;
  uint32_t s = fx_idmap_get(c->shops, v[0]);
  if (s != FX_IDMAP_NONE)
    c->wm[(size_t)s * FX_KIND_COUNT + (size_t)v[1]] = (struct wm){v[2], v[3]};
  return 0;
}

struct rows_ctx {
  enum fx_kind kind; struct fx_idmap *ids; struct fx_features *f; const uint8_t *touched;
  int64_t *row;
};

static int row_line(const char *line, size_t len, void *arg)
{
  struct rows_ctx *c = arg;
  const struct fx_table_desc *d = fx_table_desc(c->kind);
  if (read_ints(line, len, d->fields, d->n_fields, c->row))
    return -1;
  uint32_t e = fx_idmap_get(c->ids, c->row[1]);
  if (e == FX_IDMAP_NONE || c->touched[e] || c->f->written[c->kind][e])
    return 0; /* gone, to be recomputed, or a repeated line: ignore */
  memcpy(c->f->rows[c->kind] + (size_t)e * d->n_fields, c->row, d->n_fields * sizeof(int64_t));
  c->f->written[c->kind][e] = 1;
  return 0;
}

/* Marks the collections of product p whose shop's collection watermark is below t. */
static void touch_collections(const struct fx_dataset *ds, uint8_t *tc, uint32_t p, fx_time t,
                              const struct wm *wm)
{
  if (t <= wm[(size_t)ds->products[p].shop * FX_KIND_COUNT + FX_KIND_COLLECTION].watermark)
    return;
  for (uint32_t r = ds->product_links.start[p]; r < ds->product_links.start[p + 1]; r++)
    tc[ds->links[ds->product_links.idx[r]].collection] = 1;
}

/* The per-shop record walk shared by planning (count at/below watermarks) and saving. */
#define FX_EACH_RECORD(ds, SHOP, T, BODY)                                                     \
  do {                                                                                        \
    for (size_t i_ = 0; i_ < (ds)->n_products; i_++) {                                        \
      uint32_t SHOP = (ds)->products[i_].shop; fx_time T = (ds)->products[i_].updated_at; BODY \
    }                                                                                         \
    for (size_t i_ = 0; i_ < (ds)->n_collections; i_++) {                                     \
      uint32_t SHOP = (ds)->collections[i_].shop; fx_time T = (ds)->collections[i_].updated_at; BODY \
    }                                                                                         \
    for (size_t i_ = 0; i_ < (ds)->n_customers; i_++) {                                       \
      uint32_t SHOP = (ds)->customers[i_].shop; fx_time T = (ds)->customers[i_].updated_at; BODY \
    }                                                                                         \
    for (size_t i_ = 0; i_ < (ds)->n_orders; i_++) {                                          \
      uint32_t SHOP = (ds)->orders[i_].shop; fx_time T = (ds)->orders[i_].updated_at; BODY    \
    }                                                                                         \
    for (size_t i_ = 0; i_ < (ds)->n_events; i_++) {                                          \
      uint32_t SHOP = (ds)->events[i_].shop; fx_time T = (ds)->events[i_].at; BODY            \
    }                                                                                         \
  } while (0)

static void mark_touched(const struct fx_dataset *ds, const struct wm *wm, uint8_t *t[3])
{
  uint8_t *tp = t[FX_KIND_PRODUCT], *tu = t[FX_KIND_USER], *tc = t[FX_KIND_COLLECTION];
#define WM(shop, k) wm[(size_t)(shop) * FX_KIND_COUNT + (k)].watermark
  for (uint32_t p = 0; p < ds->n_products; p++) {
    fx_time u = ds->products[p].updated_at;
    if (u > WM(ds->products[p].shop, FX_KIND_PRODUCT))
      tp[p] = 1;
    touch_collections(ds, tc, p, u, wm);
  }
  for (size_t c = 0; c < ds->n_collections; c++)
    if (ds->collections[c].updated_at > WM(ds->collections[c].shop, FX_KIND_COLLECTION))
      tc[c] = 1;
  for (size_t c = 0; c < ds->n_customers; c++)
    if (ds->customers[c].updated_at > WM(ds->customers[c].shop, FX_KIND_USER))
      tu[c] = 1;
  for (size_t o = 0; o < ds->n_orders; o++) {
    const struct fx_order *ord = &ds->orders[o];
    if (ord->updated_at > WM(ord->shop, FX_KIND_USER))
      tu[ord->customer] = 1;
    for (uint32_t k = 0; k < ord->n_items; k++) {
      uint32_t p = ds->items[ord->first_item + k].product;
      if (ord->updated_at > WM(ord->shop, FX_KIND_PRODUCT))
        tp[p] = 1;
      touch_collections(ds, tc, p, ord->updated_at, wm);
    }
  }
  for (size_t e = 0; e < ds->n_events; e++) {
    const struct fx_event *ev = &ds->events[e];
    if (ev->at > WM(ev->shop, FX_KIND_USER))
      tu[ev->customer] = 1;
    if (ev->at > WM(ev->shop, FX_KIND_PRODUCT))
      tp[ev->product] = 1;
    touch_collections(ds, tc, ev->product, ev->at, wm);
  }
#undef WM
}

static uint32_t entity_shop(const struct fx_dataset *ds, int k, size_t e)
{
  return k == FX_KIND_PRODUCT ? ds->products[e].shop
       : k == FX_KIND_USER    ? ds->customers[e].shop
                              : ds->collections[e].shop;
}

static int64_t entity_id(const struct fx_dataset *ds, int k, size_t e)
{
  return k == FX_KIND_PRODUCT ? ds->products[e].id
       : k == FX_KIND_USER    ? ds->customers[e].id
                              : ds->collections[e].id;
}

int fx_state_plan(const char *dir, const struct fx_dataset *ds, struct fx_features *f,
                  uint32_t *todo[FX_KIND_COUNT], size_t n_todo[FX_KIND_COUNT],
                  struct fx_state_plan *plan, char *err, size_t errlen)
{
  memset(plan, 0, sizeof *plan);
  struct fx_buf b = {0};
  int rc = read_file(dir, WM_FILE, &b);
  if (rc == -ENOENT) {
    plan->full = 1;
    plan->reason = "no state yet, full run";
    fx_buf_free(&b);
    return 0; /* todo stays NULL: everything */
  }
  if (rc) {
    snprintf(err, errlen, "%s/%s: cannot read the state (%s); delete the folder for a full run",
             dir, WM_FILE, strerror(-rc));
    fx_buf_free(&b);
    return PS_EXIT_USAGE;
  }
  struct fx_idmap shops = {0};
  for (size_t s = 0; s < ds->n_shops; s++)
    fx_idmap_put(&shops, ds->shops[s].id, (uint32_t)s, NULL);
  struct wm *wm = malloc((ds->n_shops ? ds->n_shops : 1) * FX_KIND_COUNT * sizeof *wm);
  uint8_t *touched[FX_KIND_COUNT] = {0};
  int64_t *row = malloc(32 * sizeof(int64_t));
  struct wm_ctx wc = {ds, &shops, wm, 0};
  size_t bad_line = 0;
  for (size_t i = 0; i < ds->n_shops * FX_KIND_COUNT; i++)
    wm[i] = (struct wm){NO_WM, 0};
  if (each_line(&b, wm_line, &wc, &bad_line)) {
    snprintf(err, errlen, "%s/%s:%zu: not a watermark line; delete the state folder for a "
             "full run", dir, WM_FILE, bad_line);
    rc = PS_EXIT_USAGE;
    goto out;
  }
  if (wc.stale) { /* every 30-day window moved: nothing can be reused */
    for (size_t i = 0; i < ds->n_shops * FX_KIND_COUNT; i++)
      wm[i] = (struct wm){NO_WM, 0};
    plan->full = 1;
    plan->reason = "reference time changed, full run";
  }
  /* late records at or below a watermark make that shop's feature type fully recomputed */
  int64_t *below = calloc(ds->n_shops * FX_KIND_COUNT + 1, sizeof(int64_t));
  FX_EACH_RECORD(ds, shop, t, {
    for (int k = 0; k < FX_KIND_COUNT; k++)
      below[(size_t)shop * FX_KIND_COUNT + (size_t)k] +=
          t <= wm[(size_t)shop * FX_KIND_COUNT + (size_t)k].watermark;
  });
  for (size_t i = 0; i < ds->n_shops * FX_KIND_COUNT; i++)
    if (below[i] != wm[i].records) {
      plan->late += wm[i].watermark != NO_WM;
      wm[i] = (struct wm){NO_WM, 0};
    }
  free(below);
  for (int k = 0; k < FX_KIND_COUNT; k++)
    touched[k] = calloc(fx_dataset_count(ds, (enum fx_kind)k) + 1, 1);
  mark_touched(ds, wm, touched);
  for (int k = 0; k < FX_KIND_COUNT && rc == 0; k++) {
    size_t n = fx_dataset_count(ds, (enum fx_kind)k);
    for (size_t e = 0; e < n; e++) /* shops without a watermark: everything */
      if (wm[(size_t)entity_shop(ds, k, e) * FX_KIND_COUNT + (size_t)k].watermark == NO_WM)
        touched[k][e] = 1;
    struct fx_idmap ids = {0};
    for (size_t e = 0; e < n; e++)
      fx_idmap_put(&ids, entity_id(ds, k, e), (uint32_t)e, NULL);
    char name[64];
    snprintf(name, sizeof name, "%s.jsonl", fx_table_desc((enum fx_kind)k)->table);
    struct fx_buf rows = {0};
    int r = read_file(dir, name, &rows);
    struct rows_ctx rcx = {(enum fx_kind)k, &ids, f, touched[k], row};
    if (r && r != -ENOENT) {
      snprintf(err, errlen, "%s/%s: cannot read the state (%s); delete the folder for a full "
               "run", dir, name, strerror(-r));
      rc = PS_EXIT_USAGE;
    } else if (r == 0 && each_line(&rows, row_line, &rcx, &bad_line)) {
      snprintf(err, errlen, "%s/%s:%zu: not a feature row; delete the state folder for a full "
               "run", dir, name, bad_line);
      rc = PS_EXIT_USAGE;
    }
    fx_buf_free(&rows);
    fx_idmap_free(&ids);
    if (rc)
      break;
    size_t cnt = 0;
    for (size_t e = 0; e < n; e++)
      cnt += !f->written[k][e];
    todo[k] = malloc((cnt ? cnt : 1) * sizeof(uint32_t));
    n_todo[k] = 0;
    for (size_t e = 0; e < n; e++)
      if (!f->written[k][e])
        todo[k][n_todo[k]++] = (uint32_t)e;
    plan->todo[k] = n_todo[k];
    plan->reused[k] = n - n_todo[k];
  }
out:
  for (int k = 0; k < FX_KIND_COUNT; k++)
    free(touched[k]);
  free(row);
  free(wm);
  fx_idmap_free(&shops);
  fx_buf_free(&b);
  return rc;
}

int fx_state_save(const char *dir, const struct fx_dataset *ds, const struct fx_features *f,
                  char *err, size_t errlen)
{
  struct fx_buf b = {0};
  int rc = fx_sink_write_rows(dir, f, err, errlen);
  if (rc == 0) {
    fx_time *newest = malloc((ds->n_shops + 1) * sizeof *newest);
    int64_t *count = calloc(ds->n_shops + 1, sizeof *count);
    for (size_t s = 0; s < ds->n_shops; s++)
      newest[s] = NO_WM;
    FX_EACH_RECORD(ds, shop, t, {
      if (t > newest[shop])
        newest[shop] = t;
      count[shop]++;
    });
    b.len = 0;
    for (size_t s = 0; s < ds->n_shops; s++)
      for (int k = 0; k < FX_KIND_COUNT; k++) {
        fx_buf_str(&b, "{\"shop_id\":");
        fx_buf_i64(&b, ds->shops[s].id);
        fx_buf_str(&b, ",\"kind\":");
        fx_buf_i64(&b, k);
        fx_buf_str(&b, ",\"feature\":\"");
        fx_buf_str(&b, fx_table_desc((enum fx_kind)k)->kind);
        fx_buf_str(&b, "\",\"watermark\":");
        fx_buf_i64(&b, newest[s] == NO_WM ? 0 : newest[s]);
        fx_buf_str(&b, ",\"records\":");
        fx_buf_i64(&b, newest[s] == NO_WM ? 0 : count[s]);
        fx_buf_str(&b, ",\"reference_time\":");
        fx_buf_i64(&b, ds->reference_time);
        fx_buf_str(&b, "}\n");
      }
    free(newest);
    free(count);
    rc = fx_sink_write_file(dir, WM_FILE, b.data ? b.data : "", b.len, err, errlen);
  }
  fx_buf_free(&b);
  return rc;
}
