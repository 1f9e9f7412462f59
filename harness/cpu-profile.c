/* cpu-profile.c - builds struct cpu_profile from CPU traces: one pass per trace over its chunks
 * (sample counts per thread and stack id, stacks, modules, thread names, lost counts, the engine
 * note), then symbolization of each distinct stack once and aggregation by symbolized frames.
 */
#include "cpu-profile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probe-env.h"
#include "symbolize.h"
#include "trace-reader.h"
#include "util.h"

/* ---- small open-addressing hash: 64-bit key hash -> index+1 ----------------------------------- */
struct cpu_ix {
  uint64_t *h;
  uint32_t *v;
  size_t cap, n;
};

static struct cpu_ix *cpu_ix_new(void)
{
  struct cpu_ix *ix = ps_xcalloc(1, sizeof *ix);
  ix->cap = 1024;
  ix->h = ps_xcalloc(ix->cap, sizeof *ix->h);
  ix->v = ps_xcalloc(ix->cap, sizeof *ix->v);
  return ix;
}

static void cpu_ix_free(struct cpu_ix *ix)
{
  if (!ix)
    return;
  free(ix->h);
  free(ix->v);
  free(ix);
}

static void cpu_ix_put(struct cpu_ix *ix, uint64_t h, uint32_t v);

static void cpu_ix_grow(struct cpu_ix *ix)
{
  struct cpu_ix old = *ix;
  ix->cap *= 2;
  ix->n = 0;
  ix->h = ps_xcalloc(ix->cap, sizeof *ix->h);
  ix->v = ps_xcalloc(ix->cap, sizeof *ix->v);
  for (size_t i = 0; i < old.cap; i++)
    if (old.v[i])
      cpu_ix_put(ix, old.h[i], old.v[i] - 1);
  free(old.h);
  free(old.v);
}

static void cpu_ix_put(struct cpu_ix *ix, uint64_t h, uint32_t v)
{
  if ((ix->n + 1) * 4 > ix->cap * 3)
    cpu_ix_grow(ix);
  size_t i = h & (ix->cap - 1);
  while (ix->v[i])
    i = (i + 1) & (ix->cap - 1);
  ix->h[i] = h;
  ix->v[i] = v + 1;
  ix->n++;
}

/* Iterates candidates with hash h: *it starts at 0; returns index or -1 at the end. */
static long cpu_ix_next(const struct cpu_ix *ix, uint64_t h, size_t *it)
{
  size_t i = *it ? *it : (h & (ix->cap - 1)) + 1;
  for (;;) {
    size_t k = (i - 1) & (ix->cap - 1);
    if (!ix->v[k])
      return -1;
    *it = ((k + 1) & (ix->cap - 1)) + 1;
    if (ix->h[k] == h)
      return (long)ix->v[k] - 1;
    i = *it;
  }
}

