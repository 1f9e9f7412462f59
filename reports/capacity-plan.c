/* capacity-plan.c - from measured runs to a recommendation: USL fit per batch size, the
 * memory model, the choice under --memory-limit / --target-throughput, and the rule of thumb
 * of the monitoring guide (workers = min(75 % of cores, memory GiB / 2); batch by data volume).
 * No I/O: notes are sentences the report prints.
 */
#include "capacity-plan.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report-data.h"
#include "util.h"

static void note(struct capacity_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct capacity_plan *p, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  if (!s)
    return;
  p->notes = ps_xrealloc(p->notes, (p->nnotes + 1) * sizeof(*p->notes));
  p->notes[p->nnotes++] = s;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_of(double *v, size_t n)
{
  if (n == 0)
    return NAN;
  qsort(v, n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median of a field over the runs at (b, w); field 0 throughput, 1 peak RSS. */
static double measured(const struct capacity_point *pts, size_t count, double b, double w, int field)
{
  double v[count ? count : 1];
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    double x = field ? pts[i].peak_rss : pts[i].throughput;
    if (pts[i].batch == b && pts[i].workers == w && isfinite(x) && x > 0)
      v[n++] = x;
  }
  return median_of(v, n);
}

/* ---- memory model --------------------------------------------------------------------- */

static void mem_fit(const struct capacity_point *pts, size_t count, struct capacity_mem *m)
{
  memset(m, 0, sizeof(*m));
  int use[3] = {1, 1, 1}; /* a, c, b */
  for (int round = 0; round < 3; round++) {
    int k = 0, idx[3];
    for (int t = 0; t < 3; t++)
      if (use[t])
        idx[k++] = t;
    double ata[9] = {0}, atb[3] = {0};
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
      if (!(pts[i].peak_rss > 0))
        continue;
      double f[3] = {1, pts[i].workers, pts[i].batch * pts[i].workers};
      for (int r = 0; r < k; r++) {
        atb[r] += f[idx[r]] * pts[i].peak_rss;
        for (int c = 0; c < k; c++)
          ata[r * k + c] += f[idx[r]] * f[idx[c]];
      }
      n++;
    }
    m->npoints = n;
    if (n < (size_t)k + 1 || capacity_solve(ata, atb, k) != 0) {
      if (k > 1) { /* drop the per-worker term, then retry */
        use[use[1] ? 1 : 2] = 0;
        continue;
      }
      return;
    }
    int neg = 0;
    for (int r = 0; r < k; r++)
      if (atb[r] < 0 && idx[r] != 0)
        use[idx[r]] = 0, neg = 1;
    if (neg && round < 2)
      continue;
    double coef[3] = {0, 0, 0};
    for (int r = 0; r < k; r++)
      coef[idx[r]] = atb[r] < 0 && idx[r] != 0 ? 0 : atb[r];
    m->a = coef[0], m->c = coef[1], m->b = coef[2];
    m->ok = 1;
    double mean = 0, sst = 0, sse = 0;
    for (size_t i = 0; i < count; i++)
      if (pts[i].peak_rss > 0)
        mean += pts[i].peak_rss;
    mean /= n;
    for (size_t i = 0; i < count; i++) {
      if (!(pts[i].peak_rss > 0))
        continue;
      double r = pts[i].peak_rss - capacity_mem_predict(m, pts[i].batch, pts[i].workers);
      sse += r * r;
      sst += (pts[i].peak_rss - mean) * (pts[i].peak_rss - mean);
    }
    m->r2 = sst > 0 ? 1 - sse / sst : 1;
    return;
  }
}

double capacity_mem_predict(const struct capacity_mem *m, double b, double w)
{
  return m->ok ? m->a + m->c * w + m->b * b * w : NAN;
}

/* ---- prediction and choice ------------------------------------------------------------ */

static const struct capacity_usl *usl_for(const struct capacity_plan *p, double b)
{
  for (size_t i = 0; i < p->nbatch; i++)
    if (p->batches[i] == b)
      return &p->usl[i];
  return NULL;
}

double capacity_plan_predict(const struct capacity_plan *p, const struct capacity_point *pts,
                             size_t count, double b, double w, int *from_model)
{
  const struct capacity_usl *u = usl_for(p, b);
  if (from_model)
    *from_model = 0;
  if (u && u->ok && !u->poor) {
    if (from_model)
      *from_model = 1;
    return capacity_usl_eval(u, w);
  }
  return measured(pts, count, b, w, 0);
}

static double memory_at(const struct capacity_plan *p, const struct capacity_point *pts,
                        size_t count, double b, double w)
{
  double m = measured(pts, count, b, w, 1);
  return isfinite(m) ? m : capacity_mem_predict(&p->mem, b, w);
}

static void fill_choice(const struct capacity_plan *p, const struct capacity_point *pts,
                        size_t count, struct capacity_choice *c, double b, double w)
{
  c->batch = b, c->workers = w;
  c->throughput = capacity_plan_predict(p, pts, count, b, w, &c->from_model);
  c->memory = memory_at(p, pts, count, b, w);
  c->runtime = p->opts.dataset_size > 0 && c->throughput > 0 ? p->opts.dataset_size / c->throughput
                                                              : NAN;
  c->ok = isfinite(c->throughput);
}

/* Names the configuration with the fewest workers whose throughput is within 5% of the
 * recommendation's: on a noisy machine the two are often indistinguishable, and workers cost. */
static void note_cheaper(struct capacity_plan *p, const struct capacity_point *pts, size_t count,
                         double wlo)
{
  const struct capacity_choice *rec = &p->rec;
  struct capacity_choice cheap = {0};
  for (size_t i = 0; i < p->nbatch; i++) {
    for (double w = wlo; w < rec->workers - 1e-9; w += 1) {
      struct capacity_choice c = {0};
      fill_choice(p, pts, count, &c, p->batches[i], w);
      if (!c.ok || c.throughput < 0.95 * rec->throughput)
        continue;
      if (p->opts.memory_limit > 0 && isfinite(c.memory) && c.memory > p->opts.memory_limit)
        continue;
      if (!cheap.ok || c.workers < cheap.workers ||
          (c.workers == cheap.workers && c.throughput > cheap.throughput))
        cheap = c;
    }
  }
  if (cheap.ok)
    note(p, "Batch %.0f with %.0f worker%s comes within 5%% of it (%.0f%% of its throughput) "
            "with fewer workers: prefer it when workers cost or the difference is within the noise.",
         cheap.batch, cheap.workers, cheap.workers == 1 ? "" : "s",
         100.0 * cheap.throughput / rec->throughput);
}

/* The measured worker counts span [wlo, whi]; candidates are the integers inside it. */
static void choose(struct capacity_plan *p, const struct capacity_point *pts, size_t count,
                   double wlo, double whi)
{
  const struct capacity_opts *o = &p->opts;
  struct capacity_choice best = {0}, target = {0};
  size_t rejected_mem = 0;
  for (size_t i = 0; i < p->nbatch; i++) {
    for (double w = wlo; w <= whi + 1e-9; w += 1) {
      struct capacity_choice c = {0};
      fill_choice(p, pts, count, &c, p->batches[i], w);
      if (!c.ok)
        continue;
      if (o->memory_limit > 0 && isfinite(c.memory) && c.memory > o->memory_limit) {
        rejected_mem++;
        continue;
      }
      if (!best.ok || c.throughput > best.throughput)
        best = c;
      if (o->target_per_hour > 0 && c.throughput * 3600 >= o->target_per_hour &&
          (!target.ok || c.workers < target.workers ||
           (c.workers == target.workers && c.throughput > target.throughput)))
        target = c;
    }
  }
  if (rejected_mem)
    note(p, "%zu configurations were left out because their peak memory exceeds the %.0f MiB limit.",
         rejected_mem, o->memory_limit / 1048576.0);
  p->meets_target = 1;
  if (o->target_per_hour > 0) {
    if (target.ok) {
      p->rec = target;
    {
      char a[64];
      note(p, "The fewest workers that reach %s records/hour were chosen.",
           report_human(o->target_per_hour, a, sizeof(a)));
    }
    } else {
      p->rec = best;
      p->meets_target = 0;
      char a[64], b[64];
      if (best.ok)
        note(p, "No measured configuration reaches %s records/hour (the best gives %s); the "
                "fastest one is recommended.", report_human(o->target_per_hour, a, sizeof(a)),
             report_human(best.throughput * 3600, b, sizeof(b)));
    }
  } else {
    p->rec = best;
  }
  if (!p->rec.ok)
    note(p, "No configuration fits the limits: raise --memory-limit or measure smaller batches.");
  else
    note_cheaper(p, pts, count, wlo);
}

static void rule_of_thumb(struct capacity_plan *p, const struct capacity_point *pts, size_t count,
                          double wlo, double whi)
{
  const struct capacity_opts *o = &p->opts;
  double mem = o->memory_limit > 0 ? o->memory_limit : o->machine_memory;
  int cores = o->cores > 0 ? o->cores : 1;
  double w = floor(cores * 0.75);
  if (mem > 0) {
    double wm = floor(mem / (2.0 * 1073741824.0));
    w = wm < w ? wm : w;
  }
  if (w < 1)
    w = 1;
  double want = 1000;
  if (o->dataset_size > 0)
    want = o->dataset_size < 1000 ? o->dataset_size : (o->dataset_size < 10000 ? 1000 : 10000);
  /* Snap to the nearest measured batch size (in log space) and worker count. */
  double b = p->batches[0];
  for (size_t i = 1; i < p->nbatch; i++)
    if (fabs(log(p->batches[i] / want)) < fabs(log(b / want)))
      b = p->batches[i];
  const struct capacity_usl *u = usl_for(p, b);
  if (!(u && u->ok && !u->poor))
    w = w < wlo ? wlo : (w > whi ? whi : w);
  fill_choice(p, pts, count, &p->rot, b, w);
  if (!p->rot.ok) /* an unmeasured worker count without a model: take the nearest measured */
    fill_choice(p, pts, count, &p->rot, b, w < wlo ? wlo : whi);
  if (p->rot.ok && o->memory_limit > 0 && p->rot.memory > o->memory_limit)
    note(p, "The rule of thumb's pick needs about %.0f MiB, more than the %.0f MiB limit.",
         p->rot.memory / 1048576.0, o->memory_limit / 1048576.0);
}

/* The sentences about each batch size's fit: flat, poor, a peak beyond the measured workers,
 * and once per reason the batch sizes that have no fit. */
static void fit_notes(struct capacity_plan *p, double whi)
{
  for (size_t i = 0; i < p->nbatch; i++) {
    const struct capacity_usl *u = &p->usl[i];
    if (!u->ok)
      continue; /* said once for all batch sizes below */
    else if (u->flat)
      note(p, "Batch %g: throughput is flat across worker counts (within 10%%): more workers do "
              "not help this workload here%s.", p->batches[i],
           u->poor ? "; measured medians are used instead of the model" : "");
    else if (u->poor)
      note(p, "Batch %g: the scalability fit is poor (R² = %.2f over %zu points); measured "
              "medians are used instead of the model.", p->batches[i], u->r2, u->npoints);
    else if (isfinite(u->nstar) && u->nstar > whi * 1.05)
      note(p, "Batch %g: throughput still rises at %g workers (the model peaks at N* = %.1f, "
              "beyond what was measured); measure more workers before going further.",
           p->batches[i], whi, u->nstar);
  }
  for (size_t i = 0; i < p->nbatch; i++) {
    const char *why = p->usl[i].reason;
    int first = !p->usl[i].ok;
    for (size_t j = 0; j < i && first; j++)
      first = !(!p->usl[j].ok && p->usl[j].reason == why);
    if (!first)
      continue;
    char list[512] = "";
    size_t n = 0, len = 0;
    for (size_t j = i; j < p->nbatch; j++)
      if (!p->usl[j].ok && p->usl[j].reason == why && len < sizeof(list) - 32)
        len += snprintf(list + len, sizeof(list) - len, "%s%g", n++ ? ", " : "", p->batches[j]);
    note(p, "%s %s: %s.", n > 1 ? "Batch sizes" : "Batch", list, why);
  }
}

int capacity_plan_build(const struct capacity_point *pts, size_t count,
                        const struct capacity_opts *opts, struct capacity_plan *p)
{
  memset(p, 0, sizeof(*p));
  p->opts = *opts;
  double wlo = INFINITY, whi = -INFINITY;
  p->batches = ps_xcalloc(count ? count : 1, sizeof(double));
  for (size_t i = 0; i < count; i++) {
    if (!(pts[i].throughput > 0) || !(pts[i].workers > 0) || !(pts[i].batch > 0))
      continue;
    wlo = pts[i].workers < wlo ? pts[i].workers : wlo;
    whi = pts[i].workers > whi ? pts[i].workers : whi;
    int seen = 0;
    for (size_t j = 0; j < p->nbatch; j++)
      seen |= p->batches[j] == pts[i].batch;
    if (!seen)
      p->batches[p->nbatch++] = pts[i].batch;
  }
  if (p->nbatch == 0) {
    note(p, "No run reported a positive throughput, so there is nothing to plan from.");
    return -EINVAL;
  }
  qsort(p->batches, p->nbatch, sizeof(double), cmp_double);
  p->usl = ps_xcalloc(p->nbatch, sizeof(*p->usl));
  for (size_t i = 0; i < p->nbatch; i++) {
    double n[count], x[count];
    size_t m = 0;
    for (size_t j = 0; j < count; j++)
      if (pts[j].batch == p->batches[i])
        n[m] = pts[j].workers, x[m] = pts[j].throughput, m++;
    capacity_usl_fit(n, x, m, &p->usl[i]);
  }
  mem_fit(pts, count, &p->mem);
  if (!p->mem.ok)
    note(p, "Too few runs report peak memory to fit a memory model.");
  choose(p, pts, count, ceil(wlo), floor(whi));
  rule_of_thumb(p, pts, count, ceil(wlo), floor(whi));
  fit_notes(p, whi);
  return 0;
}

void capacity_plan_free(struct capacity_plan *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->nnotes; i++)
    free(p->notes[i]);
  free(p->notes);
  free(p->batches);
  free(p->usl);
  memset(p, 0, sizeof(*p));
}

