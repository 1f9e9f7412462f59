/* compare.c - the comparison engine: loads two results files, matches cells by parameters,
 * decides each metric (bootstrap CI of the relative change of medians, Mann-Whitney U, noise
 * threshold, absolute floor, exact comparison for deterministic counts) and summarises verdicts.
 * Never prints: errors come back as sentences for the CLI.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "flamegraph.h"
#include "results.h"
#include "stats.h"
#include "util.h"

#define COMPARE_TOP 5

const char *compare_verdict_name(enum compare_verdict v)
{
  static const char *names[] = {"unchanged", "inconclusive", "improved", "regressed"};
  return (unsigned)v < PS_ARRAY_SIZE(names) ? names[v] : "?";
}

void compare_opts_init(struct compare_opts *o)
{
  *o = (struct compare_opts){.alpha = 0.05, .threshold = 0.05, .seed = 42, .resamples = 2000};
}

static double compare_setting(const struct compare_setting *s, size_t n, const char *metric,
                              double dflt)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s[i].metric, metric))
      return s[i].value;
  return dflt;
}

/* ---- the relative change of medians, bootstrapped by stats.h ---- */

static double compare_rel_change(const double *x, size_t nx, const double *y, size_t ny, void *ctx)
{
  (void)ctx;
  double mx = ps_stats_median(x, nx), my = ps_stats_median(y, ny);
  return mx != 0 ? (my - mx) / fabs(mx) : NAN;
}

static void compare_bootstrap(const double *b, size_t nb, const double *a, size_t na,
                              const struct compare_opts *o, double *lo, double *hi)
{
  if (ps_stats_bootstrap2(b, nb, a, na, compare_rel_change, NULL,
                          o->resamples > 0 ? (size_t)o->resamples : 0, 0.95, o->seed, lo, hi))
    *lo = *hi = NAN;
}

/* ---- one metric ---- */

static double compare_pct(double x) { return 100.0 * x; }

static void compare_decide_exact(struct compare_metric *m, const struct compare_opts *o)
{
  (void)o;
  double diff = m->new_median - m->base_median;
  int worse = m->higher_is_better ? diff < 0 : diff > 0;
  int beyond = fabs(diff) > m->floor && diff != 0 &&
               (isnan(m->change) || fabs(m->change) > m->threshold);
  if (!beyond) {
    m->verdict = CMP_UNCHANGED;
    m->reason = ps_xstrdup(diff == 0 ? "deterministic count, compared exactly: equal"
                                     : "deterministic count, compared exactly: within the "
                                       "threshold and floor");
    return;
  }
  m->verdict = worse ? CMP_REGRESSED : CMP_IMPROVED;
  m->reason = ps_xasprintf("deterministic count, compared exactly: %.15g -> %.15g", m->base_median,
                           m->new_median);
}

static void compare_decide_p(struct compare_metric *m, const struct compare_opts *o);

static void compare_decide_tested(struct compare_metric *m, const double *b, size_t nb,
                                  const double *a, size_t na, const struct compare_opts *o)
{
  if (nb < 2 || na < 2) {
    m->verdict = CMP_INCONCLUSIVE;
    m->reason = ps_xasprintf("inconclusive: %zu and %zu runs are too few to test; use --runs >= 5",
                             nb, na);
    return;
  }
  double minp = mw_min_p(nb, na);
  compare_bootstrap(b, nb, a, na, o, &m->ci_lo, &m->ci_hi);
  if (mw_test(b, nb, a, na, &m->mw) == 0)
    m->tested = 1;
  if (minp >= o->alpha) {
    m->verdict = CMP_INCONCLUSIVE;
    if (nb == na)
      m->reason = ps_xasprintf("inconclusive: %zu runs each cannot reach p<%g (smallest possible "
                               "p is %.3g); use --runs >= 5", nb, o->alpha, minp);
    else
      m->reason = ps_xasprintf("inconclusive: %zu and %zu runs cannot reach p<%g (smallest "
                               "possible p is %.3g); use --runs >= 5", nb, na, o->alpha, minp);
    return;
  }
  m->p_used = m->tested ? m->mw.p : -1;
  compare_decide_p(m, o);
}

