/* report-tables.c - the analysis behind a report: capacity points from the runs, the plan,
 * the focus (profiled) cell, the findings, and the tables (cells, capacity, profile,
 * data quality, machine) that the HTML and markdown writers render the same way.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- tables and findings ------------------------------------------------------------- */

struct report_table *report_table_add(struct report *r, const char *id, const char *title,
                                      size_t ncol, const char *const *head)
{
  r->tables = ps_xrealloc(r->tables, (r->ntables + 1) * sizeof(*r->tables));
  struct report_table *t = &r->tables[r->ntables++];
  memset(t, 0, sizeof(*t));
  t->id = ps_xstrdup(id);
  t->title = ps_xstrdup(title);
  t->ncol = ncol;
  t->head = ps_xcalloc(ncol, sizeof(char *));
  for (size_t i = 0; i < ncol; i++)
    t->head[i] = ps_xstrdup(head[i]);
  return t;
}

void report_table_row(struct report_table *t, ...)
{
  t->cell = ps_xrealloc(t->cell, (t->nrow + 1) * t->ncol * sizeof(char *));
  va_list ap;
  va_start(ap, t);
  for (size_t i = 0; i < t->ncol; i++) {
    const char *s = va_arg(ap, const char *);
    t->cell[t->nrow * t->ncol + i] = ps_xstrdup(s ? s : "–");
  }
  va_end(ap);
  t->nrow++;
}

void report_finding(struct report *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  if (!s)
    return;
  r->findings = ps_xrealloc(r->findings, (r->nfindings + 1) * sizeof(char *));
  r->findings[r->nfindings++] = s;
}

/* Short-lived formatted strings for table cells: a ring of buffers. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
  static char ring[32][160];
  static unsigned next;
  char *b = ring[next++ % 32];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof(ring[0]), f, ap);
  va_end(ap);
  return b;
}

static const char *num(double v, const char *unit)
{
  char b[64];
  if (!isfinite(v))
    return "–";
  return fmt("%s%s", report_human(v, b, sizeof(b)), unit);
}

static const char *with_ci(double m, double lo, double hi, const char *unit)
{
  char a[64], b[64], c[64];
  if (!isfinite(m))
    return "–";
  if (!isfinite(lo) || !isfinite(hi))
    return fmt("%s%s", report_human(m, a, sizeof(a)), unit);
  return fmt("%s%s [%s, %s]", report_human(m, a, sizeof(a)), unit, report_human(lo, b, sizeof(b)),
             report_human(hi, c, sizeof(c)));
}

static const char *str(const json_t *v)
{
  if (json_is_string(v))
    return json_string_value(v);
  if (json_is_integer(v))
    return fmt("%lld", (long long)json_integer_value(v));
  if (json_is_real(v))
    return fmt("%g", json_real_value(v));
  if (json_is_boolean(v))
    return json_is_true(v) ? "yes" : "no";
  return NULL;
}

static const char *place(const json_t *o)
{
  const char *file = json_string_value(json_object_get(o, "file"));
  double line = report_num(json_object_get(o, "line"));
  if (!file)
    return json_string_value(json_object_get(o, "module"));
  return isfinite(line) ? fmt("%s:%.0f", file, line) : file;
}

/* ---- the plan ------------------------------------------------------------------------- */