/* ---- JSON ----------------------------------------------------------------------------- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *pair(const double v[2]) { return json_pack("[oo]", num(v[0]), num(v[1])); }

static json_t *choice_json(const struct capacity_choice *c)
{
  if (!c->ok)
    return json_null();
  return json_pack("{s:o,s:o,s:o,s:o,s:o,s:s}", "batch", num(c->batch), "workers",
                   num(c->workers), "throughput", num(c->throughput), "memory_bytes",
                   num(c->memory), "runtime_seconds", num(c->runtime), "source",
                   c->from_model ? "usl" : "measured");
}

json_t *capacity_plan_json(const struct capacity_plan *p)
{
  json_t *fits = json_array();
  for (size_t i = 0; i < p->nbatch; i++) {
    const struct capacity_usl *u = &p->usl[i];
    json_t *f = json_pack("{s:o,s:b,s:I,s:I}", "batch", num(p->batches[i]), "ok", u->ok,
                          "points", (json_int_t)u->npoints, "worker_counts",
                          (json_int_t)u->nlevels);
    if (u->ok) {
      json_object_set_new(f, "alpha", num(u->alpha));
      json_object_set_new(f, "beta", num(u->beta));
      json_object_set_new(f, "gamma", num(u->gamma));
      json_object_set_new(f, "alpha_ci95", pair(u->ci_alpha));
      json_object_set_new(f, "beta_ci95", pair(u->ci_beta));
      json_object_set_new(f, "gamma_ci95", pair(u->ci_gamma));
      json_object_set_new(f, "r2", num(u->r2));
      json_object_set_new(f, "poor", json_boolean(u->poor));
      json_object_set_new(f, "flat", json_boolean(u->flat));
      json_object_set_new(f, "peak_workers", num(u->nstar));
      json_object_set_new(f, "max_throughput", num(u->xmax));
    } else {
      json_object_set_new(f, "reason", json_string(u->reason));
    }
    json_array_append_new(fits, f);
  }
  json_t *mem = json_null();
  if (p->mem.ok)
    mem = json_pack("{s:s,s:o,s:o,s:o,s:o}", "model", "peak_rss = a + c*workers + b*batch*workers",
                    "a", num(p->mem.a), "c", num(p->mem.c), "b", num(p->mem.b), "r2",
                    num(p->mem.r2));
  json_t *notes = json_array();
  for (size_t i = 0; i < p->nnotes; i++)
    json_array_append_new(notes, json_string(p->notes[i]));
  return json_pack("{s:o,s:o,s:o,s:o,s:b,s:o}", "usl", fits, "memory_model", mem,
                   "recommendation", choice_json(&p->rec), "rule_of_thumb", choice_json(&p->rot),
                   "meets_target", p->meets_target, "notes", notes);
}
