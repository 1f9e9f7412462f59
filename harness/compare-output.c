/* compare-output.c - writes a compare_report as a terminal table (colour optional), markdown for
 * a pull-request comment, and a perfsweep.compare/1 JSON object. Formatting only: the verdicts
 * are decided in compare.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "util.h"

void compare_fmt_value(char *buf, size_t len, double v, const char *unit)
{
  if (isnan(v))
    snprintf(buf, len, "-");
  else if (!strcmp(unit, "s") && fabs(v) < 1.0)
    snprintf(buf, len, "%.3g ms", v * 1000.0);
  else if (!strcmp(unit, "KiB") && fabs(v) >= 1024.0)
    snprintf(buf, len, "%.3g MiB", v / 1024.0);
  else if (!strcmp(unit, "bytes") && fabs(v) >= 1048576.0)
    snprintf(buf, len, "%.3g MiB", v / 1048576.0);
  else if (!strcmp(unit, "bytes") && fabs(v) >= 1024.0)
    snprintf(buf, len, "%.3g KiB", v / 1024.0);
  else if (fabs(v) >= 1e4)
    snprintf(buf, len, "%.0f%s%s", v, unit[0] ? " " : "", unit);
  else if (unit[0])
    snprintf(buf, len, "%.4g %s", v, unit);
  else
    snprintf(buf, len, "%.4g", v);
}

static void compare_fmt_change(char *buf, size_t len, double c)
{
  if (isnan(c))
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%+.1f%%", 100.0 * c);
}

static void compare_fmt_ci(char *buf, size_t len, const struct compare_metric *m)
{
  if (isnan(m->ci_lo))
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "[%+.1f%%, %+.1f%%]", 100.0 * m->ci_lo, 100.0 * m->ci_hi);
}

static void compare_fmt_p(char *buf, size_t len, const struct compare_metric *m)
{
  if (m->deterministic)
    snprintf(buf, len, "exact");
  else if (!m->tested)
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%.3g", m->p_used >= 0 ? m->p_used : m->mw.p);
}

static const char *compare_color(enum compare_verdict v)
{
  switch (v) {
  case CMP_REGRESSED: return "\033[1;31m";
  case CMP_IMPROVED: return "\033[32m";
  case CMP_INCONCLUSIVE: return "\033[33m";
  default: return "";
  }
}

static void compare_print_unmatched(FILE *out, const struct compare_report *r, const char *bullet)
{
  for (size_t i = 0; i < r->nbase_only; i++)
    fprintf(out, "%sonly in base (not compared): %s\n", bullet, r->base_only[i]);
  for (size_t i = 0; i < r->nnew_only; i++)
    fprintf(out, "%sonly in new (not compared): %s\n", bullet, r->new_only[i]);
}

/* One line for all inconclusive metrics of a cell: their names and the first one's reason. */
static void compare_print_inconclusive(FILE *out, const struct compare_cell *c)
{
  const struct compare_metric *first = NULL;
  for (size_t k = 0; k < c->nmetrics; k++) {
    if (c->metrics[k].verdict != CMP_INCONCLUSIVE)
      continue;
    if (!first) {
      first = &c->metrics[k];
      fprintf(out, "%-24s   %s", "", first->metric);
    } else {
      fprintf(out, ", %s", c->metrics[k].metric);
    }
  }
  if (first)
    fprintf(out, ": %s\n", first->reason);
}

void compare_print_table(FILE *out, const struct compare_report *r, int color)
{
  fprintf(out, "base: %s\nnew:  %s\n\n", r->base_path, r->new_path);
  fprintf(out, "%-24s %-22s %14s %14s %8s %18s %8s  %s\n", "cell", "metric", "base", "new",
          "change", "95% CI", "p", "verdict");
  for (size_t i = 0; i < r->ncells; i++) {
    const struct compare_cell *c = &r->cells[i];
    for (size_t k = 0; k < c->nmetrics; k++) {
      const struct compare_metric *m = &c->metrics[k];
      char b[32], n[32], ch[32], ci[48], p[16];
      compare_fmt_value(b, sizeof(b), m->base_median, m->unit);
      compare_fmt_value(n, sizeof(n), m->new_median, m->unit);
      compare_fmt_change(ch, sizeof(ch), m->change);
      compare_fmt_ci(ci, sizeof(ci), m);
      compare_fmt_p(p, sizeof(p), m);
      const char *on = color ? compare_color(m->verdict) : "", *off = color && *on ? "\033[0m" : "";
      fprintf(out, "%-24s %-22s %14s %14s %8s %18s %8s  %s%s%s\n", k ? "" : c->id, m->metric, b,
              n, ch, ci, p, on, compare_verdict_name(m->verdict), off);
      if (m->verdict == CMP_REGRESSED || m->verdict == CMP_IMPROVED)
        fprintf(out, "%-24s   %s\n", "", m->reason);
    }
    compare_print_inconclusive(out, c);
    if (c->nmetrics == 0)
      fprintf(out, "%-24s no metric present on both sides: inconclusive\n", c->id);
    if (c->verdict == CMP_REGRESSED) {
      for (size_t k = 0; k < c->nfunctions; k++)
        fprintf(out, "%-24s   self share grew: %s %.1f%% -> %.1f%%\n", "", c->functions[k].name,
                100 * c->functions[k].base, 100 * c->functions[k].now);
      for (size_t k = 0; k < c->nsites; k++)
        fprintf(out, "%-24s   allocation site grew: %s %.0f -> %.0f bytes\n", "",
                c->sites[k].name, c->sites[k].base, c->sites[k].now);
    }
    if (c->flamegraph)
      fprintf(out, "%-24s   differential flame graph: %s\n", "", c->flamegraph);
    else if (c->flamegraph_note && c->verdict == CMP_REGRESSED)
      fprintf(out, "%-24s   %s\n", "", c->flamegraph_note);
  }
  fputc('\n', out);
  compare_print_unmatched(out, r, "");
  if (r->machine_note)
    fprintf(out, "warning: %s\n", r->machine_note);
  const char *on = color ? compare_color(r->verdict) : "", *off = color && *on ? "\033[0m" : "";
  fprintf(out, "verdict: %s%s%s (%zu regressed, %zu improved, %zu unchanged, %zu inconclusive "
               "cells; %zu unmatched)\n",
          on, compare_verdict_name(r->verdict), off, r->counts[CMP_REGRESSED],
          r->counts[CMP_IMPROVED], r->counts[CMP_UNCHANGED], r->counts[CMP_INCONCLUSIVE],
          r->nbase_only + r->nnew_only);
}