static void build_points(struct report *r)
{
  const struct report_data *d = &r->d;
  size_t cap = 0;
  for (size_t i = 0; i < d->ncells; i++)
    cap += json_array_size(json_object_get(d->cells[i].obj, "runs"));
  r->pts = ps_xcalloc(cap + 1, sizeof(*r->pts));
  for (size_t i = 0; i < d->ncells; i++) {
    const struct report_cell *c = &d->cells[i];
    size_t nr = json_array_size(json_object_get(c->obj, "runs")), j;
    double thr[nr + 1], rss[nr + 1];
    size_t n = 0;
    json_t *run;
    /* Pair each run's throughput with its own peak RSS. */
    json_array_foreach(json_object_get(c->obj, "runs"), j, run) {
      if (json_is_true(json_object_get(run, "warmup")))
        continue;
      const char *st = json_string_value(json_object_get(run, "status"));
      if (st && strcmp(st, "ok"))
        continue;
      double wall = report_num(json_object_get(run, "wall"));
      double t = report_num(json_object_get(run, "throughput"));
      if (!isfinite(t) && d->thr_records)
        t = report_num(json_object_get(run, "records")) / wall;
      if (!d->thr_records)
        t = 1.0 / wall;
      thr[n] = t;
      rss[n] = report_num(json_object_get(run, "max_rss_kb")) * 1024;
      n++;
    }
    double b = d->x_numeric ? c->x : NAN, w = d->s_axis ? c->s : 1;
    for (size_t k = 0; k < n; k++)
      r->pts[r->npts++] = (struct capacity_point){b, w, thr[k], rss[k]};
  }
}

static void plan_findings(struct report *r)
{
  const struct capacity_plan *p = &r->plan;
  const struct report_data *d = &r->d;
  const char *unit = d->thr_records ? "records/s" : "runs/s";
  char a[64], b[64];
  if (p->rec.ok) {
    report_finding(r, "Recommended: %s %g with %s %g, about %s %s (%s records/hour)%s%s.",
                   d->x_axis, p->rec.batch, d->s_axis ? d->s_axis : "workers", p->rec.workers,
                   report_human(p->rec.throughput, a, sizeof(a)), unit,
                   report_human(p->rec.throughput * 3600, b, sizeof(b)),
                   p->rec.from_model ? " by the scalability model" : " as measured",
                   isfinite(p->rec.memory) ? fmt(", peak memory about %.0f MiB",
                                                 p->rec.memory / 1048576.0)
                                           : "");
    if (isfinite(p->rec.runtime))
      report_finding(r, "A dataset of %.0f records would take about %.1f s with it.",
                     r->opts.dataset_size, p->rec.runtime);
  }
  if (p->rot.ok && p->rec.ok && p->rot.batch == p->rec.batch && p->rot.workers == p->rec.workers) {
    report_finding(r, "The rule of thumb (75%% of cores, 2 GiB per worker; batch by data volume) "
                   "would pick the same configuration here.");
  } else if (p->rot.ok && p->rec.ok) {
    double diff = (p->rec.throughput / p->rot.throughput - 1) * 100;
    report_finding(r, "The rule of thumb (75%% of cores, 2 GiB per worker; batch by data volume) "
                   "would pick %s %g with workers %g: %s %s, so the plan is %+.0f%% %s.",
                   d->x_axis, p->rot.batch, p->rot.workers,
                   report_human(p->rot.throughput, a, sizeof(a)), unit, fabs(diff),
                   diff >= 0 ? "faster" : "slower");
  }
  for (size_t i = 0; i < p->nnotes; i++)
    report_finding(r, "%s", p->notes[i]);
}

/* ---- tables --------------------------------------------------------------------------- */

static void table_cells(struct report *r)
{
  const struct report_data *d = &r->d;
  const char *unit = d->thr_records ? " rec/s" : " runs/s";
  static const char *head[] = {"cell", "runs", "run time median [95% CI]", "CV",
                               "throughput median [95% CI]", "peak RSS", "avg RSS", "success",
                               "warnings"};
  struct report_table *t = report_table_add(r, "cells", "Per-cell statistics", 9, head);
  for (size_t i = 0; i < d->ncells; i++) {
    const struct report_cell *c = &d->cells[i];
    const json_t *w = json_object_get(json_object_get(c->obj, "stats"), "wall");
    char *warn = NULL;
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(c->obj, "warnings"), k, v) {
      char *prev = warn;
      warn = ps_xasprintf("%s%s%s", prev ? prev : "", prev ? "; " : "",
                          json_string_value(v) ? json_string_value(v) : "");
      free(prev);
    }
    double cv = report_num(json_object_get(w, "cv"));
    double n = report_num(json_object_get(w, "n"));
    report_table_row(t, c->id, isfinite(n) ? fmt("%.0f", n) : "–",
                     with_ci(c->wall.med, c->wall.lo, c->wall.hi, " s"),
                     isfinite(cv) ? fmt("%.1f%%", cv * 100) : "–",
                     with_ci(c->thr.med, c->thr.lo, c->thr.hi, unit),
                     num(c->rss_kb.med / 1024, " MiB"), num(c->avg_rss_kb.med / 1024, " MiB"),
                     isfinite(c->success_rate) ? fmt("%.0f%%", c->success_rate * 100) : "–",
                     warn ? warn : "");
    free(warn);
  }
}

