/* alloc-analysis.c - the allocation analysis: reads alloc traces in seq order (streaming, memory
 * bounded by live blocks and distinct stacks), pairs allocations with frees, and produces the
 * "profile.alloc" summary of docs/results-schema.md (see docs/alloc-tracer.md for definitions).
 * Sample mode: every sampled block of size Z weighs 1/p(Z), p(Z) = 1 - exp(-Z/R), and totals get
 * 95% intervals from the Horvitz-Thompson variance sum((1-p)/p^2 x^2).
 */
#include "alloc-analysis.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-live.h"
#include "alloc-sites.h"
#include "flamegraph.h"
#include "symbolize.h"
#include "trace-reader.h"
#include "util.h"

#define TL_BUCKETS 512

struct stack_agg {
  uint64_t ips_off;
  uint32_t nips;
  int defined;
  double calls, bytes, live, live_at_peak, leaked_blocks, leaked_bytes, temporary;
  double var_calls, var_bytes;
  uint64_t stamp;
};

struct proc {
  struct stack_agg *stacks;
  size_t nstacks;
  uint64_t *ips;
  size_t nips, capips;
  double heap, peak;
  uint64_t peak_ns, peak_stamp;
  uint64_t last_alloc_ptr;
};

static struct stack_agg *stack_at(struct proc *p, uint64_t id)
{
  if (id >= p->nstacks) {
    size_t n = p->nstacks ? p->nstacks : 1024;
    while (n <= id)
      n *= 2;
    if (n > (1u << 28))
      return NULL; /* absurd id: corrupt; caller ignores */
    p->stacks = ps_xrealloc(p->stacks, n * sizeof *p->stacks);
    memset(p->stacks + p->nstacks, 0, (n - p->nstacks) * sizeof *p->stacks);
    p->nstacks = n;
  }
  return &p->stacks[id];
}

/* Live-bytes change of one stack, keeping its value at the latest global peak (see header). */
static void stack_live(struct proc *p, struct stack_agg *s, double delta)
{
  if (s->stamp < p->peak_stamp) {
    s->live_at_peak = s->live;
    s->stamp = p->peak_stamp;
  }
  s->live += delta;
}

static void timeline_slow(struct alloc_totals *t, uint64_t abs_ns, double heap);

static inline void timeline_add(struct alloc_totals *t, uint64_t abs_ns, double heap)
{
  if (__builtin_expect(abs_ns == t->tl_last_ns && t->tl_last_b < TL_BUCKETS, 1)) {
    if (heap > t->tl[t->tl_last_b]) /* same TIME record: same bucket */
      t->tl[t->tl_last_b] = heap;
    return;
  }
  timeline_slow(t, abs_ns, heap);
}

static void timeline_slow(struct alloc_totals *t, uint64_t abs_ns, double heap)
{
  uint64_t rel = abs_ns > t->tl_origin ? abs_ns - t->tl_origin : 0;
  uint64_t b = rel / t->tl_width;
  while (b >= TL_BUCKETS) {
    for (size_t i = 0; i < TL_BUCKETS / 2; i++)
      t->tl[i] = fmax(t->tl[2 * i], t->tl[2 * i + 1]);
    for (size_t i = TL_BUCKETS / 2; i < TL_BUCKETS; i++)
      t->tl[i] = 0;
    t->tl_used = (t->tl_used + 1) / 2;
    t->tl_last_b = TL_BUCKETS; /* bucket numbers changed */
    t->tl_width *= 2;
    b = rel / t->tl_width;
  }
  if (heap > t->tl[b])
    t->tl[b] = heap;
  t->tl_last_ns = abs_ns;
  t->tl_last_b = b;
  if (b + 1 > t->tl_used)
    t->tl_used = b + 1;
}

static double weight_of(const struct alloc_totals *t, uint64_t size, double *var_factor)
{
  if (t->mode != 2) {
    *var_factor = 0;
    return 1.0;
  }
  double p = -expm1(-(double)(size ? size : 1) / t->interval);
  *var_factor = (1 - p) / (p * p);
  return 1.0 / p;
}