static uint64_t cpu_hash_str(uint64_t h, const char *s)
{
  if (!s)
    return h * 1099511628211ull + 7;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

static int cpu_streq(const char *a, const char *b)
{
  return a == b || (a && b && !strcmp(a, b));
}

/* ---- building ---------------------------------------------------------------------------------- */
struct cpu_profile *cpu_profile_new(void)
{
  struct cpu_profile *p = ps_xcalloc(1, sizeof *p);
  p->ix_frames = cpu_ix_new();
  p->ix_stacks = cpu_ix_new();
  p->engine = ps_xstrdup("unknown");
  return p;
}

uint32_t cpu_profile_frame(struct cpu_profile *p, const char *function, const char *module,
                           const char *file, int line)
{
  uint64_t h = cpu_hash_str(cpu_hash_str(1469598103934665603ull, function), module);
  size_t it = 0;
  long k;
  while ((k = cpu_ix_next(p->ix_frames, h, &it)) >= 0)
    if (cpu_streq(p->frames[k].function, function) && cpu_streq(p->frames[k].module, module))
      return (uint32_t)k;
  if (p->nframes == p->cap_frames) {
    p->cap_frames = p->cap_frames ? p->cap_frames * 2 : 256;
    p->frames = ps_xrealloc(p->frames, p->cap_frames * sizeof *p->frames);
  }
  struct cpu_frame *f = &p->frames[p->nframes];
  f->function = ps_xstrdup(function ? function : "?");
  f->module = module ? ps_xstrdup(module) : NULL;
  f->file = file ? ps_xstrdup(file) : NULL;
  f->line = line;
  cpu_ix_put(p->ix_frames, h, (uint32_t)p->nframes);
  return (uint32_t)p->nframes++;
}

uint32_t cpu_profile_thread(struct cpu_profile *p, int pid, uint32_t tid, const char *name)
{
  for (size_t i = 0; i < p->nthreads; i++)
    if (p->threads[i].pid == pid && p->threads[i].tid == tid) {
      if (name && *name) {
        free(p->threads[i].name);
        p->threads[i].name = ps_xstrdup(name);
      }
      return (uint32_t)i;
    }
  if (p->nthreads == p->cap_threads) {
    p->cap_threads = p->cap_threads ? p->cap_threads * 2 : 16;
    p->threads = ps_xrealloc(p->threads, p->cap_threads * sizeof *p->threads);
  }
  struct cpu_pthread *t = &p->threads[p->nthreads];
  memset(t, 0, sizeof *t);
  t->pid = pid;
  t->tid = tid;
  t->name = ps_xstrdup(name ? name : "");
  return (uint32_t)p->nthreads++;
}

void cpu_profile_add(struct cpu_profile *p, uint32_t thread, const uint32_t *frames, uint32_t n,
                     uint64_t weight)
{
  uint64_t h = 1469598103934665603ull ^ thread;
  for (uint32_t i = 0; i < n; i++)
    h = (h ^ frames[i]) * 1099511628211ull;
  size_t it = 0;
  long k;
  while ((k = cpu_ix_next(p->ix_stacks, h, &it)) >= 0) {
    struct cpu_stack *s = &p->stacks[k];
    if (s->thread == thread && s->n == n && (!n || !memcmp(s->frames, frames, n * sizeof *frames))) {
      s->weight += weight;
      goto counted;
    }
  }
  if (p->nstacks == p->cap_stacks) {
    p->cap_stacks = p->cap_stacks ? p->cap_stacks * 2 : 256;
    p->stacks = ps_xrealloc(p->stacks, p->cap_stacks * sizeof *p->stacks);
  }
  struct cpu_stack *s = &p->stacks[p->nstacks];
  s->thread = thread;
  s->n = n;
  s->frames = ps_xmalloc((n ? n : 1) * sizeof *frames);
  if (n)
    memcpy(s->frames, frames, n * sizeof *frames);
  s->weight = weight;
  cpu_ix_put(p->ix_stacks, h, (uint32_t)p->nstacks++);
counted:
  p->threads[thread].samples += weight;
  p->samples += weight;
}

void cpu_profile_free(struct cpu_profile *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->nframes; i++) {
    free(p->frames[i].function);
    free(p->frames[i].module);
    free(p->frames[i].file);
  }
  for (size_t i = 0; i < p->nthreads; i++)
    free(p->threads[i].name);
  for (size_t i = 0; i < p->nstacks; i++)
    free(p->stacks[i].frames);
  free(p->frames);
  free(p->threads);
  free(p->stacks);
  cpu_ix_free(p->ix_frames);
  cpu_ix_free(p->ix_stacks);
  free(p->engine);
  free(p->engine_reason);
  free(p);
}

/* ---- loading one trace ------------------------------------------------------------------------- */
struct cpu_raw_stack { /* a stack record of the trace: ips innermost first */
  uint64_t id;
  uint32_t n;
  uint64_t *ips;
};

struct cpu_count { /* samples of one (tid, stack id) */
  uint32_t tid;
  uint64_t stack;
  uint64_t weight;
  uint64_t flags;
  uint64_t *inline_ips; /* for PS_SAMPLE_F_INLINE samples */
  uint32_t inline_n;
};

struct cpu_load {
  struct cpu_raw_stack *stacks;
  size_t nstacks, capstacks;
  struct cpu_ix *ix_stacks; /* stack id -> index */
  struct cpu_count *counts;
  size_t ncounts, capcounts;
  struct cpu_ix *ix_counts;
};

