/* chart-sweep.c - one function per chart: writes <name>.dat (plain columns, blocks per series)
 * and the gnuplot script, then one gnuplot draws them all (chart_run). Axis names come from the sweep;
 * every user string passes through chart_quote; missing numbers are skipped, never plotted as 0.
 */
#include "chart-sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart-gnuplot.h"
#include "util.h"

struct ctx {
  const struct report_data *d;
  const struct capacity_plan *plan;
  const struct report_cell *focus;
  char *dir;
  struct chart_set *set;
};

static struct chart *add(struct ctx *c, const char *name, const char *title)
{
  struct chart *ch = &c->set->c[c->set->n++];
  memset(ch, 0, sizeof(*ch));
  snprintf(ch->name, sizeof(ch->name), "%s", name);
  snprintf(ch->title, sizeof(ch->title), "%s", title);
  /* A report written again into the same folder keeps no stale chart of an earlier run. */
  static const char *ext[] = {"svg", "png", "dat", "gp", "log"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(ext); i++) {
    char *p = ps_xasprintf("%s/%s.%s", c->dir, name, ext[i]);
    unlink(p);
    free(p);
  }
  return ch;
}

static void skip(struct chart *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct chart *ch, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ch->why, sizeof(ch->why), fmt, ap);
  va_end(ap);
  ch->ok = 0;
}

/* Opens <dir>/<chart>.dat; on failure the chart is marked skipped and NULL returned. */
static FILE *open_data(struct ctx *c, struct chart *ch)
{
  char *p = ps_xasprintf("%s/%s.dat", c->dir, ch->name);
  FILE *f = fopen(p, "w");
  if (!f)
    skip(ch, "could not write %s: %s", p, strerror(errno));
  free(p);
  return f;
}

/* "set <axis>tics (label first, label first+1, ...)": every label quoted. */
static void tics(FILE *f, const char *axis, char *const *labels, size_t n, size_t first)
{
  fprintf(f, "set %stics (", axis);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%s", i ? ", " : "");
    chart_quote(f, labels[i]);
    fprintf(f, " %zu", i + first);
  }
  fputs(")\n", f);
}

/* Body builder over a memstream. */
struct body {
  char *buf;
  size_t len;
  FILE *f;
};

static FILE *body_open(struct body *b)
{
  memset(b, 0, sizeof(*b));
  b->f = open_memstream(&b->buf, &b->len);
  if (!b->f)
    ps_die(PS_EXIT_ENVIRONMENT, "out of memory");
  fputs("reset\nset grid\nset key outside right top\nset border 3\nset tics nomirror\n", b->f);
  return b->f;
}

/* Writes the chart's script; chart_sweep_write runs gnuplot on all of them at the end. */
static void render(struct ctx *c, struct chart *ch, struct body *b, int w, int h)
{
  fclose(b->f);
  ch->ok = chart_write_script(c->dir, ch->name, b->buf, w, h, ch->why, sizeof(ch->why)) == 0;
  free(b->buf);
}

static void title_line(FILE *f, const char *title)
{
  fputs("set title ", f);
  chart_quote(f, title);
  fputc('\n', f);
}

static void label_axis(FILE *f, const char *which, const char *text)
{
  fprintf(f, "set %slabel ", which);
  chart_quote(f, text);
  fputc('\n', f);
}

/* The x axis: log scale for numeric values spanning a factor of 10 or more, else the values
 * as labels at positions 0..nx-1. */
static int x_axis_setup(struct ctx *c, FILE *f)
{
  const struct report_data *d = c->d;
  label_axis(f, "x", d->x_axis);
  if (d->x_numeric) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < d->nx; i++) {
      double v = strtod(d->xvals[i], NULL);
      lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    if (lo > 0 && hi / lo >= 10) {
      fprintf(f, "set logscale x\nset xrange [%g:%g]\n", lo / 1.5, hi * 1.5);
      return 1;
    }
    fprintf(f, "set offsets graph 0.05, graph 0.05, 0, 0\n");
    return 1;
  }
  tics(f, "x", d->xvals, d->nx, 0);
  fprintf(f, "set xrange [-0.5:%zu.5]\n", d->nx - 1);
  return 0;
}