/* The verdict of a tested metric from m->p_used (the raw p, or Holm-adjusted with --holm). */
static void compare_decide_p(struct compare_metric *m, const struct compare_opts *o)
{
  free(m->reason);
  double p = m->p_used >= 0 ? m->p_used : 1.0;
  double diff = m->new_median - m->base_median;
  int worse = m->higher_is_better ? diff < 0 : diff > 0;
  int significant = m->tested && p < o->alpha;
  int over_floor = fabs(diff) > m->floor;
  int over_thr = isnan(m->change) ? diff != 0 : fabs(m->change) > m->threshold;
  if (significant && over_floor && over_thr) {
    m->verdict = worse ? CMP_REGRESSED : CMP_IMPROVED;
    m->reason = ps_xasprintf("%s by %+.1f%% (p=%.3g, beyond the %.3g%% threshold)",
                             worse ? "worse" : "better", compare_pct(m->change), p,
                             compare_pct(m->threshold));
    return;
  }
  if (significant) {
    m->verdict = CMP_UNCHANGED;
    m->reason = ps_xasprintf("significant (p=%.3g) but %s", p,
                             !over_thr ? "within the noise threshold" : "below the absolute floor");
    return;
  }
  /* Not significant: unchanged only if the CI rules out a change beyond the threshold. */
  double base = fabs(m->base_median);
  int ci_small = !isnan(m->ci_lo) && ((m->ci_lo >= -m->threshold && m->ci_hi <= m->threshold) ||
                                      (fmax(fabs(m->ci_lo), fabs(m->ci_hi)) * base <= m->floor));
  if (ci_small || isnan(m->ci_lo)) {
    m->verdict = CMP_UNCHANGED;
    m->reason = ps_xasprintf("no significant change (p=%.3g)", p);
  } else {
    m->verdict = CMP_INCONCLUSIVE;
    m->reason = ps_xasprintf("inconclusive: not significant (p=%.3g) but the 95%% CI "
                             "[%+.1f%%, %+.1f%%] does not rule out a change beyond %.3g%%; "
                             "the machine is noisy, use more runs",
                             p, compare_pct(m->ci_lo), compare_pct(m->ci_hi),
                             compare_pct(m->threshold));
  }
}

int compare_samples(const char *metric, const double *base, size_t nbase, const double *now,
                    size_t nnew, const struct compare_opts *o, struct compare_metric *m)
{
  if (!nbase || !nnew)
    return -EINVAL;
  struct compare_metric_info info;
  compare_metric_info(metric, &info);
  *m = (struct compare_metric){0};
  m->metric = ps_xstrdup(metric);
  m->unit = info.unit;
  m->higher_is_better = info.higher_is_better;
  m->deterministic = info.deterministic;
  m->n_base = nbase;
  m->n_new = nnew;
  m->ci_lo = m->ci_hi = NAN;
  m->p_used = -1; /* set when the verdict came from the test's p */
  m->threshold = compare_setting(o->thresholds, o->nthresholds, metric,
                                 info.deterministic ? 0.0 : o->threshold);
  m->floor = compare_setting(o->floors, o->nfloors, metric, info.floor);
  double *b = ps_xmalloc(nbase * sizeof(double)), *a = ps_xmalloc(nnew * sizeof(double));
  memcpy(b, base, nbase * sizeof(double));
  memcpy(a, now, nnew * sizeof(double));
  m->base_median = ps_stats_median(b, nbase);
  m->new_median = ps_stats_median(a, nnew);
  m->change = m->base_median != 0 ? (m->new_median - m->base_median) / fabs(m->base_median)
                                  : (m->new_median == 0 ? 0.0 : NAN);
  if (info.deterministic)
    compare_decide_exact(m, o);
  else
    compare_decide_tested(m, b, nbase, a, nnew, o);
  free(b);
  free(a);
  return 0;
}

void compare_metric_free(struct compare_metric *m)
{
  if (!m)
    return;
  free(m->metric);
  free(m->reason);
}

/* ---- loading ---- */

int compare_load(const char *path, json_t **root, char **file, char **err)
{
  char msg[1024];
  struct stat st;
  *file = NULL;
  int rc = ps_results_load(path, root, msg, sizeof(msg));
  if (rc) {
    /* An input that cannot be read is an input error for compare (exit 3), not an output one. */
    *err = ps_xstrdup(msg);
    return PS_EXIT_USAGE;
  }
  *file = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? ps_xasprintf("%s/%s", path, PS_RESULTS_FILE)
                                                     : ps_xstrdup(path);
  return 0;
}

