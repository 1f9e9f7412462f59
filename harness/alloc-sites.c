/* alloc-sites.c - groups symbolized allocation stacks into sites and folded stacks, and renders
 * them as JSON, folded files and the --diff table (see alloc-sites.h).
 */
#include "alloc-sites.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct site {
  char *function, *module, *file;
  int line;
  double calls, bytes, peak, leaked_blocks, leaked_bytes, temporary, var_calls, var_bytes;
};

struct folded {
  char *stack;
  double bytes, calls;
};

/* string -> index map (open addressing) */
struct smap {
  char **keys;
  size_t *idx;
  size_t cap, n;
};

struct alloc_sites {
  struct smap site_ix, fold_ix;
  struct site *sites;
  size_t nsites;
  struct folded *folds;
  size_t nfolds;
  int sampled;
};

static uint64_t hstr(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

/* Returns the index for key, or (size_t)-1 after inserting key with index next (key copied). */
static size_t smap_get(struct smap *m, const char *key, size_t next)
{
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    char **k = ps_xcalloc(cap, sizeof *k);
    size_t *ix = ps_xcalloc(cap, sizeof *ix);
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->keys[i])
        continue;
      size_t j = hstr(m->keys[i]) & (cap - 1);
      while (k[j])
        j = (j + 1) & (cap - 1);
      k[j] = m->keys[i];
      ix[j] = m->idx[i];
    }
    free(m->keys);
    free(m->idx);
    m->keys = k;
    m->idx = ix;
    m->cap = cap;
  }
  size_t j = hstr(key) & (m->cap - 1);
  while (m->keys[j]) {
    if (!strcmp(m->keys[j], key))
      return m->idx[j];
    j = (j + 1) & (m->cap - 1);
  }
  m->keys[j] = ps_xstrdup(key);
  m->idx[j] = next;
  m->n++;
  return (size_t)-1;
}

static void smap_free(struct smap *m)
{
  for (size_t i = 0; i < m->cap; i++)
    free(m->keys[i]);
  free(m->keys);
  free(m->idx);
}

struct alloc_sites *alloc_sites_new(void) { return ps_xcalloc(1, sizeof(struct alloc_sites)); }

void alloc_sites_free(struct alloc_sites *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->nsites; i++) {
    free(s->sites[i].function);
    free(s->sites[i].module);
    free(s->sites[i].file);
  }
  for (size_t i = 0; i < s->nfolds; i++)
    free(s->folds[i].stack);
  free(s->sites);
  free(s->folds);
  smap_free(&s->site_ix);
  smap_free(&s->fold_ix);
  free(s);
}

/* operator new and friends are the allocator, not the site: the caller of new is. */
static int is_allocator_frame(const char *fn)
{
  return !strncmp(fn, "operator new", 12) || !strncmp(fn, "_Znw", 4) || !strncmp(fn, "_Zna", 4) ||
         !strncmp(fn, "operator delete", 15);
}

#define MAX_FRAMES 1024

void alloc_sites_add(struct alloc_sites *s, struct ps_sym *sym, const struct alloc_site_in *in)
{
  static struct ps_frame frames[MAX_FRAMES];
  size_t nf = 0;
  for (unsigned i = 0; in->ips && i < in->nips && nf < MAX_FRAMES; i++) {
    const struct ps_frame *f;
    int n = ps_sym_resolve(sym, in->ips[i], 1, &f);
    for (int k = 0; k < n && nf < MAX_FRAMES; k++)
      frames[nf++] = f[k];
  }
  size_t first = 0;
  while (first + 1 < nf && is_allocator_frame(frames[first].function))
    first++;
  const struct ps_frame unknown = {.function = "[unknown]"};
  const struct ps_frame *site_f = nf ? &frames[first] : &unknown;
  if (in->var_calls > 0)
    s->sampled = 1;

  char key[1024];
  snprintf(key, sizeof key, "%s\x1f%s\x1f%d", site_f->function, site_f->file ? site_f->file : "",
           site_f->line);
  size_t ix = smap_get(&s->site_ix, key, s->nsites);
  if (ix == (size_t)-1) {
    ix = s->nsites++;
    s->sites = ps_xrealloc(s->sites, s->nsites * sizeof *s->sites);
    struct site *n = &s->sites[ix];
    memset(n, 0, sizeof *n);
    n->function = ps_xstrdup(site_f->function);
    n->module = site_f->module ? ps_xstrdup(site_f->module) : NULL;
    n->file = site_f->file ? ps_xstrdup(site_f->file) : NULL;
    n->line = site_f->line;
  }
  struct site *st = &s->sites[ix];
  st->calls += in->calls;
  st->bytes += in->bytes;
  st->peak += in->peak;
  st->leaked_blocks += in->leaked_blocks;
  st->leaked_bytes += in->leaked_bytes;
  st->temporary += in->temporary;
  st->var_calls += in->var_calls;
  st->var_bytes += in->var_bytes;

  /* folded: outermost first, allocator frames dropped */
  size_t len = 0, cap = 256;
  char *line = ps_xmalloc(cap);
  line[0] = 0;
  if (!nf) {
    strcpy(line, "[unknown]");
    len = strlen(line);
  }
  for (size_t k = nf; k-- > first;) {
    const char *fn = frames[k].function;
    size_t fl = strlen(fn);
    if (len + fl + 2 > cap) {
      cap = (len + fl + 2) * 2;
      line = ps_xrealloc(line, cap);
    }
    if (len)
      line[len++] = ';';
    for (size_t c = 0; c < fl; c++)
      line[len++] = fn[c] == ';' || fn[c] == '\n' ? ':' : fn[c];
    line[len] = 0;
  }
  size_t fx = smap_get(&s->fold_ix, line, s->nfolds);
  if (fx == (size_t)-1) {
    fx = s->nfolds++;
    s->folds = ps_xrealloc(s->folds, s->nfolds * sizeof *s->folds);
    s->folds[fx] = (struct folded){line, 0, 0};
  } else {
    free(line);
  }
  s->folds[fx].bytes += in->bytes;
  s->folds[fx].calls += in->calls;
}