static double xpos(const struct report_data *d, const struct report_cell *cell)
{
  return d->x_numeric ? cell->x : (double)cell->xi;
}

static void series_title(FILE *f, const struct report_data *d, size_t si, const char *suffix)
{
  char *t = d->s_axis ? ps_xasprintf("%s=%s%s", d->s_axis, d->svals[si], suffix)
                      : ps_xasprintf("%s", *suffix ? suffix + 1 : "all");
  chart_quote(f, t);
  free(t);
}

/* ---- x-vs-metric line charts with confidence bars ---------------------------------- */

static double stat_scale(const struct report_stat *s, double v, double k)
{
  (void)s;
  return isfinite(v) ? v * k : NAN;
}

static void chart_lines(struct ctx *c, const char *name, const char *title, const char *ylabel,
                        size_t off, double k, int logy)
{
  const struct report_data *d = c->d;
  struct chart *ch = add(c, name, title);
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  size_t points = 0;
  fprintf(df, "# %s: one block per series (%s); columns x median ci_low ci_high\n", title,
          d->s_axis ? d->s_axis : "all");
  for (size_t si = 0; si < d->ns; si++) {
    for (size_t xi = 0; xi < d->nx; xi++) {
      const struct report_cell *cell = report_cell_at(d, xi, si);
      if (!cell)
        continue;
      const struct report_stat *s = (const struct report_stat *)((const char *)cell + off);
      double m = stat_scale(s, s->med, k), lo = stat_scale(s, s->lo, k),
             hi = stat_scale(s, s->hi, k);
      if (!isfinite(m))
        continue;
      fprintf(df, "%.17g %.17g %.17g %.17g\n", xpos(d, cell), m, isfinite(lo) ? lo : m,
              isfinite(hi) ? hi : m);
      points++;
    }
    fprintf(df, "\n\n");
  }
  fclose(df);
  if (!points) {
    skip(ch, "no cell has a %s value", ylabel);
    return;
  }
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, title);
  x_axis_setup(c, f);
  label_axis(f, "y", ylabel);
  if (logy)
    fputs("set logscale y\n", f);
  else
    fputs("set yrange [0:*]\n", f);
  fputs("plot ", f);
  for (size_t si = 0; si < d->ns; si++) {
    fprintf(f, "%s'%s.dat' index %zu using 1:2:3:4 with yerrorlines lw 2 pt 7 title ",
            si ? ", \\\n  " : "", name, si);
    series_title(f, d, si, "");
  }
  fputc('\n', f);
  render(c, ch, &b, 820, 460);
}

static void chart_memory(struct ctx *c)
{
  const struct report_data *d = c->d;
  struct chart *ch = add(c, "memory", "Peak and average memory (RSS)");
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  size_t points = 0;
  fprintf(df, "# one block per series; columns x peak_MiB avg_MiB\n");
  for (size_t si = 0; si < d->ns; si++) {
    for (size_t xi = 0; xi < d->nx; xi++) {
      const struct report_cell *cell = report_cell_at(d, xi, si);
      if (!cell || !isfinite(cell->rss_kb.med))
        continue;
      double avg = cell->avg_rss_kb.med / 1024;
      fprintf(df, "%.17g %.17g ", xpos(d, cell), cell->rss_kb.med / 1024);
      if (isfinite(avg))
        fprintf(df, "%.17g\n", avg);
      else
        fputs("?\n", df);
      points++;
    }
    fprintf(df, "\n\n");
  }
  fclose(df);
  if (!points) {
    skip(ch, "no run reported its peak memory");
    return;
  }
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, ch->title);
  x_axis_setup(c, f);
  label_axis(f, "y", "MiB (solid: peak, dashed: average)");
  fputs("set yrange [0:*]\nplot ", f);
  for (size_t si = 0; si < d->ns; si++) {
    fprintf(f, "%s'memory.dat' index %zu using 1:2 with linespoints lw 2 pt 7 lc %zu title ",
            si ? ", \\\n  " : "", si, si + 1);
    series_title(f, d, si, " peak");
    fprintf(f, ", \\\n  'memory.dat' index %zu using 1:3 with linespoints lw 1 dt 2 pt 6 lc %zu "
               "title ", si, si + 1);
    series_title(f, d, si, " avg");
  }
  fputc('\n', f);
  render(c, ch, &b, 820, 460);
}