int compare_split(json_t *root, const char *file, const char *param, const char *value,
                  json_t **out, char **err)
{
  json_t *copy = json_deep_copy(root), *cells = json_array(), *c;
  size_t i;
  json_array_foreach(json_object_get(copy, "cells"), i, c) {
    json_t *params = json_object_get(c, "params");
    const char *v = json_string_value(json_object_get(params, param));
    if (!v || strcmp(v, value))
      continue;
    json_object_del(params, param);
    /* With no other parameter the one cell of each side is "(all)", so the sides match. */
    char *key = json_object_size(params) ? compare_cell_key(c) : ps_xstrdup("(all)");
    json_object_set_new(c, "id", json_string(key));
    free(key);
    json_array_append(cells, c);
  }
  json_object_set_new(copy, "cells", cells);
  if (json_array_size(cells) == 0) {
    *err = ps_xasprintf("no cell of '%s' has the parameter %s=%s; name a swept parameter "
                        "and one of its values, e.g. side=new", file, param, value);
    json_decref(copy);
    return PS_EXIT_USAGE;
  }
  *out = copy;
  return 0;
}

/* ---- where it got slower ---- */

static int compare_growth_cmp(const void *x, const void *y)
{
  double a = ((const struct compare_growth *)x)->delta, b = ((const struct compare_growth *)y)->delta;
  return (a < b) - (a > b);
}

static char *compare_entry_name(json_t *e, int with_line)
{
  const char *fn = json_string_value(json_object_get(e, "function"));
  const char *file = json_string_value(json_object_get(e, "file"));
  json_t *line = json_object_get(e, "line");
  if (with_line && file && json_is_integer(line))
    return ps_xasprintf("%s (%s:%lld)", fn ? fn : "?", file, (long long)json_integer_value(line));
  return ps_xstrdup(fn ? fn : "?");
}

static double compare_entry_value(json_t *arr, const char *name, const char *field, int with_line)
{
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    char *n = compare_entry_name(e, with_line);
    int same = !strcmp(n, name);
    free(n);
    if (same)
      return json_number_value(json_object_get(e, field));
  }
  return 0;
}

static size_t compare_growth(json_t *base_arr, json_t *new_arr, const char *field, int with_line,
                             struct compare_growth **out)
{
  size_t i, n = 0;
  json_t *e;
  *out = NULL;
  if (!json_is_array(new_arr))
    return 0;
  struct compare_growth *g = ps_xcalloc(json_array_size(new_arr) + 1, sizeof(*g));
  json_array_foreach(new_arr, i, e) {
    char *name = compare_entry_name(e, with_line);
    double now = json_number_value(json_object_get(e, field));
    double before = compare_entry_value(base_arr, name, field, with_line);
    if (now - before > 0)
      g[n++] = (struct compare_growth){name, before, now, now - before};
    else
      free(name);
  }
  qsort(g, n, sizeof(*g), compare_growth_cmp);
  for (size_t k = COMPARE_TOP; k < n; k++)
    free(g[k].name);
  if (n > COMPARE_TOP)
    n = COMPARE_TOP;
  if (!n) {
    free(g);
    g = NULL;
  }
  *out = g;
  return n;
}

static char *compare_profile_file(const char *results_file, json_t *cell, const char *kind,
                                  const char *key)
{
  json_t *prof = json_object_get(cell, "profile");
  const char *rel = json_string_value(json_object_get(json_object_get(json_object_get(prof, kind),
                                                                      "files"), key));
  if (!rel)
    return NULL;
  const char *dir = json_string_value(json_object_get(prof, "dir"));
  char *copy = ps_xstrdup(results_file);
  char *base = dirname(copy);
  char *p = rel[0] == '/' ? ps_xstrdup(rel)
            : dir && dir[0] == '/' ? ps_xasprintf("%s/%s", dir, rel)
            : dir ? ps_xasprintf("%s/%s/%s", base, dir, rel)
                  : ps_xasprintf("%s/%s", base, rel);
  free(copy);
  return p;
}