static const char *compare_md_icon(enum compare_verdict v)
{
  switch (v) {
  case CMP_REGRESSED: return ":red_circle: regressed";
  case CMP_IMPROVED: return ":green_circle: improved";
  case CMP_INCONCLUSIVE: return ":yellow_circle: inconclusive";
  default: return ":white_circle: unchanged";
  }
}

/* Markdown table cells cannot hold '|'. */
static void compare_md_text(FILE *out, const char *s)
{
  for (; *s; s++)
    fputs(*s == '|' ? "\\|" : (char[]){*s, 0}, out);
}

static void compare_md_row(FILE *out, const struct compare_cell *c, const struct compare_metric *m)
{
  char b[32], n[32], ch[32], ci[48], p[16];
  compare_fmt_value(b, sizeof(b), m->base_median, m->unit);
  compare_fmt_value(n, sizeof(n), m->new_median, m->unit);
  compare_fmt_change(ch, sizeof(ch), m->change);
  compare_fmt_ci(ci, sizeof(ci), m);
  compare_fmt_p(p, sizeof(p), m);
  fputs("| `", out);
  compare_md_text(out, c->id);
  fprintf(out, "` | %s | %s | %s | %s | %s | %s | %s%s%s |\n", m->metric, b, n, ch, ci, p,
          m->verdict == CMP_REGRESSED ? "**" : "", compare_verdict_name(m->verdict),
          m->verdict == CMP_REGRESSED ? "**" : "");
}

void compare_print_markdown(FILE *out, const struct compare_report *r)
{
  fprintf(out, "## perfsweep compare: %s\n\n", compare_md_icon(r->verdict));
  fprintf(out, "%zu regressed, %zu improved, %zu unchanged, %zu inconclusive cells",
          r->counts[CMP_REGRESSED], r->counts[CMP_IMPROVED], r->counts[CMP_UNCHANGED],
          r->counts[CMP_INCONCLUSIVE]);
  if (r->nbase_only + r->nnew_only)
    fprintf(out, "; %zu unmatched", r->nbase_only + r->nnew_only);
  fprintf(out, ".\n");
  if (r->machine_note)
    fprintf(out, "\n> :warning: %s\n", r->machine_note);
  /* The headline table holds what changed (or could not be decided) and the primary metric of
   * each cell; every metric is in the collapsed table below, so the comment stays short. */
  fprintf(out, "\n| cell | metric | base | new | change | 95%% CI | p | verdict |\n"
               "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |\n");
  for (size_t i = 0; i < r->ncells; i++)
    for (size_t k = 0; k < r->cells[i].nmetrics; k++)
      if (k == 0 || r->cells[i].metrics[k].verdict != CMP_UNCHANGED)
        compare_md_row(out, &r->cells[i], &r->cells[i].metrics[k]);
  fprintf(out, "\n<details><summary>All metrics</summary>\n\n"
               "| cell | metric | base | new | change | 95%% CI | p | verdict |\n"
               "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |\n");
  for (size_t i = 0; i < r->ncells; i++)
    for (size_t k = 0; k < r->cells[i].nmetrics; k++)
      compare_md_row(out, &r->cells[i], &r->cells[i].metrics[k]);
  fprintf(out, "\n</details>\n");
  int details = 0;
  for (size_t i = 0; i < r->ncells; i++) {
    const struct compare_cell *c = &r->cells[i];
    int any = 0;
    for (size_t k = 0; k < c->nmetrics; k++)
      any |= c->metrics[k].verdict != CMP_UNCHANGED;
    if (!any && !c->nfunctions && !c->nsites)
      continue;
    if (!details++)
      fprintf(out, "\n<details><summary>Why, and where it got slower</summary>\n\n");
    fprintf(out, "**`%s`**: %s\n\n", c->id, compare_verdict_name(c->verdict));
    for (size_t k = 0; k < c->nmetrics; k++)
      if (c->metrics[k].verdict != CMP_UNCHANGED)
        fprintf(out, "- %s: %s\n", c->metrics[k].metric, c->metrics[k].reason);
    for (size_t k = 0; k < c->nfunctions; k++)
      fprintf(out, "- self share grew: `%s` %.1f%% → %.1f%%\n", c->functions[k].name,
              100 * c->functions[k].base, 100 * c->functions[k].now);
    for (size_t k = 0; k < c->nsites; k++)
      fprintf(out, "- allocation site grew: `%s` %.0f → %.0f bytes\n", c->sites[k].name,
              c->sites[k].base, c->sites[k].now);
    if (c->flamegraph)
      fprintf(out, "- differential flame graph: `%s`\n", c->flamegraph);
    fputc('\n', out);
  }
  if (details)
    fprintf(out, "</details>\n");
  if (r->nbase_only + r->nnew_only) {
    fputc('\n', out);
    compare_print_unmatched(out, r, "- ");
  }
}