static void on_alloc(struct alloc_totals *t, struct proc *p, const struct ps_rec *r,
                     uint64_t start_mono)
{
  double vf;
  double w = weight_of(t, r->size, &vf);
  struct stack_agg *s = stack_at(p, r->stack);
  if (!s)
    return;
  t->calls[r->fn < PS_FN_COUNT ? r->fn : 0] += w;
  t->total_calls += w;
  t->bytes += (double)r->size * w;
  t->var_calls += vf;
  t->var_bytes += vf * (double)r->size * (double)r->size;
  unsigned h = r->size ? 64 - (unsigned)__builtin_clzll(r->size) : 0;
  t->hist_calls[h] += w;
  t->hist_bytes[h] += (double)r->size * w;
  s->calls += w;
  s->bytes += (double)r->size * w;
  s->var_calls += vf;
  s->var_bytes += vf * (double)r->size * (double)r->size;
  if (!r->ptr)
    return; /* realloc(p, 0): a call, no block */
  struct alloc_block b = {r->ptr, r->size, (uint32_t)r->stack, (float)w}, old;
  alloc_live_put(&t->live, &b, &old);
  if (old.ptr) { /* the address was reused before we saw its free (realloc race): drop it */
    p->heap -= (double)old.size * old.weight;
    struct stack_agg *os = stack_at(p, old.stack);
    if (os)
      stack_live(p, os, -(double)old.size * old.weight);
  }
  stack_live(p, s, (double)r->size * w);
  p->heap += (double)r->size * w;
  if (p->heap > p->peak) {
    p->peak = p->heap;
    p->peak_ns = r->time_ns;
    p->peak_stamp++;
  }
  p->last_alloc_ptr = r->ptr;
  timeline_add(t, start_mono + r->time_ns, p->heap);
}

static void on_free(struct alloc_totals *t, struct proc *p, const struct ps_rec *r,
                    uint64_t start_mono)
{
  if (r->type == PS_REC_FREE && r->fn == PS_FN_FREE)
    t->frees += 1;
  struct alloc_block b;
  uint64_t ptr = r->type == PS_REC_REALLOC ? r->old_ptr : r->ptr;
  if (!alloc_live_take(&t->live, ptr, &b)) {
    if (t->mode != 2 && r->type == PS_REC_FREE && r->fn == PS_FN_FREE)
      t->unmatched_frees++;
    return;
  }
  if (t->mode == 2 && r->type == PS_REC_FREE && r->fn == PS_FN_FREE)
    t->frees += b.weight - 1; /* a sampled free stands for 1/p frees */
  double bytes = (double)b.size * b.weight;
  p->heap -= bytes;
  struct stack_agg *s = stack_at(p, b.stack);
  if (s) {
    stack_live(p, s, -bytes);
    if (p->last_alloc_ptr == ptr && r->type == PS_REC_FREE) {
      s->temporary += b.weight;
      t->temporary += b.weight;
    }
  }
  p->last_alloc_ptr = 0;
  timeline_add(t, start_mono + r->time_ns, p->heap);
}