/* How many distinct values of the x (which = 0) or series (1) axis have a cell with a
 * throughput: the charts across an axis need two. */
static size_t measured_values(const struct report_data *d, int which)
{
  size_t n = 0, lim = which ? d->ns : d->nx;
  for (size_t v = 0; v < lim; v++)
    for (size_t i = 0; i < d->ncells; i++)
      if ((which ? d->cells[i].si : d->cells[i].xi) == v && isfinite(d->cells[i].thr.med)) {
        n++;
        break;
      }
  return n;
}

/* ---- scaling: speedup and efficiency vs workers with the USL ------------------------ */

static void chart_scaling(struct ctx *c)
{
  const struct report_data *d = c->d;
  const struct capacity_plan *p = c->plan;
  struct chart *ch = add(c, "scaling", "Speedup and efficiency vs workers (USL fit)");
  size_t ns = measured_values(d, 1);
  if (!d->s_axis || !d->s_numeric || ns < 2) {
    skip(ch, "no scalability chart: the sweep has %s, so speedup cannot be measured",
         !d->s_axis ? "a single axis" : !d->s_numeric ? "a non-numeric series axis"
                                                     : "throughput at fewer than two worker counts");
    return;
  }
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  fprintf(df, "# one block per %s value; columns workers speedup efficiency\n", d->x_axis);
  double wmax = 0;
  for (size_t xi = 0; xi < d->nx; xi++) {
    double base = NAN, bw = INFINITY;
    for (size_t si = 0; si < d->ns; si++) {
      const struct report_cell *cell = report_cell_at(d, xi, si);
      if (cell && isfinite(cell->thr.med) && cell->s < bw)
        bw = cell->s, base = cell->thr.med / cell->s;
    }
    for (size_t si = 0; si < d->ns; si++) {
      const struct report_cell *cell = report_cell_at(d, xi, si);
      if (!cell || !isfinite(cell->thr.med) || !isfinite(base))
        continue;
      double sp = cell->thr.med / base;
      fprintf(df, "%.17g %.17g %.17g\n", cell->s, sp, sp / cell->s);
      wmax = cell->s > wmax ? cell->s : wmax;
    }
    fprintf(df, "\n\n");
  }
  fclose(df);
  struct body b;
  FILE *f = body_open(&b);
  double top = wmax * 1.5 + 1;
  fprintf(f, "set multiplot layout 1,2 title ");
  chart_quote(f, ch->title);
  fprintf(f, "\nset xrange [0:%g]\nset samples 200\n", top);
  label_axis(f, "x", d->s_axis);
  label_axis(f, "y", "speedup");
  int roofs = 0;
  fprintf(f, "set yrange [0:%g]\nset key top left inside font ',9'\n"
             "plot x with lines lc rgb '#999999' dt 3 title 'ideal'", top);
  for (size_t xi = 0; xi < d->nx; xi++) {
    const struct capacity_usl *u = NULL;
    double xv = strtod(d->xvals[xi], NULL);
    for (size_t k = 0; p && k < p->nbatch && d->x_numeric; k++)
      if (p->batches[k] == xv)
        u = &p->usl[k];
    char *t = ps_xasprintf("%s=%s", d->x_axis, d->xvals[xi]);
    fprintf(f, ", \\\n  'scaling.dat' index %zu using 1:2 with points pt 7 ps 1.2 lc %zu %s",
            xi, xi + 1, u && u->ok ? "notitle" : "title ");
    if (!(u && u->ok))
      chart_quote(f, t);
    if (u && u->ok) {
      /* Speedup relative to gamma (the model's one-worker throughput). */
      fprintf(f, ", \\\n  (x >= 1 ? x/(1+%.17g*(x-1)+%.17g*x*(x-1)) : 1/0) with lines lw 2 lc %zu "
                 "title ", u->alpha, u->beta, xi + 1);
      char *ft = ps_xasprintf("USL %s (R²=%.2f%s)", t, u->r2, u->poor ? ", poor" : "");
      chart_quote(f, ft);
      free(ft);
      if (u->alpha > 1e-9 && 1 / u->alpha < top * 4)
        fprintf(f, ", \\\n  %.17g with lines dt 2 lc %zu %s", 1 / u->alpha, xi + 1,
                roofs++ ? "notitle" : "title 'contention roof 1/α (dashed)'");
    }
    free(t);
  }
  fputc('\n', f);
  label_axis(f, "y", "efficiency (speedup / workers)");
  fprintf(f, "set xrange [1:%g]\nset yrange [0:1.2]\nset key top right inside\n"
             "plot 1 with lines lc rgb '#999999' dt 3 title 'ideal'", top);
  for (size_t xi = 0; xi < d->nx; xi++) {
    const struct capacity_usl *u = NULL;
    double xv = strtod(d->xvals[xi], NULL);
    for (size_t k = 0; p && k < p->nbatch && d->x_numeric; k++)
      if (p->batches[k] == xv)
        u = &p->usl[k];
    fprintf(f, ", \\\n  'scaling.dat' index %zu using 1:3 with points pt 7 lc %zu notitle", xi,
            xi + 1);
    if (u && u->ok)
      fprintf(f, ", \\\n  1/(1+%.17g*(x-1)+%.17g*x*(x-1)) with lines lw 2 lc %zu notitle",
              u->alpha, u->beta, xi + 1);
  }
  fputs("\nunset multiplot\n", f);
  render(c, ch, &b, 1000, 460);
}

