/* cpu-analysis.c - the CPU analysis: turns cpu.<pid>.pst traces into the "profile.cpu" summary
 * (docs/results-schema.md, docs/cpu-profiler.md): engine, counts, per-thread breakdown, per-function
 * self and inclusive shares, a call tree, and writes the exports (folded, flame graph, speedscope,
 * pprof) into the output folder. cpu_print_summary renders it like `perf report` / `pprof -top`.
 */
#include "cpu-analysis.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-diff.h"
#include "cpu-profile.h"
#include "export-formats.h"
#include "flamegraph.h"
#include "probe-env.h"
#include "util.h"

#define CPU_TREE_MIN_SHARE 0.01
#define CPU_TREE_MAX_DEPTH 24

/* ---- per-function self / total --------------------------------------------------------------- */
struct cpu_fstat {
  uint32_t frame;
  uint64_t self, total;
};

static int cpu_fstat_cmp(const void *a, const void *b)
{
  const struct cpu_fstat *x = a, *y = b;
  if (x->self != y->self)
    return x->self < y->self ? 1 : -1;
  if (x->total != y->total)
    return x->total < y->total ? 1 : -1;
  return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static struct cpu_fstat *cpu_function_stats(const struct cpu_profile *p)
{
  struct cpu_fstat *st = ps_xcalloc(p->nframes ? p->nframes : 1, sizeof *st);
  uint64_t *mark = ps_xcalloc(p->nframes ? p->nframes : 1, sizeof *mark);
  for (size_t i = 0; i < p->nframes; i++)
    st[i].frame = (uint32_t)i;
  for (size_t i = 0; i < p->nstacks; i++) {
    const struct cpu_stack *s = &p->stacks[i];
    if (!s->n)
      continue;
    st[s->frames[s->n - 1]].self += s->weight;
    for (uint32_t k = 0; k < s->n; k++) { /* recursion counts once per stack */
      uint32_t f = s->frames[k];
      if (mark[f] != i + 1) {
        mark[f] = i + 1;
        st[f].total += s->weight;
      }
    }
  }
  free(mark);
  qsort(st, p->nframes, sizeof *st, cpu_fstat_cmp);
  return st;
}

/* ---- call tree ------------------------------------------------------------------------------ */
struct cpu_tnode {
  uint32_t frame;
  uint64_t total, self;
  struct cpu_tnode *kids;
  size_t nkids, cap;
};

static struct cpu_tnode *cpu_tchild(struct cpu_tnode *n, uint32_t frame)
{
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i].frame == frame)
      return &n->kids[i];
  if (n->nkids == n->cap) {
    n->cap = n->cap ? n->cap * 2 : 4;
    n->kids = ps_xrealloc(n->kids, n->cap * sizeof *n->kids);
  }
  struct cpu_tnode *k = &n->kids[n->nkids++];
  memset(k, 0, sizeof *k);
  k->frame = frame;
  return k;
}

static void cpu_tfree(struct cpu_tnode *n)
{
  for (size_t i = 0; i < n->nkids; i++)
    cpu_tfree(&n->kids[i]);
  free(n->kids);
}