static int read_trace(struct alloc_totals *t, const char *path, struct alloc_sites *sites,
                      json_t *procs)
{
  struct ps_trace *tr;
  int err = ps_trace_open(path, &tr);
  if (err)
    return err;
  const struct ps_trace_header *h = ps_trace_header(tr);
  if (h->kind != PS_TRACE_ALLOC) {
    ps_error("%s is a CPU trace, not an allocation trace; analyze it with 'perfsweep analyze' "
             "(which dispatches on the kind) or pass alloc.<pid>.pst files", path);
    ps_trace_close(tr);
    return -EINVAL;
  }
  if (!t->mode) {
    t->mode = h->mode;
    t->interval = h->mode == 2 && h->param ? (double)h->param : 524288.0;
  }
  struct proc p = {0};
  struct ps_sym *sym = ps_sym_new();
  json_t *notes = json_array();
  double calls_before = t->total_calls, bytes_before = t->bytes;
  err = ps_trace_merge_begin(tr);
  const struct ps_rec *rp;
  uint64_t nrec = 0;
  while (!err) {
    int ok = ps_trace_merge_next_ref(tr, &rp);
    if (ok < 0)
      err = ok;
    if (ok <= 0)
      break;
    nrec++;
    switch (rp->type) {
    case PS_REC_MODULE: {
      char *mp = ps_xcalloc(1, rp->str_len + 1);
      memcpy(mp, rp->str, rp->str_len);
      ps_sym_add_module(sym, mp, rp->ptr, rp->size, rp->bytes, rp->bytes_len);
      free(mp);
      break;
    }
    case PS_REC_STACK: {
      struct stack_agg *s = stack_at(&p, rp->id);
      if (!s || s->defined)
        break;
      if (p.nips + rp->nips > p.capips) {
        p.capips = (p.capips + rp->nips) * 2;
        p.ips = ps_xrealloc(p.ips, p.capips * sizeof *p.ips);
      }
      memcpy(p.ips + p.nips, rp->ips, rp->nips * sizeof *rp->ips);
      s->ips_off = p.nips;
      s->nips = rp->nips;
      s->defined = 1;
      p.nips += rp->nips;
      break;
    }
    case PS_REC_NOTE:
      json_array_append_new(notes, json_stringn(rp->str, rp->str_len));
      break;
    case PS_REC_ALLOC:
    case PS_REC_ALLOCS:
      on_alloc(t, &p, rp, h->start_mono_ns);
      break;
    case PS_REC_REALLOC:
      if (rp->old_ptr)
        on_free(t, &p, rp, h->start_mono_ns);
      on_alloc(t, &p, rp, h->start_mono_ns);
      break;
    case PS_REC_FREE:
      on_free(t, &p, rp, h->start_mono_ns);
      break;
    case PS_REC_LOST:
      t->lost += rp->size;
      break;
    default:
      break;
    }
  }
  t->events += nrec;
  /* leaks: what is still live; peak values of stacks untouched since the last peak */
  double leaked_blocks = 0, leaked_bytes = 0;
  for (size_t i = 0; i < t->live.cap; i++) {
    struct alloc_block *b = &t->live.slots[i];
    if (!b->ptr)
      continue;
    struct stack_agg *s = stack_at(&p, b->stack);
    if (s) {
      s->leaked_blocks += b->weight;
      s->leaked_bytes += (double)b->size * b->weight;
    }
    leaked_blocks += b->weight;
    leaked_bytes += (double)b->size * b->weight;
  }
  alloc_live_free(&t->live);
  t->leaked_blocks += leaked_blocks;
  t->leaked_bytes += leaked_bytes;
  if (p.peak > t->peak_heap) {
    t->peak_heap = p.peak;
    t->peak_time = (double)p.peak_ns / 1e9;
  }
  for (size_t i = 0; i < p.nstacks; i++) {
    struct stack_agg *s = &p.stacks[i];
    if (s->calls == 0 && s->leaked_blocks == 0)
      continue;
    if (s->stamp < p.peak_stamp)
      s->live_at_peak = s->live;
    struct alloc_site_in in = {
        .ips = s->defined ? p.ips + s->ips_off : NULL, .nips = s->defined ? s->nips : 0,
        .calls = s->calls, .bytes = s->bytes, .peak = s->live_at_peak,
        .leaked_blocks = s->leaked_blocks, .leaked_bytes = s->leaked_bytes,
        .temporary = s->temporary, .var_calls = s->var_calls, .var_bytes = s->var_bytes};
    alloc_sites_add(sites, sym, &in);
  }
  json_t *pj = json_pack("{s:i, s:i, s:s, s:s, s:f, s:f, s:f, s:f, s:b, s:b, s:b, s:b, s:o}",
                         "pid", (json_int_t)h->pid, "ppid", (json_int_t)h->ppid,
                         "exe", ps_trace_exe(tr), "trace", path,
                         "calls", t->total_calls - calls_before, "bytes", t->bytes - bytes_before,
                         "peak_heap", p.peak, "leaked_bytes", leaked_bytes,
                         "complete", (h->flags & PS_TRACE_F_COMPLETE) != 0,
                         "crashed", (h->flags & PS_TRACE_F_CRASHED) != 0,
                         "disk_full", (h->flags & PS_TRACE_F_DISK_FULL) != 0,
                         "truncated", ps_trace_truncated(tr) != 0, "notes", notes);
  json_array_append_new(procs, pj);
  free(p.stacks);
  free(p.ips);
  ps_sym_free(sym);
  ps_trace_close(tr);
  return err;
}