/* ---- heatmap ------------------------------------------------------------------------ */

static void chart_heatmap(struct ctx *c)
{
  const struct report_data *d = c->d;
  struct chart *ch = add(c, "heatmap", "Throughput heatmap");
  size_t mx = measured_values(d, 0), ms = d->s_axis ? measured_values(d, 1) : 0;
  if (mx < 2 || ms < 2) {
    skip(ch, "no heatmap: it needs throughput at two or more values of each axis (%s has %zu, "
         "%s has %zu)", d->x_axis, mx, d->s_axis ? d->s_axis : "the series", ms);
    return;
  }
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  fprintf(df, "# columns x_index series_index throughput (? = not measured)\n");
  for (size_t xi = 0; xi < d->nx; xi++) {
    for (size_t si = 0; si < d->ns; si++) {
      const struct report_cell *cell = report_cell_at(d, xi, si);
      if (cell && isfinite(cell->thr.med))
        fprintf(df, "%zu %zu %.17g\n", xi, si, cell->thr.med);
      else
        fprintf(df, "%zu %zu ?\n", xi, si);
    }
    fputc('\n', df);
  }
  fclose(df);
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, d->thr_records ? "Throughput (records/s) over the sweep"
                               : "Runs per second over the sweep");
  label_axis(f, "x", d->x_axis);
  label_axis(f, "y", d->s_axis);
  fputs("unset grid\nset palette defined (0 '#f7fbff', 0.5 '#6baed6', 1 '#08306b')\n", f);
  tics(f, "x", d->xvals, d->nx, 0);
  tics(f, "y", d->svals, d->ns, 0);
  fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n"
             "plot 'heatmap.dat' using 1:2:3 with image pixels notitle, \\\n"
             "  '' using 1:2:($3 >= 1e6 ? sprintf('%%.2fM', $3/1e6) : $3 >= 1e3 ? sprintf('%%.1fk', $3/1e3) : sprintf('%%.3g', $3)) with labels tc rgb '#d62728' font ',12' notitle\n",
          d->nx - 1, d->ns - 1);
  render(c, ch, &b, 720, 460);
}

