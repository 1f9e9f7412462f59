/* report-markdown.c - the same findings as the HTML report for a pull-request comment or a CI
 * summary: findings, tables and links to the PNG charts beside the file. Names are escaped so
 * that `operator<<` or a `<script>` in a command stays text (GitHub renders raw HTML).
 * Also the --json summary of a report.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static void md_text(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '|': case '\\': case '`': case '*': case '_': case '[': case ']': case '#':
      fputc('\\', f);
      fputc(*s, f);
      break;
    case '\n': case '\r': case '\t': fputc(' ', f); break;
    default:
      if ((unsigned char)*s >= 0x20)
        fputc(*s, f);
    }
  }
}

static void md_table(FILE *f, const struct report_table *t)
{
  fputs("\n### ", f);
  md_text(f, t->title);
  fputs("\n\n", f);
  if (t->note) {
    md_text(f, t->note);
    fputs("\n\n", f);
  }
  if (!t->nrow) {
    fputs("(none)\n", f);
    return;
  }
  for (size_t c = 0; c < t->ncol; c++) {
    fputs("| ", f);
    md_text(f, t->head[c]);
    fputc(' ', f);
  }
  fputs("|\n", f);
  for (size_t c = 0; c < t->ncol; c++)
    fputs("| --- ", f);
  fputs("|\n", f);
  for (size_t r = 0; r < t->nrow; r++) {
    for (size_t c = 0; c < t->ncol; c++) {
      fputs("| ", f);
      md_text(f, t->cell[r * t->ncol + c]);
      fputc(' ', f);
    }
    fputs("|\n", f);
  }
}

int report_write_markdown(const struct report *r, const char *path)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return -ENOMEM;
  fputs("## perfsweep report\n\n", f);
  fputs("Results: ", f);
  md_text(f, r->opts.results);
  fprintf(f, " (%zu cells)\n\n### Findings\n\n", r->d.ncells);
  for (size_t i = 0; i < r->nfindings; i++) {
    fputs("- ", f);
    md_text(f, r->findings[i]);
    fputc('\n', f);
  }
  fputs("\n### Charts\n\n", f);
  for (size_t i = 0; i < r->charts.n; i++) {
    const struct chart *c = &r->charts.c[i];
    if (c->ok) {
      fputs("![", f);
      md_text(f, c->title);
      fprintf(f, "](charts/%s.png)\n\n", c->name);
    } else {
      fputs("- ", f);
      md_text(f, c->title);
      fputs(": ", f);
      md_text(f, c->why);
      fputc('\n', f);
    }
  }
  if (r->charts_why[0]) {
    md_text(f, r->charts_why);
    fputc('\n', f);
  }
  for (size_t i = 0; i < r->nflames; i++) {
    const struct report_flame *fl = &r->flames[i];
    fputs("- ", f);
    md_text(f, fl->title);
    if (fl->ok)
      fprintf(f, ": [flame graph](%s)\n", fl->svg);
    else {
      fputs(": ", f);
      md_text(f, fl->why);
      fputc('\n', f);
    }
  }
  for (size_t i = 0; i < r->ntables; i++)
    md_table(f, &r->tables[i]);
  fputs("\n<sub>perfsweep " PERFSWEEP_VERSION " report; the HTML report beside this file has the "
        "interactive charts and flame graphs.</sub>\n", f);
  if (fclose(f) != 0) {
    free(buf);
    return -ENOMEM;
  }
  int rc = ps_write_file_atomic(path, buf, len);
  free(buf);
  return rc;
}

json_t *report_json(const struct report *r, const char *html, const char *md)
{
  json_t *charts = json_array(), *flames = json_array(), *findings = json_array();
  for (size_t i = 0; i < r->charts.n; i++) {
    const struct chart *c = &r->charts.c[i];
    json_t *o = json_pack("{s:s,s:s,s:b}", "name", c->name, "title", c->title, "ok", c->ok);
    if (c->ok) {
      json_object_set_new(o, "svg", json_sprintf("charts/%s.svg", c->name));
      json_object_set_new(o, "png", json_sprintf("charts/%s.png", c->name));
    } else {
      json_object_set_new(o, "reason", json_string(c->why));
    }
    json_array_append_new(charts, o);
  }
  for (size_t i = 0; i < r->nflames; i++) {
    const struct report_flame *fl = &r->flames[i];
    json_array_append_new(flames, json_pack("{s:s,s:b,s:o}", "kind", fl->kind, "ok", fl->ok,
                                            fl->ok ? "svg" : "reason",
                                            json_string(fl->ok ? fl->svg : fl->why)));
  }
  for (size_t i = 0; i < r->nfindings; i++)
    json_array_append_new(findings, json_string(r->findings[i]));
  json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "results", r->opts.results, "out",
                        r->opts.out, "x_axis", r->d.x_axis, "series_axis",
                        r->d.s_axis ? json_string(r->d.s_axis) : json_null(), "findings", findings,
                        "charts", charts, "flamegraphs", flames);
  json_object_set_new(o, "focus_cell", r->focus && r->focus->id ? json_string(r->focus->id)
                                                                : json_null());
  json_object_set_new(o, "capacity", r->have_plan ? capacity_plan_json(&r->plan) : json_null());
  json_object_set_new(o, "html", html ? json_string(html) : json_null());
  json_object_set_new(o, "markdown", md ? json_string(md) : json_null());
  return o;
}