static json_t *ci95(double est, double var)
{
  double half = 1.96 * sqrt(var);
  return json_pack("[f,f]", est - half < 0 ? 0 : est - half, est + half);
}

static json_t *calls_object(const struct alloc_totals *t)
{
  json_t *c = json_object();
  json_object_set_new(c, "total", json_real(round(t->total_calls)));
  for (unsigned fn = 0; fn < PS_FN_COUNT; fn++)
    if (fn != PS_FN_FREE && fn != PS_FN_MUNMAP && t->calls[fn] > 0)
      json_object_set_new(c, ps_alloc_fn_name(fn), json_real(round(t->calls[fn])));
  json_object_set_new(c, "free", json_real(round(t->frees)));
  if (t->mode == 2)
    json_object_set_new(c, "total_ci95", ci95(t->total_calls, t->var_calls));
  return c;
}

static void write_flamegraphs(const char *dir, json_t *files)
{
  static const struct { const char *folded, *svg, *key, *unit; } g[2] = {
      {"alloc-bytes.folded", "alloc-bytes.svg", "flamegraph_bytes", "bytes"},
      {"alloc-calls.folded", "alloc-calls.svg", "flamegraph_calls", "calls"}};
  for (int i = 0; i < 2; i++) {
    char *in = ps_xasprintf("%s/%s", dir, g[i].folded);
    char *out = ps_xasprintf("%s/%s", dir, g[i].svg);
    struct flame_opts fo = {.title = i ? "Allocations by calls" : "Allocations by bytes",
                            .unit = g[i].unit};
    if (flamegraph_write_svg(in, out, &fo) == 0)
      json_object_set_new(files, g[i].key, json_string(g[i].svg));
    free(in);
    free(out);
  }
}

static int analyze(char *const *traces, size_t ntraces, const struct alloc_analysis_opts *opts,
                   json_t **summary, json_t **all_sites)
{
  struct alloc_totals t = {.tl_width = 1000000, .tl_last_b = TL_BUCKETS};
  struct alloc_sites *sites = alloc_sites_new();
  json_t *procs = json_array();
  int err = 0;
  /* the heap timeline starts at the earliest process start */
  t.tl_origin = UINT64_MAX;
  for (size_t i = 0; i < ntraces; i++) {
    struct ps_trace *tr;
    if (ps_trace_open(traces[i], &tr)) {
      err = -EINVAL;
      break;
    }
    if (ps_trace_header(tr)->start_mono_ns < t.tl_origin)
      t.tl_origin = ps_trace_header(tr)->start_mono_ns;
    ps_trace_close(tr);
  }
  for (size_t i = 0; !err && i < ntraces; i++)
    err = read_trace(&t, traces[i], sites, procs);
  if (err) {
    json_decref(procs);
    alloc_sites_free(sites);
    return err;
  }
  size_t top = opts && opts->top_n ? opts->top_n : 20;
  json_t *s = json_object();
  json_object_set_new(s, "mode", json_string(t.mode == 2 ? "sample" : "exact"));
  json_object_set_new(s, "sample_interval", t.mode == 2 ? json_integer((json_int_t)t.interval) : json_null());
  json_object_set_new(s, "calls", calls_object(&t));
  json_object_set_new(s, "bytes", json_real(round(t.bytes)));
  if (t.mode == 2)
    json_object_set_new(s, "bytes_ci95", ci95(t.bytes, t.var_bytes));
  json_object_set_new(s, "temporary", json_real(round(t.temporary)));
  json_object_set_new(s, "peak_heap", json_real(round(t.peak_heap)));
  json_object_set_new(s, "peak_heap_time", json_real(t.peak_time));
  json_object_set_new(s, "peak_rss_kb", json_null());
  json_object_set_new(s, "leaks", json_pack("{s:f, s:f}", "blocks", round(t.leaked_blocks),
                                            "bytes", round(t.leaked_bytes)));
  json_object_set_new(s, "events", json_integer((json_int_t)t.events));
  json_object_set_new(s, "unmatched_frees", json_integer((json_int_t)t.unmatched_frees));
  json_object_set_new(s, "lost", json_integer((json_int_t)t.lost));
  alloc_sites_to_json(sites, s, top);
  json_t *hist = json_array();
  for (unsigned i = 0; i < 65; i++) {
    if (t.hist_calls[i] == 0)
      continue;
    uint64_t lo = i ? 1ull << (i - 1) : 0, hi = i ? (i == 64 ? UINT64_MAX : (1ull << i) - 1) : 0;
    json_array_append_new(hist, json_pack("{s:I, s:I, s:f, s:f}", "min", (json_int_t)lo, "max",
                                          (json_int_t)hi, "calls", round(t.hist_calls[i]),
                                          "bytes", round(t.hist_bytes[i])));
  }
  json_object_set_new(s, "histogram", hist);
  json_t *tt = json_array(), *tb = json_array();
  for (size_t i = 0; i < t.tl_used; i++) {
    json_array_append_new(tt, json_real((double)(i * t.tl_width) / 1e9));
    json_array_append_new(tb, json_real(round(t.tl[i])));
  }
  json_object_set_new(s, "heap_timeline", json_pack("{s:o, s:o}", "t", tt, "bytes", tb));
  json_object_set_new(s, "processes", procs);
  json_t *files = json_object();
  if (opts && opts->out_dir) {
    int werr = alloc_sites_write_folded(sites, opts->out_dir);
    if (werr) {
      ps_error("cannot write the folded stacks into %s: %s", opts->out_dir, strerror(-werr));
      err = werr;
    } else {
      json_object_set_new(files, "folded_bytes", json_string("alloc-bytes.folded"));
      json_object_set_new(files, "folded_calls", json_string("alloc-calls.folded"));
      write_flamegraphs(opts->out_dir, files);
    }
  }
  json_object_set_new(s, "files", files);
  if (all_sites)
    *all_sites = alloc_sites_all_json(sites);
  alloc_sites_free(sites);
  *summary = s;
  return err;
}