static json_t *site_json(const struct site *st, int sampled)
{
  json_t *o = json_pack("{s:s, s:s?, s:s?, s:i, s:f, s:f, s:f, s:f, s:f, s:f}", "function",
                        st->function, "module", st->module, "file", st->file, "line", st->line,
                        "calls", round(st->calls), "bytes", round(st->bytes), "peak",
                        round(st->peak), "leaked_blocks", round(st->leaked_blocks),
                        "leaked_bytes", round(st->leaked_bytes), "temporary",
                        round(st->temporary));
  if (sampled) {
    double hc = 1.96 * sqrt(st->var_calls), hb = 1.96 * sqrt(st->var_bytes);
    json_object_set_new(o, "calls_ci95", json_pack("[f,f]", fmax(0, st->calls - hc), st->calls + hc));
    json_object_set_new(o, "bytes_ci95", json_pack("[f,f]", fmax(0, st->bytes - hb), st->bytes + hb));
  }
  return o;
}

static int by_bytes(const void *a, const void *b)
{
  const struct site *x = *(struct site *const *)a, *y = *(struct site *const *)b;
  return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}
static int by_calls(const void *a, const void *b)
{
  const struct site *x = *(struct site *const *)a, *y = *(struct site *const *)b;
  return (x->calls < y->calls) - (x->calls > y->calls);
}
static int by_peak(const void *a, const void *b)
{
  const struct site *x = *(struct site *const *)a, *y = *(struct site *const *)b;
  return (x->peak < y->peak) - (x->peak > y->peak);
}
static int by_leak(const void *a, const void *b)
{
  const struct site *x = *(struct site *const *)a, *y = *(struct site *const *)b;
  if (x->leaked_bytes != y->leaked_bytes)
    return (x->leaked_bytes < y->leaked_bytes) - (x->leaked_bytes > y->leaked_bytes);
  return (x->leaked_blocks < y->leaked_blocks) - (x->leaked_blocks > y->leaked_blocks);
}

void alloc_sites_to_json(struct alloc_sites *s, json_t *summary, size_t top)
{
  struct site **v = ps_xcalloc(s->nsites + 1, sizeof *v);
  static const struct { const char *key; int (*cmp)(const void *, const void *); } tables[] = {
      {"top_sites", by_bytes}, {"top_sites_by_calls", by_calls},
      {"top_sites_by_peak", by_peak}, {"leak_sites", by_leak}};
  for (size_t t = 0; t < PS_ARRAY_SIZE(tables); t++) {
    for (size_t i = 0; i < s->nsites; i++)
      v[i] = &s->sites[i];
    qsort(v, s->nsites, sizeof *v, tables[t].cmp);
    json_t *arr = json_array();
    for (size_t i = 0; i < s->nsites && json_array_size(arr) < top; i++) {
      if (tables[t].cmp == by_leak && v[i]->leaked_blocks <= 0)
        break;
      if (tables[t].cmp == by_peak && v[i]->peak <= 0)
        break;
      json_t *o = site_json(v[i], s->sampled);
      if (tables[t].cmp == by_leak) { /* the schema's leak_sites rows: blocks, bytes */
        json_object_set(o, "blocks", json_object_get(o, "leaked_blocks"));
        json_object_set(o, "bytes", json_object_get(o, "leaked_bytes"));
      }
      json_array_append_new(arr, o);
    }
    json_object_set_new(summary, tables[t].key, arr);
  }
  free(v);
}

json_t *alloc_sites_all_json(struct alloc_sites *s)
{
  json_t *arr = json_array();
  for (size_t i = 0; i < s->nsites; i++)
    json_array_append_new(arr, site_json(&s->sites[i], s->sampled));
  return arr;
}