/* ---- distribution of the runs per cell ---------------------------------------------- */

/* "set xtics" with one "batch=100 workers=1" label per cell, from position first. */
static void cell_tics(FILE *f, const struct report_data *d, size_t first)
{
  char **labels = ps_xcalloc(d->ncells + 1, sizeof(char *));
  for (size_t i = 0; i < d->ncells; i++)
    labels[i] = d->s_axis ? ps_xasprintf("%s=%s %s=%s", d->x_axis, d->cells[i].xval, d->s_axis,
                                         d->cells[i].sval)
                          : ps_xasprintf("%s=%s", d->x_axis, d->cells[i].xval);
  tics(f, "x", labels, d->ncells, first);
  for (size_t i = 0; i < d->ncells; i++)
    free(labels[i]);
  free(labels);
}

static void chart_runs(struct ctx *c)
{
  const struct report_data *d = c->d;
  struct chart *ch = add(c, "runs", "Run time of every run, per cell (box plot)");
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  size_t blocks = 0;
  for (size_t i = 0; i < d->ncells; i++) {
    size_t nr = json_array_size(json_object_get(d->cells[i].obj, "runs"));
    double v[nr ? nr : 1];
    size_t n = report_run_values(d, &d->cells[i], "wall", v, nr);
    fprintf(df, "# %s\n", d->cells[i].id ? d->cells[i].id : "?");
    for (size_t k = 0; k < n; k++)
      fprintf(df, "%.17g\n", v[k]);
    if (!n)
      fputs("?\n", df);
    fputs("\n\n", df);
    blocks += n > 0;
  }
  fclose(df);
  if (!blocks) {
    skip(ch, "no measured run finished");
    return;
  }
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, ch->title);
  label_axis(f, "y", "run time (s)");
  fputs("set style fill solid 0.3 border -1\nset style boxplot outliers pointtype 7\n"
        "set xtics rotate by -35 left\nset key off\n", f);
  cell_tics(f, d, 1);
  fprintf(f, "set xrange [0.3:%zu.7]\nset yrange [0:*]\nplot ", d->ncells);
  for (size_t i = 0; i < d->ncells; i++)
    fprintf(f, "%s'runs.dat' index %zu using (%zu):1:(0.6) with boxplot lc %zu", i ? ", \\\n  " : "",
            i, i + 1, d->cells[i].si + 1);
  fputc('\n', f);
  render(c, ch, &b, 900, 500);
}

/* ---- stage breakdown ------------------------------------------------------------------ */

static void chart_stages(struct ctx *c)
{
  const struct report_data *d = c->d;
  struct chart *ch = add(c, "stages", "Stage time per cell (median seconds)");
  const char *names[16];
  size_t nn = 0;
  for (size_t i = 0; i < d->ncells; i++) {
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(d->cells[i].obj, "stats"), key, v) {
      if (strncmp(key, "stage.", 6) || strlen(key) < 15 ||
          strcmp(key + strlen(key) - 8, ".seconds"))
        continue;
      int seen = 0;
      for (size_t k = 0; k < nn; k++)
        seen |= !strcmp(names[k], key);
      if (!seen && nn < 16 && strcmp(key, "stage.total.seconds"))
        names[nn++] = key;
    }
  }
  if (!nn) {
    skip(ch, "the workload reported no stage metrics ($PERFSWEEP_METRICS lines)");
    return;
  }
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  fputs("# cell", df);
  for (size_t k = 0; k < nn; k++)
    fprintf(df, " %.*s", (int)(strlen(names[k]) - 14), names[k] + 6);
  fputc('\n', df);
  for (size_t i = 0; i < d->ncells; i++) {
    fprintf(df, "%zu", i);
    for (size_t k = 0; k < nn; k++) {
      double v = report_num(json_object_get(
          json_object_get(json_object_get(d->cells[i].obj, "stats"), names[k]), "median"));
      fprintf(df, isfinite(v) ? " %.17g" : " 0", v);
    }
    fputc('\n', df);
  }
  fclose(df);
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, ch->title);
  label_axis(f, "y", "seconds");
  fputs("set style data histograms\nset style histogram rowstacked\nset boxwidth 0.7\n"
        "set style fill solid 0.8 border -1\nset xtics rotate by -35 left\nset yrange [0:*]\n", f);
  cell_tics(f, d, 0);
  fputs("plot ", f);
  for (size_t k = 0; k < nn; k++) {
    char *t = ps_xasprintf("%.*s", (int)(strlen(names[k]) - 14), names[k] + 6);
    fprintf(f, "%s'stages.dat' using %zu title ", k ? ", \\\n  " : "", k + 2);
    chart_quote(f, t);
    free(t);
  }
  fputc('\n', f);
  render(c, ch, &b, 900, 500);
}