static json_t *compare_num_or_null(double v)
{
  return isfinite(v) ? json_real(v) : json_null();
}

static json_t *compare_growth_json(const struct compare_growth *g, size_t n, const char *what)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_pack("{s:s, s:f, s:f, s:f, s:s}", "name", g[i].name, "base",
                                       g[i].base, "new", g[i].now, "delta", g[i].delta, "unit",
                                       what));
  return a;
}

json_t *compare_report_json(const struct compare_report *r)
{
  json_t *cells = json_array();
  for (size_t i = 0; i < r->ncells; i++) {
    const struct compare_cell *c = &r->cells[i];
    json_t *metrics = json_array();
    for (size_t k = 0; k < c->nmetrics; k++) {
      const struct compare_metric *m = &c->metrics[k];
      json_t *jm = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:o, s:o, s:o, s:f, s:f, s:s, "
                             "s:s}",
                             "metric", m->metric, "unit", m->unit, "higher_is_better",
                             m->higher_is_better, "deterministic", m->deterministic, "n_base",
                             (json_int_t)m->n_base, "n_new", (json_int_t)m->n_new, "base_median",
                             compare_num_or_null(m->base_median), "new_median",
                             compare_num_or_null(m->new_median), "change",
                             compare_num_or_null(m->change), "ci95",
                             isfinite(m->ci_lo) ? json_pack("[f, f]", m->ci_lo, m->ci_hi)
                                                : json_null(),
                             "threshold", m->threshold, "floor", m->floor, "verdict",
                             compare_verdict_name(m->verdict), "reason", m->reason);
      if (m->tested)
        json_object_set_new(jm, "test",
                            json_pack("{s:s, s:f, s:f, s:f, s:b}", "method",
                                      m->mw.method == MW_EXACT ? "exact" : "normal", "u",
                                      m->mw.u1, "p", m->mw.p, "z", m->mw.z, "ties", m->mw.ties));
      if (m->tested && m->p_used >= 0 && m->p_used != m->mw.p)
        json_object_set_new(json_object_get(jm, "test"), "p_adjusted", json_real(m->p_used));
      json_array_append_new(metrics, jm);
    }
    json_t *jc = json_pack("{s:s, s:O, s:s, s:o, s:o, s:o}", "id", c->id, "params",
                           c->params ? c->params : json_null(), "verdict",
                           compare_verdict_name(c->verdict), "metrics", metrics,
                           "functions_grown", compare_growth_json(c->functions, c->nfunctions,
                                                                  "self_share"),
                           "alloc_sites_grown", compare_growth_json(c->sites, c->nsites, "bytes"));
    json_object_set_new(jc, "diff_flamegraph", c->flamegraph ? json_string(c->flamegraph)
                                                             : json_null());
    if (c->flamegraph_note)
      json_object_set_new(jc, "diff_flamegraph_note", json_string(c->flamegraph_note));
    json_array_append_new(cells, jc);
  }
  json_t *bo = json_array(), *no = json_array();
  for (size_t i = 0; i < r->nbase_only; i++)
    json_array_append_new(bo, json_string(r->base_only[i]));
  for (size_t i = 0; i < r->nnew_only; i++)
    json_array_append_new(no, json_string(r->new_only[i]));
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:o, s:{s:o, s:o}}", "schema",
                   "perfsweep.compare/1", "base", r->base_path, "new", r->new_path, "verdict",
                   compare_verdict_name(r->verdict), "counts", "regressed",
                   (json_int_t)r->counts[CMP_REGRESSED], "improved",
                   (json_int_t)r->counts[CMP_IMPROVED], "unchanged",
                   (json_int_t)r->counts[CMP_UNCHANGED], "inconclusive",
                   (json_int_t)r->counts[CMP_INCONCLUSIVE], "cells", cells, "unmatched",
                   "base_only", bo, "new_only", no);
  json_object_set_new(j, "machine_warning",
                      r->machine_note ? json_string(r->machine_note) : json_null());
  return j;
}