static int write_folded(struct alloc_sites *s, const char *path, int calls)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return -errno;
  for (size_t i = 0; i < s->nfolds; i++) {
    double v = round(calls ? s->folds[i].calls : s->folds[i].bytes);
    if (v > 0)
      fprintf(f, "%s %.0f\n", s->folds[i].stack, v);
  }
  int err = ferror(f) ? -EIO : 0;
  if (fclose(f) && !err)
    err = -errno;
  return err;
}

int alloc_sites_write_folded(struct alloc_sites *s, const char *dir)
{
  char *b = ps_xasprintf("%s/alloc-bytes.folded", dir);
  char *c = ps_xasprintf("%s/alloc-calls.folded", dir);
  int err = write_folded(s, b, 0);
  if (!err)
    err = write_folded(s, c, 1);
  free(b);
  free(c);
  return err;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static char *site_key(json_t *o)
{
  const char *f = json_string_value(json_object_get(o, "file"));
  return ps_xasprintf("%s\x1f%s\x1f%d", json_string_value(json_object_get(o, "function")),
                      f ? f : "", (int)json_integer_value(json_object_get(o, "line")));
}

static int by_abs_delta(const void *a, const void *b)
{
  double x = fabs(num(*(json_t *const *)a, "delta_bytes")) + fabs(num(*(json_t *const *)a, "delta_calls")) * 1e-9;
  double y = fabs(num(*(json_t *const *)b, "delta_bytes")) + fabs(num(*(json_t *const *)b, "delta_calls")) * 1e-9;
  return (x < y) - (x > y);
}

json_t *alloc_sites_diff(json_t *base_sites, json_t *new_sites, json_t *base_sum, json_t *new_sum,
                         size_t top)
{
  struct smap m = {0};
  size_t nb = json_array_size(base_sites), nn = json_array_size(new_sites);
  int *matched = ps_xcalloc(nb + 1, sizeof *matched);
  for (size_t i = 0; i < nb; i++) {
    char *k = site_key(json_array_get(base_sites, i));
    smap_get(&m, k, i);
    free(k);
  }
  size_t nrows = 0;
  json_t **rows = ps_xcalloc(nb + nn + 1, sizeof *rows);
  for (size_t i = 0; i < nn; i++) {
    json_t *n = json_array_get(new_sites, i);
    char *k = site_key(n);
    size_t bi = smap_get(&m, k, (size_t)-2);
    free(k);
    json_t *b = bi < nb ? json_array_get(base_sites, bi) : NULL;
    if (b)
      matched[bi] = 1;
    json_t *r = json_pack("{s:O, s:O?, s:O, s:f, s:f, s:f, s:f}", "function",
                          json_object_get(n, "function"), "file", json_object_get(n, "file"),
                          "line", json_object_get(n, "line"), "bytes_base", b ? num(b, "bytes") : 0.0,
                          "bytes", num(n, "bytes"), "calls_base", b ? num(b, "calls") : 0.0,
                          "calls", num(n, "calls"));
    json_object_set_new(r, "delta_bytes", json_real(num(n, "bytes") - (b ? num(b, "bytes") : 0)));
    json_object_set_new(r, "delta_calls", json_real(num(n, "calls") - (b ? num(b, "calls") : 0)));
    rows[nrows++] = r;
  }
  for (size_t i = 0; i < nb; i++) {
    if (matched[i])
      continue;
    json_t *b = json_array_get(base_sites, i);
    json_t *r = json_pack("{s:O, s:O?, s:O, s:f, s:f, s:f, s:f, s:f, s:f}", "function",
                          json_object_get(b, "function"), "file", json_object_get(b, "file"),
                          "line", json_object_get(b, "line"), "bytes_base", num(b, "bytes"),
                          "bytes", 0.0, "calls_base", num(b, "calls"), "calls", 0.0,
                          "delta_bytes", -num(b, "bytes"), "delta_calls", -num(b, "calls"));
    rows[nrows++] = r;
  }
  qsort(rows, nrows, sizeof *rows, by_abs_delta);
  json_t *arr = json_array();
  for (size_t i = 0; i < nrows; i++) {
    if (i < top && (num(rows[i], "delta_bytes") != 0 || num(rows[i], "delta_calls") != 0))
      json_array_append(arr, rows[i]);
    json_decref(rows[i]);
  }
  free(rows);
  free(matched);
  smap_free(&m);
  json_t *bc = json_object_get(base_sum, "calls"), *nc = json_object_get(new_sum, "calls");
  return json_pack("{s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:o}", "totals",
                   "calls_base", num(bc, "total"), "calls", num(nc, "total"),
                   "bytes_base", num(base_sum, "bytes"), "bytes", num(new_sum, "bytes"),
                   "peak_heap_base", num(base_sum, "peak_heap"), "peak_heap",
                   num(new_sum, "peak_heap"), "leaked_bytes_base",
                   num(json_object_get(base_sum, "leaks"), "bytes"), "leaked_bytes",
                   num(json_object_get(new_sum, "leaks"), "bytes"), "sites", arr);
}