static const char *ci2(const double v[2], double scale)
{
  char a[64], b[64];
  if (!isfinite(v[0]) || !isfinite(v[1]))
    return "";
  return fmt(" [%s, %s]", report_human(v[0] * scale, a, sizeof(a)),
             report_human(v[1] * scale, b, sizeof(b)));
}

static void table_capacity(struct report *r)
{
  const struct capacity_plan *p = &r->plan;
  const struct report_data *d = &r->d;
  char a[64];
  static const char *head[] = {"batch", "α (contention) [95% CI]", "β (coherency) [95% CI]",
                               "γ (1-worker throughput) [95% CI]", "R²", "peak workers N*",
                               "max throughput", "fit"};
  struct report_table *t = report_table_add(r, "usl", "Scalability fit (Universal Scalability Law)",
                                            8, head);
  t->note = ps_xstrdup("X(N) = γN / (1 + α(N−1) + βN(N−1)), fitted to every measured run by "
                       "bounded Levenberg–Marquardt; intervals from the Jacobian.");
  free(t->head[0]);
  t->head[0] = ps_xstrdup(d->x_axis);
  for (size_t i = 0; i < p->nbatch; i++) {
    const struct capacity_usl *u = &p->usl[i];
    if (!u->ok) {
      report_table_row(t, fmt("%g", p->batches[i]), NULL, NULL, NULL, NULL, NULL, NULL, u->reason);
      continue;
    }
    report_table_row(t, fmt("%g", p->batches[i]), fmt("%.4g%s", u->alpha, ci2(u->ci_alpha, 1)),
                     fmt("%.4g%s", u->beta, ci2(u->ci_beta, 1)),
                     fmt("%s%s", report_human(u->gamma, a, sizeof(a)), ci2(u->ci_gamma, 1)),
                     fmt("%.3f", u->r2), isfinite(u->nstar) ? fmt("%.1f", u->nstar) : "∞ (no peak)",
                     num(u->xmax, ""), u->poor ? "poor: measured medians used" : "good");
  }

  /* Efficiency per worker count. */
  double wmax = 0;
  for (size_t i = 0; i < r->npts; i++)
    wmax = r->pts[i].workers > wmax ? r->pts[i].workers : wmax;
  size_t nfit = 0;
  for (size_t i = 0; i < p->nbatch; i++)
    nfit += p->usl[i].ok;
  if (nfit && p->nbatch <= 12) {
    const char *h[13];
    h[0] = "workers";
    for (size_t i = 0; i < p->nbatch; i++)
      h[i + 1] = ps_xasprintf("%s %g", d->x_axis, p->batches[i]);
    struct report_table *e = report_table_add(r, "efficiency", "Efficiency per worker count (model)",
                                              p->nbatch + 1, h);
    for (size_t i = 0; i < p->nbatch; i++)
      free((char *)h[i + 1]);
    e->note = ps_xstrdup("efficiency = X(N) / (N·X(1)); rows beyond the measured worker counts are "
                         "extrapolations.");
    int top = (int)(wmax * 2 < 16 ? wmax * 2 : 16);
    for (int n = 1; n <= top; n++) {
      char *row[13] = {ps_xasprintf("%d%s", n, n > wmax ? " (extrapolated)" : "")};
      for (size_t i = 0; i < p->nbatch; i++) {
        char b[64];
        row[i + 1] = p->usl[i].ok
                         ? ps_xasprintf("%.0f%% (%s)", capacity_usl_efficiency(&p->usl[i], n) * 100,
                                        report_human(capacity_usl_eval(&p->usl[i], n), b, sizeof(b)))
                         : ps_xstrdup("–");
      }
      /* variadic row of a runtime width: add by hand */
      e->cell = ps_xrealloc(e->cell, (e->nrow + 1) * e->ncol * sizeof(char *));
      for (size_t k = 0; k < e->ncol; k++)
        e->cell[e->nrow * e->ncol + k] = row[k];
      e->nrow++;
    }
  }

  static const char *rh[] = {"", "batch", "workers", "throughput", "records/hour", "peak memory",
                             "run time for the dataset", "source"};
  struct report_table *rt = report_table_add(r, "plan", "Recommendation vs rule of thumb", 8, rh);
  free(rt->head[1]);
  rt->head[1] = ps_xstrdup(d->x_axis);
  if (d->s_axis) {
    free(rt->head[2]);
    rt->head[2] = ps_xstrdup(d->s_axis);
  }
  if (p->mem.ok)
    rt->note = ps_xasprintf("Memory model: peak RSS ≈ %.1f MiB + %.2f MiB × workers + %.3g bytes × "
                            "batch × workers (R² = %.2f, %zu runs).",
                            p->mem.a / 1048576.0, p->mem.c / 1048576.0, p->mem.b, p->mem.r2,
                            p->mem.npoints);
  const struct capacity_choice *ch[2] = {&p->rec, &p->rot};
  const char *names[2] = {"recommended", "rule of thumb"};
  for (int k = 0; k < 2; k++) {
    const struct capacity_choice *c = ch[k];
    if (!c->ok) {
      report_table_row(rt, names[k], NULL, NULL, NULL, NULL, NULL, NULL, "no choice");
      continue;
    }
    report_table_row(rt, names[k], fmt("%g", c->batch), fmt("%g", c->workers),
                     num(c->throughput, d->thr_records ? " rec/s" : " runs/s"),
                     num(c->throughput * 3600, ""), num(c->memory / 1048576.0, " MiB"),
                     isfinite(c->runtime) ? fmt("%.1f s", c->runtime) : "–",
                     c->from_model ? "USL model" : "measured");
  }
  if (p->rec.ok && p->rot.ok)
    report_table_row(rt, "difference", "", fmt("%+g", p->rec.workers - p->rot.workers),
                     fmt("%+.0f%%", (p->rec.throughput / p->rot.throughput - 1) * 100), "",
                     isfinite(p->rec.memory) && isfinite(p->rot.memory)
                         ? fmt("%+.0f MiB", (p->rec.memory - p->rot.memory) / 1048576.0)
                         : "–",
                     isfinite(p->rec.runtime) ? fmt("%+.1f s", p->rec.runtime - p->rot.runtime) : "–",
                     "");
}