int alloc_analyze(char *const *traces, size_t ntraces, const struct alloc_analysis_opts *opts,
                  json_t **summary)
{
  *summary = NULL;
  if (ntraces == 0) {
    ps_error("no allocation trace to analyze: pass alloc.<pid>.pst files or the folder of a "
             "'perfsweep profile --alloc' run");
    return -ENOENT;
  }
  json_t *sites = NULL;
  int err = analyze(traces, ntraces, opts, summary, opts && opts->diff_base ? &sites : NULL);
  if (err || !opts || !opts->diff_base) {
    json_decref(sites);
    return err;
  }
  char **base = NULL;
  size_t nbase = 0;
  char *arg = (char *)opts->diff_base;
  err = ps_trace_expand(&arg, 1, "alloc", &base, &nbase);
  json_t *bsum = NULL, *bsites = NULL;
  struct alloc_analysis_opts bo = {.top_n = 1};
  if (!err)
    err = analyze(base, nbase, &bo, &bsum, &bsites);
  if (!err && nbase == 0) {
    ps_error("--diff %s holds no alloc.*.pst trace", opts->diff_base);
    err = -ENOENT;
  }
  if (!err)
    json_object_set_new(*summary, "diff", alloc_sites_diff(bsites, sites, bsum, *summary,
                                                           opts->top_n ? opts->top_n : 20));
  /* a differential flame graph when the base is a profile folder with its folded stacks */
  char *bf = ps_xasprintf("%s/alloc-bytes.folded", opts->diff_base);
  if (!err && opts->out_dir && access(bf, R_OK) == 0) {
    char *nf = ps_xasprintf("%s/alloc-bytes.folded", opts->out_dir);
    char *svg = ps_xasprintf("%s/alloc-bytes-diff.svg", opts->out_dir);
    struct flame_opts fo = {.title = "Allocated bytes: red grew, blue shrank", .unit = "bytes"};
    if (flamegraph_write_diff_svg(bf, nf, svg, &fo) == 0)
      json_object_set_new(json_object_get(*summary, "files"), "flamegraph_diff",
                          json_string("alloc-bytes-diff.svg"));
    free(nf);
    free(svg);
  }
  free(bf);
  ps_trace_paths_free(base, nbase);
  json_decref(bsum);
  json_decref(bsites);
  json_decref(sites);
  return err;
}