/* ---- the profiled run: timeline and allocation sizes ---------------------------------- */

static void chart_timeline(struct ctx *c)
{
  struct chart *ch = add(c, "timeline", "RSS, heap and CPU% over time (profiled run)");
  const json_t *prof = c->focus ? json_object_get(c->focus->obj, "profile") : NULL;
  const json_t *tl = json_object_get(json_object_get(prof, "run"), "timeline");
  const json_t *ht = json_object_get(json_object_get(prof, "alloc"), "heap_timeline");
  size_t n = json_array_size(json_object_get(tl, "t")), nh = json_array_size(json_object_get(ht, "t"));
  if (!n && !nh) {
    skip(ch, "no profiled run with a timeline in the results (run the sweep with --profile)");
    return;
  }
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  fputs("# block 0: t rss_MiB cpu_pct; block 1: t heap_MiB\n", df);
  for (size_t i = 0; i < n; i++) {
    double t = report_num(json_array_get(json_object_get(tl, "t"), i));
    double r = report_num(json_array_get(json_object_get(tl, "rss_kb"), i)) / 1024;
    double p = report_num(json_array_get(json_object_get(tl, "cpu_pct"), i));
    if (isfinite(t))
      fprintf(df, "%.17g %s%.17g %s%.17g\n", t, "", isfinite(r) ? r : 0, "", isfinite(p) ? p : 0);
  }
  fputs("?\n\n\n", df);
  for (size_t i = 0; i < nh; i++) {
    double t = report_num(json_array_get(json_object_get(ht, "t"), i));
    double v = report_num(json_array_get(json_object_get(ht, "bytes"), i)) / 1048576.0;
    if (isfinite(t) && isfinite(v))
      fprintf(df, "%.17g %.17g\n", t, v);
  }
  fputs("?\n", df);
  fclose(df);
  struct body b;
  FILE *f = body_open(&b);
  char *t = ps_xasprintf("RSS, heap and CPU%% over time: %s", c->focus->id ? c->focus->id : "");
  title_line(f, t);
  free(t);
  label_axis(f, "x", "seconds");
  label_axis(f, "y", "MiB");
  label_axis(f, "y2", "CPU %");
  fputs("set yrange [0:*]\nset y2range [0:*]\nset y2tics\nset key top left inside\nplot ", f);
  const char *sep = "";
  if (n) {
    fputs("'timeline.dat' index 0 using 1:2 with lines lw 2 title 'RSS (MiB)', \\\n"
          "  '' index 0 using 1:3 axes x1y2 with lines lw 1 lc rgb '#ff7f0e' title 'CPU %'", f);
    sep = ", \\\n  ";
  }
  if (nh)
    fprintf(f, "%s'timeline.dat' index 1 using 1:2 with steps lw 2 lc rgb '#2ca02c' title "
               "'heap (MiB, allocation trace)'", sep);
  fputc('\n', f);
  render(c, ch, &b, 820, 420);
}