static void table_profile(struct report *r)
{
  if (!r->focus)
    return;
  const json_t *prof = json_object_get(r->focus->obj, "profile");
  const json_t *cpu = json_object_get(prof, "cpu"), *alloc = json_object_get(prof, "alloc");
  size_t i;
  json_t *o;
  if (json_array_size(json_object_get(cpu, "top"))) {
    static const char *h[] = {"function", "module", "where", "self", "total"};
    struct report_table *t = report_table_add(r, "top-functions",
                                              "Top functions (CPU samples, profiled run)", 5, h);
    t->note = ps_xasprintf("%s: %s samples by %s.", r->focus->id,
                           str(json_object_get(cpu, "samples")) ?: "?",
                           str(json_object_get(cpu, "engine")) ?: "?");
    json_array_foreach(json_object_get(cpu, "top"), i, o) {
      if (i >= 20)
        break;
      report_table_row(t, str(json_object_get(o, "function")), str(json_object_get(o, "module")),
                       place(o), fmt("%.1f%%", report_num(json_object_get(o, "self_share")) * 100),
                       fmt("%.1f%%", report_num(json_object_get(o, "total_share")) * 100));
    }
  }
  if (json_array_size(json_object_get(alloc, "top_sites"))) {
    static const char *h[] = {"function", "where", "calls", "bytes", "peak", "leaked"};
    struct report_table *t = report_table_add(r, "top-allocations",
                                              "Top allocation sites (profiled run)", 6, h);
    t->note = ps_xasprintf("%s: peak heap %s bytes, %s allocation calls (%s mode).", r->focus->id,
                           num(report_num(json_object_get(alloc, "peak_heap")), ""),
                           num(report_num(json_object_get(json_object_get(alloc, "calls"), "total")), ""),
                           str(json_object_get(alloc, "mode")) ?: "?");
    json_array_foreach(json_object_get(alloc, "top_sites"), i, o) {
      if (i >= 20)
        break;
      report_table_row(t, str(json_object_get(o, "function")), place(o),
                       num(report_num(json_object_get(o, "calls")), ""),
                       num(report_num(json_object_get(o, "bytes")), ""),
                       num(report_num(json_object_get(o, "peak")), ""),
                       num(report_num(json_object_get(o, "leaked_bytes")), ""));
    }
  }
  if (alloc) {
    static const char *h[] = {"function", "where", "blocks", "bytes"};
    struct report_table *t = report_table_add(r, "leaks", "Leaks (still allocated at exit)", 4, h);
    const json_t *lk = json_object_get(alloc, "leaks");
    t->note = ps_xasprintf("%s leaked blocks, %s bytes in total.",
                           num(report_num(json_object_get(lk, "blocks")), ""),
                           num(report_num(json_object_get(lk, "bytes")), ""));
    json_array_foreach(json_object_get(alloc, "leak_sites"), i, o) {
      if (i >= 20)
        break;
      report_table_row(t, str(json_object_get(o, "function")), place(o),
                       num(report_num(json_object_get(o, "blocks")), ""),
                       num(report_num(json_object_get(o, "bytes")), ""));
    }
  }
}