static void compare_where(struct compare_cell *cc, json_t *bc, const char *bfile, json_t *nc,
                          const char *nfile, const struct compare_opts *o)
{
  json_t *bp = json_object_get(bc, "profile"), *np = json_object_get(nc, "profile");
  json_t *bcpu = json_object_get(bp, "cpu"), *ncpu = json_object_get(np, "cpu");
  json_t *ba = json_object_get(bp, "alloc"), *na = json_object_get(np, "alloc");
  if (bcpu && ncpu)
    cc->nfunctions = compare_growth(json_object_get(bcpu, "top"), json_object_get(ncpu, "top"),
                                    "self_share", 0, &cc->functions);
  if (ba && na)
    cc->nsites = compare_growth(json_object_get(ba, "top_sites"), json_object_get(na, "top_sites"),
                                "bytes", 1, &cc->sites);
  if (!o->diff_dir || !bcpu || !ncpu)
    return;
  char *bf = compare_profile_file(bfile, bc, "cpu", "folded");
  char *nf = compare_profile_file(nfile, nc, "cpu", "folded");
  if (!bf || !nf) {
    cc->flamegraph_note = ps_xstrdup("differential flame graph unavailable: no folded stacks");
  } else {
    char *safe = ps_xstrdup(cc->id);
    for (char *p = safe; *p; p++)
      if (*p == '/' || *p == ' ')
        *p = '_';
    char *svg = ps_xasprintf("%s/diff-%s.svg", o->diff_dir, safe);
    free(safe);
    struct flame_opts fo = {.title = cc->id, .unit = "samples", .width = 0};
    int rc = ps_mkdir_p(o->diff_dir, 0755);
    if (rc == 0)
      rc = flamegraph_write_diff_svg(bf, nf, svg, &fo);
    if (rc == 0) {
      cc->flamegraph = svg;
    } else {
      cc->flamegraph_note = rc == -ENOSYS
        ? ps_xstrdup("differential flame graph unavailable (the flame graph writer is not "
                     "built in this version)")
        : ps_xasprintf("differential flame graph unavailable: %s", strerror(-rc));
      free(svg);
    }
  }
  free(bf);
  free(nf);
}

/* ---- the comparison ---- */

/* The 95% interval of a sampled allocation estimate (profile.alloc in "sample" mode): the
 * sibling "<x>_ci95" of calls.total or bytes. Returns 0 or -ENOENT (exact mode). */
static int compare_alloc_ci(json_t *cell, const char *metric, double *lo, double *hi)
{
  json_t *alloc = json_object_get(json_object_get(cell, "profile"), "alloc");
  const char *mode = json_string_value(json_object_get(alloc, "mode"));
  if (!mode || strcmp(mode, "sample"))
    return -ENOENT;
  json_t *ci = !strcmp(metric, "alloc.calls")
                 ? json_object_get(json_object_get(alloc, "calls"), "total_ci95")
               : !strcmp(metric, "alloc.bytes") ? json_object_get(alloc, "bytes_ci95")
                                                : json_object_get(alloc, "peak_heap_ci95");
  *lo = json_number_value(json_array_get(ci, 0));
  *hi = json_number_value(json_array_get(ci, 1));
  return json_array_size(ci) == 2 ? 0 : -ENOENT;
}

/* Sampled allocation counts are estimates, not exact counts: a change needs the noise
 * threshold and non-overlapping 95% intervals (or is unchanged when no interval is given). */
static void compare_sampled_alloc(struct compare_metric *m, json_t *bc, json_t *nc,
                                  const struct compare_opts *o)
{
  double blo, bhi, nlo, nhi;
  int bs = compare_alloc_ci(bc, m->metric, &blo, &bhi), ns = compare_alloc_ci(nc, m->metric, &nlo, &nhi);
  json_t *ba = json_object_get(json_object_get(bc, "profile"), "alloc");
  json_t *na = json_object_get(json_object_get(nc, "profile"), "alloc");
  const char *bm = json_string_value(json_object_get(ba, "mode"));
  const char *nm = json_string_value(json_object_get(na, "mode"));
  if (!(bm && !strcmp(bm, "sample")) && !(nm && !strcmp(nm, "sample")))
    return;
  m->deterministic = 0;
  m->threshold = compare_setting(o->thresholds, o->nthresholds, m->metric, o->threshold);
  free(m->reason);
  int apart = bs == 0 && ns == 0 && (nlo > bhi || nhi < blo);
  int beyond = isnan(m->change) || fabs(m->change) > m->threshold;
  if (apart && beyond && fabs(m->new_median - m->base_median) > m->floor) {
    m->verdict = m->new_median > m->base_median ? CMP_REGRESSED : CMP_IMPROVED;
    m->reason = ps_xasprintf("sampled estimate %s by %+.1f%%, 95%% intervals apart",
                             m->verdict == CMP_REGRESSED ? "worse" : "better",
                             100.0 * m->change);
  } else {
    m->verdict = CMP_UNCHANGED;
    m->reason = ps_xstrdup(bs || ns ? "sampled estimate without an interval: not compared exactly"
                                    : "sampled estimates within their 95% intervals or the "
                                      "threshold");
  }
}