static void chart_alloc_sizes(struct ctx *c)
{
  struct chart *ch = add(c, "alloc-sizes", "Allocation sizes (profiled run)");
  const json_t *h = c->focus ? json_object_get(json_object_get(json_object_get(c->focus->obj,
                                                                               "profile"),
                                                               "alloc"),
                                               "histogram")
                             : NULL;
  if (!json_array_size(h)) {
    skip(ch, "no allocation histogram in the results (profile with the allocation tracer)");
    return;
  }
  FILE *df = open_data(c, ch);
  if (!df)
    return;
  fputs("# bucket calls bytes\n", df);
  size_t i;
  json_t *bk;
  json_array_foreach(h, i, bk) {
    double calls = report_num(json_object_get(bk, "calls")),
           bytes = report_num(json_object_get(bk, "bytes"));
    fprintf(df, "%zu %.17g %.17g\n", i, isfinite(calls) ? calls : 0, isfinite(bytes) ? bytes : 0);
  }
  fclose(df);
  struct body b;
  FILE *f = body_open(&b);
  title_line(f, ch->title);
  label_axis(f, "x", "allocation size (bytes)");
  label_axis(f, "y", "calls");
  label_axis(f, "y2", "bytes");
  fputs("set style fill solid 0.6 border -1\nset boxwidth 0.7\nset y2tics\nset yrange [0:*]\n"
        "set y2range [0:*]\nset xtics rotate by -30 left\nset key top right inside\n", f);
  size_t nb = json_array_size(h);
  char **labels = ps_xcalloc(nb, sizeof(char *));
  json_array_foreach(h, i, bk)
    labels[i] = ps_xasprintf("%.0f–%.0f", report_num(json_object_get(bk, "min")),
                             report_num(json_object_get(bk, "max")));
  tics(f, "x", labels, nb, 0);
  for (i = 0; i < nb; i++)
    free(labels[i]);
  free(labels);
  fprintf(f, "set xrange [-0.6:%zu.6]\nplot 'alloc-sizes.dat' using 1:2 with boxes title 'calls', "
             "\\\n  '' using 1:3 axes x1y2 with linespoints lw 2 pt 7 title 'bytes'\n",
          json_array_size(h) - 1);
  render(c, ch, &b, 820, 420);
}

int chart_sweep_write(const struct report_data *d, const struct capacity_plan *plan,
                      const struct report_cell *focus, const char *outdir, struct chart_set *set)
{
  memset(set, 0, sizeof(*set));
  struct ctx c = {d, plan, focus, ps_xasprintf("%s/charts", outdir), set};
  int rc = ps_mkdir_p(c.dir, 0755);
  if (rc < 0) {
    free(c.dir);
    return rc;
  }
  const char *thr_unit = d->thr_records ? "records/s" : "runs/s (1 / run time)";
  char t[160];
  snprintf(t, sizeof(t), "Throughput vs %s", d->x_axis);
  chart_lines(&c, "throughput", t, thr_unit, offsetof(struct report_cell, thr), 1, 0);
  snprintf(t, sizeof(t), "Run time vs %s", d->x_axis);
  chart_lines(&c, "walltime", t, "run time (s)", offsetof(struct report_cell, wall), 1, 0);
  chart_memory(&c);
  chart_scaling(&c);
  chart_heatmap(&c);
  chart_runs(&c);
  chart_stages(&c);
  chart_timeline(&c);
  chart_alloc_sizes(&c);
  char *names[CHART_MAX];
  int ok[CHART_MAX];
  char why[CHART_MAX][512];
  size_t n = 0, idx[CHART_MAX];
  for (size_t i = 0; i < set->n; i++)
    if (set->c[i].ok)
      idx[n] = i, names[n++] = set->c[i].name;
  chart_run(c.dir, names, n, ok, why);
  int drawn = 0;
  for (size_t k = 0; k < n; k++) {
    struct chart *ch = &set->c[idx[k]];
    ch->ok = ok[k];
    if (!ok[k])
      snprintf(ch->why, sizeof(ch->why), "%.*s", (int)sizeof(ch->why) - 1, why[k]);
    drawn += ok[k];
  }
  free(c.dir);
  return drawn;
}