static void table_quality(struct report *r)
{
  const struct report_data *d = &r->d;
  const char *cats[16];
  size_t nc = 0;
  for (size_t i = 0; i < d->ncells; i++) {
    size_t j, k;
    json_t *run, *st;
    json_array_foreach(json_object_get(d->cells[i].obj, "runs"), j, run)
      json_array_foreach(json_object_get(run, "stages"), k, st) {
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(st, "errors"), key, v) {
          int seen = 0;
          for (size_t q = 0; q < nc; q++)
            seen |= !strcmp(cats[q], key);
          if (!seen && nc < 12)
            cats[nc++] = key;
        }
      }
  }
  const char *h[16] = {"cell", "failed runs"};
  for (size_t q = 0; q < nc; q++)
    h[q + 2] = cats[q];
  struct report_table *t = report_table_add(r, "quality", "Data quality (stage-metric errors, "
                                            "summed over the measured runs)", nc + 2, h);
  if (!nc)
    t->note = ps_xstrdup("The workload reported no error counts in its stage metrics.");
  for (size_t i = 0; i < d->ncells; i++) {
    long long sum[16] = {0}, failed = 0;
    size_t j, k;
    json_t *run, *st;
    json_array_foreach(json_object_get(d->cells[i].obj, "runs"), j, run) {
      if (json_is_true(json_object_get(run, "warmup")))
        continue;
      const char *s = json_string_value(json_object_get(run, "status"));
      failed += s && strcmp(s, "ok");
      json_array_foreach(json_object_get(run, "stages"), k, st)
        for (size_t q = 0; q < nc; q++) {
          double v = report_num(json_object_get(json_object_get(st, "errors"), cats[q]));
          sum[q] += isfinite(v) ? (long long)v : 0;
        }
    }
    char *row[18] = {ps_xstrdup(d->cells[i].id ? d->cells[i].id : "?"),
                     ps_xasprintf("%lld", failed)};
    for (size_t q = 0; q < nc; q++)
      row[q + 2] = ps_xasprintf("%lld", sum[q]);
    t->cell = ps_xrealloc(t->cell, (t->nrow + 1) * t->ncol * sizeof(char *));
    for (size_t q = 0; q < t->ncol; q++)
      t->cell[t->nrow * t->ncol + q] = row[q];
    t->nrow++;
  }
}