static void compare_cell(struct compare_cell *cc, json_t *bc, const char *bfile, json_t *nc,
                         const char *nfile, const struct compare_opts *o)
{
  char **names;
  size_t n = compare_cell_metrics(bc, nc, &names);
  cc->metrics = ps_xcalloc(n ? n : 1, sizeof(*cc->metrics));
  cc->verdict = CMP_UNCHANGED;
  for (size_t i = 0; i < n; i++) {
    struct compare_metric_info info;
    compare_metric_info(names[i], &info);
    double *bv = NULL, *nv = NULL, bx, nx;
    size_t nb, nn;
    if (info.deterministic) {
      nb = compare_cell_value(bc, names[i], &bx) == 0;
      nn = compare_cell_value(nc, names[i], &nx) == 0;
      bv = nb ? &bx : NULL;
      nv = nn ? &nx : NULL;
    } else {
      nb = compare_cell_samples(bc, names[i], &bv);
      nn = compare_cell_samples(nc, names[i], &nv);
    }
    if (compare_samples(names[i], bv, nb, nv, nn, o, &cc->metrics[cc->nmetrics]) == 0) {
      if (info.deterministic)
        compare_sampled_alloc(&cc->metrics[cc->nmetrics], bc, nc, o);
      enum compare_verdict v = cc->metrics[cc->nmetrics].verdict;
      if (v > cc->verdict)
        cc->verdict = v;
      cc->nmetrics++;
    }
    if (!info.deterministic) {
      free(bv);
      free(nv);
    }
    free(names[i]);
  }
  free(names);
  if (cc->nmetrics == 0)
    cc->verdict = CMP_INCONCLUSIVE;
  compare_where(cc, bc, bfile, nc, nfile, o);
}

static int compare_p_cmp(const void *x, const void *y)
{
  double a = (*(struct compare_metric *const *)x)->mw.p, b = (*(struct compare_metric *const *)y)->mw.p;
  return (a > b) - (a < b);
}

/* Holm-Bonferroni over every tested metric of every cell: the family-wise error rate stays at
 * alpha however many cells and metrics are compared. Re-decides those metrics and the cells. */
static void compare_holm(struct compare_report *r, const struct compare_opts *o)
{
  size_t n = 0;
  for (size_t c = 0; c < r->ncells; c++)
    for (size_t k = 0; k < r->cells[c].nmetrics; k++)
      n += r->cells[c].metrics[k].p_used >= 0;
  if (!n)
    return;
  struct compare_metric **t = ps_xmalloc(n * sizeof(*t));
  size_t i = 0;
  for (size_t c = 0; c < r->ncells; c++)
    for (size_t k = 0; k < r->cells[c].nmetrics; k++)
      if (r->cells[c].metrics[k].p_used >= 0)
        t[i++] = &r->cells[c].metrics[k];
  qsort(t, n, sizeof(*t), compare_p_cmp);
  double run = 0;
  for (i = 0; i < n; i++) {
    double adj = fmin(1.0, (double)(n - i) * t[i]->mw.p);
    run = fmax(run, adj); /* adjusted p-values are monotone */
    t[i]->p_used = run;
    compare_decide_p(t[i], o);
  }
  free(t);
  memset(r->counts, 0, sizeof(r->counts));
  for (size_t c = 0; c < r->ncells; c++) {
    struct compare_cell *cc = &r->cells[c];
    cc->verdict = cc->nmetrics ? CMP_UNCHANGED : CMP_INCONCLUSIVE;
    for (size_t k = 0; k < cc->nmetrics; k++)
      if (cc->metrics[k].verdict > cc->verdict)
        cc->verdict = cc->metrics[k].verdict;
    r->counts[cc->verdict]++;
  }
}