static void cpu_load_count(struct cpu_load *L, uint32_t tid, const struct ps_rec *r)
{
  int is_inline = (r->flags & PS_SAMPLE_F_INLINE) != 0;
  uint64_t h = ((uint64_t)tid * 0x9e3779b97f4a7c15ull) ^ (r->stack * 1099511628211ull);
  if (!is_inline) {
    size_t it = 0;
    long k;
    while ((k = cpu_ix_next(L->ix_counts, h, &it)) >= 0)
      if (L->counts[k].tid == tid && L->counts[k].stack == r->stack && !L->counts[k].inline_ips) {
        L->counts[k].weight++;
        L->counts[k].flags |= r->flags;
        return;
      }
  }
  if (L->ncounts == L->capcounts) {
    L->capcounts = L->capcounts ? L->capcounts * 2 : 256;
    L->counts = ps_xrealloc(L->counts, L->capcounts * sizeof *L->counts);
  }
  struct cpu_count *c = &L->counts[L->ncounts];
  memset(c, 0, sizeof *c);
  c->tid = tid;
  c->stack = r->stack;
  c->weight = 1;
  c->flags = r->flags;
  if (is_inline) {
    c->inline_n = r->nips;
    c->inline_ips = ps_xmalloc((r->nips ? r->nips : 1) * sizeof(uint64_t));
    if (r->nips)
      memcpy(c->inline_ips, r->ips, r->nips * sizeof(uint64_t));
  } else {
    cpu_ix_put(L->ix_counts, h, (uint32_t)L->ncounts);
  }
  L->ncounts++;
}

static void cpu_load_stack(struct cpu_load *L, const struct ps_rec *r)
{
  if (L->nstacks == L->capstacks) {
    L->capstacks = L->capstacks ? L->capstacks * 2 : 256;
    L->stacks = ps_xrealloc(L->stacks, L->capstacks * sizeof *L->stacks);
  }
  struct cpu_raw_stack *s = &L->stacks[L->nstacks];
  s->id = r->id;
  s->n = r->nips;
  s->ips = ps_xmalloc((r->nips ? r->nips : 1) * sizeof(uint64_t));
  if (r->nips)
    memcpy(s->ips, r->ips, r->nips * sizeof(uint64_t));
  cpu_ix_put(L->ix_stacks, r->id * 0x9e3779b97f4a7c15ull, (uint32_t)L->nstacks++);
}

static const struct cpu_raw_stack *cpu_load_find(const struct cpu_load *L, uint64_t id)
{
  size_t it = 0;
  long k;
  while ((k = cpu_ix_next(L->ix_stacks, id * 0x9e3779b97f4a7c15ull, &it)) >= 0)
    if (L->stacks[k].id == id)
      return &L->stacks[k];
  return NULL;
}

static void cpu_load_free(struct cpu_load *L)
{
  for (size_t i = 0; i < L->nstacks; i++)
    free(L->stacks[i].ips);
  for (size_t i = 0; i < L->ncounts; i++)
    free(L->counts[i].inline_ips);
  free(L->stacks);
  free(L->counts);
  cpu_ix_free(L->ix_stacks);
  cpu_ix_free(L->ix_counts);
}

static void cpu_engine_note(struct cpu_profile *p, const char *s, size_t n, int first)
{
  if (!first)
    return;
  const char *colon = memchr(s, ':', n);
  size_t en = colon ? (size_t)(colon - s) : n;
  free(p->engine);
  p->engine = ps_xmalloc(en + 1);
  memcpy(p->engine, s, en);
  p->engine[en] = 0;
  free(p->engine_reason);
  p->engine_reason = NULL;
  if (colon) {
    size_t rn = n - en - 1;
    p->engine_reason = ps_xmalloc(rn + 1);
    memcpy(p->engine_reason, colon + 1, rn);
    p->engine_reason[rn] = 0;
  }
}

/* Symbolizes ips (innermost first; ips[0] the pc) into frame ids root first. */
static uint32_t cpu_symbolize(struct cpu_profile *p, struct ps_sym *sym, const uint64_t *ips,
                              uint32_t n, uint32_t **buf, size_t *cap)
{
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    const struct ps_frame *fr;
    int nf = ps_sym_resolve(sym, ips[i], i > 0, &fr);
    for (int j = 0; j < nf; j++) {
      if (k + 1 > *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *buf = ps_xrealloc(*buf, *cap * sizeof **buf);
      }
      (*buf)[k++] = cpu_profile_frame(p, fr[j].function, fr[j].module, fr[j].file, fr[j].line);
    }
  }
  for (uint32_t i = 0; i < k / 2; i++) { /* innermost first -> root first */
    uint32_t t = (*buf)[i];
    (*buf)[i] = (*buf)[k - 1 - i];
    (*buf)[k - 1 - i] = t;
  }
  return k;
}