static void table_machine(struct report *r)
{
  static const char *h[] = {"property", "value"};
  struct report_table *t = report_table_add(r, "machine", "Machine and run metadata", 2, h);
  const char *key;
  json_t *v;
  json_object_foreach(json_object_get(r->d.root, "machine"), key, v) {
    if (json_is_array(v)) {
      char *s = json_dumps(v, JSON_COMPACT);
      report_table_row(t, key, s);
      free(s);
    } else {
      report_table_row(t, key, str(v));
    }
  }
  const json_t *root = r->d.root;
  report_table_row(t, "perfsweep", str(json_object_get(root, "perfsweep_version")));
  report_table_row(t, "created", str(json_object_get(root, "created")));
  char *argv = json_dumps(json_object_get(root, "argv"), JSON_COMPACT | JSON_ENCODE_ANY);
  report_table_row(t, "command", argv);
  free(argv);
  char *wl = json_dumps(json_object_get(json_object_get(root, "workload"), "argv"),
                        JSON_COMPACT | JSON_ENCODE_ANY);
  report_table_row(t, "workload", wl);
  free(wl);
  if (r->d.fixed)
    report_table_row(t, "axes held fixed", r->d.fixed);
}

void report_analyse(struct report *r)
{
  struct report_data *d = &r->d;
  build_points(r);
  const json_t *m = json_object_get(d->root, "machine");
  struct capacity_opts o = {
      .memory_limit = r->opts.memory_limit, .target_per_hour = r->opts.target_per_hour,
      .dataset_size = r->opts.dataset_size,
      .cores = isfinite(report_num(json_object_get(m, "cores")))
                   ? (int)report_num(json_object_get(m, "cores")) : 0,
      .machine_memory = isfinite(report_num(json_object_get(m, "memory_bytes")))
                            ? report_num(json_object_get(m, "memory_bytes")) : 0};
  if (!d->x_numeric) {
    report_finding(r, "The %s axis is not numeric, so no capacity plan is made; the charts and "
                   "tables show the measurements.", d->x_axis);
  } else if (d->s_axis && !d->s_numeric) {
    report_finding(r, "The %s axis is not numeric, so no scalability fit is made; choose the worker "
                   "axis with --series.", d->s_axis);
  } else {
    r->have_plan = capacity_plan_build(r->pts, r->npts, &o, &r->plan) == 0;
    if (!r->have_plan)
      report_finding(r, "No run finished with a positive throughput: there is nothing to plan "
                     "from; see the per-cell table for the failures.");
    else
      plan_findings(r);
  }
  if (d->fixed)
    report_finding(r, "Other axes were held at their first value (%s).", d->fixed);

  /* Focus: the recommended cell when it was profiled, else the first profiled cell. */
  for (size_t i = 0; i < d->ncells; i++) {
    const struct report_cell *c = &d->cells[i];
    if (!json_object_get(c->obj, "profile"))
      continue;
    if (!r->focus)
      r->focus = c;
    if (r->have_plan && r->plan.rec.ok && c->x == r->plan.rec.batch &&
        (d->s_axis ? c->s : 1) == r->plan.rec.workers)
      r->focus = c;
  }
  if (!r->focus)
    report_finding(r, "No cell carries a profile, so the profile sections are empty "
                   "(run the sweep with --profile cpu,alloc).");

  table_cells(r);
  if (r->have_plan)
    table_capacity(r);
  table_profile(r);
  table_quality(r);
  table_machine(r);
}

void report_free(struct report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->ntables; i++) {
    struct report_table *t = &r->tables[i];
    for (size_t k = 0; k < t->ncol; k++)
      free(t->head[k]);
    for (size_t k = 0; k < t->ncol * t->nrow; k++)
      free(t->cell[k]);
    free(t->head);
    free(t->cell);
    free(t->id);
    free(t->title);
    free(t->note);
  }
  free(r->tables);
  for (size_t i = 0; i < r->nfindings; i++)
    free(r->findings[i]);
  free(r->findings);
  free(r->pts);
  capacity_plan_free(&r->plan);
  report_data_free(&r->d);
  memset(r, 0, sizeof(*r));
}