/* Timings from two different machines compare the machines as much as the code: say so. */
static char *compare_machine_note(json_t *base, json_t *now)
{
  static const char *keys[] = {"hostname", "cpu_model", "cores", "kernel"};
  json_t *bm = json_object_get(base, "machine"), *nm = json_object_get(now, "machine");
  for (size_t i = 0; i < PS_ARRAY_SIZE(keys); i++) {
    json_t *a = json_object_get(bm, keys[i]), *b = json_object_get(nm, keys[i]);
    if (!a || !b || json_equal(a, b))
      continue;
    char *av = json_dumps(a, JSON_ENCODE_ANY), *bv = json_dumps(b, JSON_ENCODE_ANY);
    char *note = ps_xasprintf("base and new ran on different machines (%s %s vs %s): timings "
                              "compare the machines too; run both on one machine (docs/ci.md)",
                              keys[i], av ? av : "?", bv ? bv : "?");
    free(av);
    free(bv);
    return note;
  }
  return NULL;
}

int compare_results(json_t *base, const char *base_file, json_t *now, const char *new_file,
                    const struct compare_opts *o, struct compare_report *r, char **err)
{
  *r = (struct compare_report){0};
  r->base_path = ps_xstrdup(base_file);
  r->new_path = ps_xstrdup(new_file);
  json_t *bcells = json_object_get(base, "cells"), *ncells = json_object_get(now, "cells");
  size_t nb = json_array_size(bcells), nn = json_array_size(ncells);
  char **bkeys = ps_xcalloc(nb + 1, sizeof(char *));
  int *bused = ps_xcalloc(nb + 1, sizeof(int));
  for (size_t i = 0; i < nb; i++)
    bkeys[i] = compare_cell_key(json_array_get(bcells, i));
  r->cells = ps_xcalloc(nn + 1, sizeof(*r->cells));
  r->new_only = ps_xcalloc(nn + 1, sizeof(char *));
  r->base_only = ps_xcalloc(nb + 1, sizeof(char *));
  for (size_t j = 0; j < nn; j++) {
    json_t *nc = json_array_get(ncells, j);
    char *key = compare_cell_key(nc);
    size_t match = nb;
    for (size_t i = 0; i < nb && match == nb; i++)
      if (!bused[i] && !strcmp(bkeys[i], key))
        match = i;
    const char *id = json_string_value(json_object_get(nc, "id"));
    if (match == nb) {
      r->new_only[r->nnew_only++] = ps_xstrdup(id ? id : key);
    } else {
      bused[match] = 1;
      struct compare_cell *cc = &r->cells[r->ncells++];
      cc->id = ps_xstrdup(id ? id : key);
      cc->params = json_object_get(nc, "params");
      compare_cell(cc, json_array_get(bcells, match), base_file, nc, new_file, o);
      r->counts[cc->verdict]++;
    }
    free(key);
  }
  for (size_t i = 0; i < nb; i++) {
    if (!bused[i]) {
      const char *id = json_string_value(json_object_get(json_array_get(bcells, i), "id"));
      r->base_only[r->nbase_only++] = ps_xstrdup(id ? id : bkeys[i]);
    }
    free(bkeys[i]);
  }
  free(bkeys);
  free(bused);
  if (r->ncells == 0) {
    *err = ps_xasprintf("no cell of '%s' matches a cell of '%s' by parameters (%zu and %zu "
                        "cells); compare results of the same sweep", new_file, base_file, nn, nb);
    compare_report_free(r);
    return PS_EXIT_USAGE;
  }
  if (o->holm)
    compare_holm(r, o);
  r->machine_note = compare_machine_note(base, now);
  r->verdict = r->counts[CMP_REGRESSED]      ? CMP_REGRESSED
               : r->counts[CMP_INCONCLUSIVE] ? CMP_INCONCLUSIVE
               : r->counts[CMP_IMPROVED]     ? CMP_IMPROVED
                                             : CMP_UNCHANGED;
  return 0;
}

void compare_report_free(struct compare_report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->ncells; i++) {
    struct compare_cell *c = &r->cells[i];
    for (size_t k = 0; k < c->nmetrics; k++)
      compare_metric_free(&c->metrics[k]);
    for (size_t k = 0; k < c->nfunctions; k++)
      free(c->functions[k].name);
    for (size_t k = 0; k < c->nsites; k++)
      free(c->sites[k].name);
    free(c->metrics);
    free(c->functions);
    free(c->sites);
    free(c->id);
    free(c->flamegraph);
    free(c->flamegraph_note);
  }
  for (size_t i = 0; i < r->nbase_only; i++)
    free(r->base_only[i]);
  for (size_t i = 0; i < r->nnew_only; i++)
    free(r->new_only[i]);
  free(r->base_only);
  free(r->new_only);
  free(r->cells);
  free(r->base_path);
  free(r->new_path);
  free(r->machine_note);
  *r = (struct compare_report){0};
}