static int cpu_load_trace(struct cpu_profile *p, const char *path, int first)
{
  struct ps_trace *tr;
  int r = ps_trace_open(path, &tr);
  if (r < 0)
    return r;
  const struct ps_trace_header *hd = ps_trace_header(tr);
  if (hd->kind != PS_TRACE_CPU) {
    ps_error("'%s' is not a CPU sample trace (it is an allocation trace); pass cpu.<pid>.pst "
             "files to the CPU analysis", path);
    ps_trace_close(tr);
    return -EINVAL;
  }
  if (first) {
    p->frequency = (unsigned)hd->param;
    p->mode = (int)hd->mode;
  }
  int pid = (int)hd->pid;
  struct ps_sym *sym = ps_sym_new();
  struct cpu_load L = {0};
  L.ix_stacks = cpu_ix_new();
  L.ix_counts = cpu_ix_new();
  struct ps_chunk_view v;
  memset(&v, 0, sizeof v);
  struct ps_rec rec;
  int got_engine = 0;
  while ((r = ps_trace_next_chunk(tr, &v)) == 1) {
    while ((r = ps_chunk_next(tr, &v, &rec)) == 1) {
      switch (rec.type) {
      case PS_REC_MODULE: {
        char *mp = ps_xmalloc(rec.str_len + 1);
        memcpy(mp, rec.str, rec.str_len);
        mp[rec.str_len] = 0;
        ps_sym_add_module(sym, mp, rec.ptr, rec.size, rec.bytes, rec.bytes_len);
        free(mp);
        break;
      }
      case PS_REC_STACK:
        cpu_load_stack(&L, &rec);
        break;
      case PS_REC_SAMPLE:
        cpu_load_count(&L, rec.tid, &rec);
        break;
      case PS_REC_THREAD: {
        char name[80];
        size_t n = rec.str_len < sizeof name - 1 ? rec.str_len : sizeof name - 1;
        memcpy(name, rec.str, n);
        name[n] = 0;
        cpu_profile_thread(p, pid, (uint32_t)rec.id, name);
        break;
      }
      case PS_REC_LOST: {
        uint32_t t = cpu_profile_thread(p, pid, rec.tid, NULL);
        p->threads[t].lost += rec.size;
        p->lost += rec.size;
        break;
      }
      case PS_REC_NOTE:
        if (rec.id == PS_NOTE_ENGINE && !got_engine) {
          cpu_engine_note(p, rec.str, rec.str_len, first);
          got_engine = 1;
        } else if (rec.id == PS_NOTE_INFO && rec.str_len >= 9 && !memcmp(rec.str, "fallback:", 9)) {
          p->threads_fallback++;
        }
        break;
      default:
        break;
      }
    }
    if (r < 0)
      break;
  }
  ps_chunk_release(&v);
  if (ps_trace_truncated(tr))
    p->truncated = 1;
  if (r == 0) {
    uint32_t *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < L.ncounts; i++) {
      struct cpu_count *c = &L.counts[i];
      const uint64_t *ips = c->inline_ips;
      uint32_t n = c->inline_n;
      if (!ips) {
        const struct cpu_raw_stack *s = cpu_load_find(&L, c->stack);
        if (!s) { /* the defining chunk was lost (crash): count, do not invent frames */
          p->lost += c->weight;
          continue;
        }
        ips = s->ips;
        n = s->n;
      }
      uint32_t k = cpu_symbolize(p, sym, ips, n, &buf, &cap);
      uint32_t t = cpu_profile_thread(p, pid, c->tid, NULL);
      cpu_profile_add(p, t, buf, k, c->weight);
      if (c->flags & PS_SAMPLE_F_DEGRADED) {
        p->threads[t].degraded += c->weight;
        p->degraded += c->weight;
      }
    }
    free(buf);
    p->processes++;
  }
  cpu_load_free(&L);
  ps_sym_free(sym);
  ps_trace_close(tr);
  return r < 0 ? r : 0;
}

int cpu_profile_load(char *const *traces, size_t ntraces, struct cpu_profile **out)
{
  struct cpu_profile *p = cpu_profile_new();
  for (size_t i = 0; i < ntraces; i++) {
    int r = cpu_load_trace(p, traces[i], i == 0);
    if (r < 0) {
      cpu_profile_free(p);
      return r;
    }
  }
  *out = p;
  return 0;
}