static int cpu_tnode_cmp(const void *a, const void *b)
{
  const struct cpu_tnode *x = a, *y = b;
  return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static json_t *cpu_tjson(const struct cpu_profile *p, struct cpu_tnode *n, int depth)
{
  json_t *kids = json_array();
  if (n->nkids > 1)
    qsort(n->kids, n->nkids, sizeof *n->kids, cpu_tnode_cmp);
  for (size_t i = 0; i < n->nkids; i++) {
    struct cpu_tnode *k = &n->kids[i];
    double share = p->samples ? (double)k->total / (double)p->samples : 0;
    if (share < CPU_TREE_MIN_SHARE || depth >= CPU_TREE_MAX_DEPTH)
      continue;
    json_t *o = json_object();
    json_object_set_new(o, "function", json_string(p->frames[k->frame].function));
    json_object_set_new(o, "total", json_integer((json_int_t)k->total));
    json_object_set_new(o, "self", json_integer((json_int_t)k->self));
    json_object_set_new(o, "total_share", json_real(share));
    json_t *sub = cpu_tjson(p, k, depth + 1);
    if (json_array_size(sub))
      json_object_set_new(o, "children", sub);
    else
      json_decref(sub);
    json_array_append_new(kids, o);
  }
  return kids;
}

static json_t *cpu_call_tree(const struct cpu_profile *p)
{
  struct cpu_tnode root = {0};
  for (size_t i = 0; i < p->nstacks; i++) {
    const struct cpu_stack *s = &p->stacks[i];
    struct cpu_tnode *n = &root;
    for (uint32_t k = 0; k < s->n && k < CPU_TREE_MAX_DEPTH + 1; k++) {
      n = cpu_tchild(n, s->frames[k]);
      n->total += s->weight;
    }
    if (s->n && s->n <= CPU_TREE_MAX_DEPTH + 1)
      n->self += s->weight;
  }
  json_t *j = cpu_tjson(p, &root, 0);
  cpu_tfree(&root);
  return j;
}

/* ---- summary ------------------------------------------------------------------------------- */
static int cpu_thread_cmp(const void *a, const void *b)
{
  const struct cpu_pthread *x = a, *y = b;
  if (x->samples != y->samples)
    return x->samples < y->samples ? 1 : -1;
  return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static json_t *cpu_summary(const struct cpu_profile *p, size_t top_n)
{
  json_t *o = json_object();
  double total = (double)(p->samples ? p->samples : 1);
  json_object_set_new(o, "engine", json_string(p->engine));
  const char *ev = p->mode == PS_CPU_TASK_CLOCK ? "task-clock"
                   : p->mode == PS_CPU_WALL     ? "wall"
                                                : "cpu-clock";
  json_object_set_new(o, "event", json_string(ev));
  json_object_set_new(o, "engine_reason",
                      p->engine_reason ? json_string(p->engine_reason) : json_null());
  json_object_set_new(o, "frequency", json_integer(p->frequency));
  json_object_set_new(o, "samples", json_integer((json_int_t)p->samples));
  json_object_set_new(o, "lost", json_integer((json_int_t)p->lost));
  json_object_set_new(o, "degraded", json_integer((json_int_t)p->degraded));
  json_object_set_new(o, "processes", json_integer((json_int_t)p->processes));
  json_object_set_new(o, "truncated", json_boolean(p->truncated));
  json_object_set_new(o, "threads_fallback", json_integer((json_int_t)p->threads_fallback));
  struct cpu_pthread *ths = ps_xcalloc(p->nthreads ? p->nthreads : 1, sizeof *ths);
  if (p->nthreads) {
    memcpy(ths, p->threads, p->nthreads * sizeof *ths);
    qsort(ths, p->nthreads, sizeof *ths, cpu_thread_cmp);
  }
  json_t *threads = json_array();
  for (size_t i = 0; i < p->nthreads; i++) {
    json_t *t = json_object();
    json_object_set_new(t, "pid", json_integer(ths[i].pid));
    json_object_set_new(t, "tid", json_integer(ths[i].tid));
    json_object_set_new(t, "name", json_string(ths[i].name));
    json_object_set_new(t, "samples", json_integer((json_int_t)ths[i].samples));
    json_object_set_new(t, "share", json_real((double)ths[i].samples / total));
    json_object_set_new(t, "lost", json_integer((json_int_t)ths[i].lost));
    json_array_append_new(threads, t);
  }
  free(ths);
  json_object_set_new(o, "threads", threads);
  struct cpu_fstat *st = cpu_function_stats(p);
  json_t *top = json_array();
  for (size_t i = 0; i < p->nframes && i < top_n; i++) {
    const struct cpu_frame *f = &p->frames[st[i].frame];
    if (!st[i].self && !st[i].total)
      break;
    json_t *t = json_object();
    json_object_set_new(t, "function", json_string(f->function));
    json_object_set_new(t, "module", f->module ? json_string(f->module) : json_null());
    json_object_set_new(t, "file", f->file ? json_string(f->file) : json_null());
    json_object_set_new(t, "line", f->line > 0 ? json_integer(f->line) : json_null());
    json_object_set_new(t, "self", json_integer((json_int_t)st[i].self));
    json_object_set_new(t, "total", json_integer((json_int_t)st[i].total));
    json_object_set_new(t, "self_share", json_real((double)st[i].self / total));
    json_object_set_new(t, "total_share", json_real((double)st[i].total / total));
    json_array_append_new(top, t);
  }
  json_object_set_new(o, "top", top);
  /* every function's inclusive share, for tests and compare (functions above 0.1%) */
  json_t *funcs = json_object();
  for (size_t i = 0; i < p->nframes; i++) {
    if ((double)st[i].total / total < 0.001)
      continue;
    const char *name = p->frames[st[i].frame].function;
    if (json_object_get(funcs, name))
      continue;
    json_t *t = json_object();
    json_object_set_new(t, "self_share", json_real((double)st[i].self / total));
    json_object_set_new(t, "total_share", json_real((double)st[i].total / total));
    json_object_set_new(funcs, name, t);
  }
  json_object_set_new(o, "functions", funcs);
  free(st);
  json_object_set_new(o, "call_tree", cpu_call_tree(p));
  return o;
}

static int cpu_exports(const struct cpu_profile *p, const struct cpu_analysis_opts *opts,
                       json_t *summary)
{
  const char *d = opts->out_dir;
  int r = ps_mkdir_p(d, 0755);
  if (r < 0) {
    ps_error("cannot create the output folder '%s': %s", d, strerror(-r));
    return r;
  }
  char *folded = ps_xasprintf("%s/cpu.folded", d), *svg = ps_xasprintf("%s/cpu.svg", d);
  char *ss = ps_xasprintf("%s/cpu.speedscope.json", d), *pp = ps_xasprintf("%s/cpu.pb.gz", d);
  json_t *files = json_object();
  r = export_folded_write(p, folded);
  if (!r) {
    json_object_set_new(files, "folded", json_string("cpu.folded"));
    char *title = ps_xasprintf("CPU flame graph (%s, %llu samples)",
                               json_string_value(json_object_get(summary, "event")),
                               (unsigned long long)p->samples);
    struct flame_opts fo = {.title = title, .unit = "samples", .width = 1200};
    r = flamegraph_write_svg(folded, svg, &fo);
    free(title);
    if (!r)
      json_object_set_new(files, "flamegraph", json_string("cpu.svg"));
    if (!r && opts->diff_base) {
      char *base = cpu_diff_base_folded(opts->diff_base, d, &r);
      if (base) {
        char *dsvg = ps_xasprintf("%s/cpu-diff.svg", d);
        struct flame_opts dfo = {.title = "CPU differential flame graph (red grew, blue shrank)",
                                 .unit = "samples", .width = 1200};
        r = flamegraph_write_diff_svg(base, folded, dsvg, &dfo);
        if (!r)
          json_object_set_new(files, "flamegraph_diff", json_string("cpu-diff.svg"));
        json_t *diff = r ? NULL : cpu_diff_functions(p, base, opts->top_n ? opts->top_n : 20);
        if (diff) {
          json_object_set_new(summary, "diff", diff);
          json_object_set_new(summary, "diff_base", json_string(opts->diff_base));
        }
        free(dsvg);
        free(base);
      }
    }
  }
  if (!r && !(r = export_speedscope_write(p, ss, "perfsweep CPU profile")))
    json_object_set_new(files, "speedscope", json_string("cpu.speedscope.json"));
  if (!r && !(r = export_pprof_write(p, pp)))
    json_object_set_new(files, "pprof", json_string("cpu.pb.gz"));
  json_object_set_new(summary, "files", files);
  free(folded);
  free(svg);
  free(ss);
  free(pp);
  return r;
}

int cpu_analyze(char *const *traces, size_t ntraces, const struct cpu_analysis_opts *opts,
                json_t **summary)
{
  struct cpu_analysis_opts dflt = {0};
  if (!opts)
    opts = &dflt;
  if (ntraces == 0) {
    ps_error("no CPU trace to analyse: the target wrote no cpu.<pid>.pst (was it dynamically "
             "linked, and PERFSWEEP_CPU set?)");
    return -ENOENT;
  }
  struct cpu_profile *p;
  int r = cpu_profile_load(traces, ntraces, &p);
  if (r < 0)
    return r;
  json_t *s = cpu_summary(p, opts->top_n ? opts->top_n : 20);
  if (opts->out_dir && (r = cpu_exports(p, opts, s)) < 0) {
    json_decref(s);
    cpu_profile_free(p);
    return r;
  }
  cpu_profile_free(p);
  *summary = s;
  return 0;
}

/* ---- human summary -------------------------------------------------------------------------- */
static void cpu_print_tree(FILE *out, const json_t *kids, int depth, int max_depth)
{
  size_t i;
  const json_t *k;
  json_array_foreach(kids, i, k)
  {
    fprintf(out, "  %6.2f%%  %*s%s\n",
            100 * json_real_value(json_object_get(k, "total_share")), depth * 2, "",
            json_string_value(json_object_get(k, "function")));
    const json_t *c = json_object_get(k, "children");
    if (c && depth + 1 < max_depth)
      cpu_print_tree(out, c, depth + 1, max_depth);
  }
}

void cpu_print_summary(FILE *out, const json_t *summary)
{
  if (!summary)
    return;
  const char *reason = json_string_value(json_object_get(summary, "engine_reason"));
  fprintf(out, "CPU profile: %lld samples (%s, %lld Hz, engine %s%s%s), %lld lost, %lld degraded\n",
          (long long)json_integer_value(json_object_get(summary, "samples")),
          json_string_value(json_object_get(summary, "event")),
          (long long)json_integer_value(json_object_get(summary, "frequency")),
          json_string_value(json_object_get(summary, "engine")), reason ? ": " : "",
          reason ? reason : "", (long long)json_integer_value(json_object_get(summary, "lost")),
          (long long)json_integer_value(json_object_get(summary, "degraded")));
  fprintf(out, "\n  %8s %7s %8s %7s  %s\n", "self", "self%", "total", "total%", "function");
  size_t i;
  const json_t *t;
  json_array_foreach(json_object_get(summary, "top"), i, t)
  {
    const char *mod = json_string_value(json_object_get(t, "module"));
    const char *file = json_string_value(json_object_get(t, "file"));
    fprintf(out, "  %8lld %6.2f%% %8lld %6.2f%%  %s", (long long)json_integer_value(json_object_get(t, "self")),
            100 * json_real_value(json_object_get(t, "self_share")),
            (long long)json_integer_value(json_object_get(t, "total")),
            100 * json_real_value(json_object_get(t, "total_share")),
            json_string_value(json_object_get(t, "function")));
    if (file)
      fprintf(out, "  %s:%lld", file, (long long)json_integer_value(json_object_get(t, "line")));
    else if (mod)
      fprintf(out, "  [%s]", mod);
    fputc('\n', out);
  }
  const json_t *threads = json_object_get(summary, "threads");
  if (json_array_size(threads) > 0) {
    fprintf(out, "\n  %8s %7s %7s %8s  %s\n", "samples", "share", "pid", "tid", "thread");
    json_array_foreach(threads, i, t)
    {
      if (i >= 32) {
        fprintf(out, "  ... %zu more threads (see --json)\n", json_array_size(threads) - i);
        break;
      }
      fprintf(out, "  %8lld %6.2f%% %7lld %8lld  %s\n",
              (long long)json_integer_value(json_object_get(t, "samples")),
              100 * json_real_value(json_object_get(t, "share")),
              (long long)json_integer_value(json_object_get(t, "pid")),
              (long long)json_integer_value(json_object_get(t, "tid")),
              json_string_value(json_object_get(t, "name")));
    }
  }
  const json_t *tree = json_object_get(summary, "call_tree");
  if (json_array_size(tree) > 0) {
    fprintf(out, "\n  call tree (inclusive share, >= 1%%):\n");
    cpu_print_tree(out, tree, 0, 8);
  }
  const json_t *diff = json_object_get(summary, "diff");
  if (json_array_size(diff) > 0) {
    fprintf(out, "\n  against %s (self share, points):\n", json_string_value(json_object_get(summary, "diff_base")));
    json_array_foreach(diff, i, t)
    {
      if (fabs(json_real_value(json_object_get(t, "self_delta"))) < 0.001)
        continue;
      fprintf(out, "  %+7.2f  %6.2f%% -> %6.2f%%  %s\n",
              100 * json_real_value(json_object_get(t, "self_delta")),
              100 * json_real_value(json_object_get(t, "base_self_share")),
              100 * json_real_value(json_object_get(t, "self_share")),
              json_string_value(json_object_get(t, "function")));
    }
  }
  const json_t *files = json_object_get(summary, "files");
  if (files && json_object_size(files)) {
    const char *k;
    const json_t *v;
    fprintf(out, "\n  files:");
    json_object_foreach((json_t *)files, k, v) fprintf(out, " %s", json_string_value(v));
    fputc('\n', out);
  }
}
