/* report-html.c - the self-contained HTML report: inline SVG charts, CSS, a small script that
 * sorts tables (the page reads the same without it), flame graphs in sandboxed frames.
 * Every string from the results passes through html_text/html_attr; the page loads nothing
 * from the network.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report.h"
#include "util.h"

static void html_text(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
        fputc(*s, f);
    }
  }
}

#define html_attr html_text

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1180px;"
    "padding:1em 2em;color:#1b1f24;background:#fff;line-height:1.45}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;"
    "margin-top:2em}.sub{color:#57606a;font-size:.9em}code{background:#f6f8fa;padding:0 .3em;"
    "border-radius:4px}nav a{margin-right:1em}ul.findings li{margin:.3em 0}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1.2em}"
    "figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.5em;background:#fff}"
    "figure svg,figure img{width:100%;height:auto;display:block}figcaption{font-size:.85em;"
    "color:#57606a;margin-top:.3em}.skip{color:#9a6700;background:#fff8c5;padding:.4em .8em;"
    "border-radius:6px}table{border-collapse:collapse;margin:.6em 0;font-size:.88em;width:100%}"
    "th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa;cursor:pointer}tr:nth-child(even) td{background:#fbfcfd}"
    ".note{font-size:.85em;color:#57606a}iframe.flame{width:100%;height:520px;border:1px solid "
    "#d0d7de;border-radius:6px}.wide{overflow-x:auto}";

/* Sorts a table by the clicked column (numbers numerically); no-op without JavaScript. */
static const char script[] =
    "document.querySelectorAll('table.sortable th').forEach(function(th,col){"
    "th.title='click to sort';th.addEventListener('click',function(){"
    "var tb=th.closest('table').tBodies[0];var rows=Array.from(tb.rows);"
    "var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';"
    "var key=function(r){var t=r.cells[col]?r.cells[col].textContent:'';"
    "var n=parseFloat(t.replace(/[^0-9.eE+-]/g,''));return isNaN(n)?t:n;};"
    "rows.sort(function(a,b){var x=key(a),y=key(b);"
    "if(typeof x==='number'&&typeof y==='number')return (x-y)*dir;"
    "return String(x).localeCompare(String(y))*dir;});"
    "rows.forEach(function(r){tb.appendChild(r);});});});";

/* Copies an SVG file into the page from its <svg element on. A file that holds a script
 * (gnuplot never writes one) is embedded as an image instead, where scripts cannot run. */
static void inline_svg(FILE *f, const char *path, const char *alt, const char *prefix)
{
  char *data = NULL;
  size_t len = 0;
  if (ps_read_file(path, &data, &len) < 0) {
    fputs("<p class=\"skip\">chart file missing: ", f);
    html_text(f, path);
    fputs("</p>", f);
    return;
  }
  const char *svg = strstr(data, "<svg");
  if (svg && !strcasestr(svg, "<script") && !strcasestr(svg, "<foreignObject")) {
    /* Ids unique per chart: gnuplot names its defs the same in every file. */
    for (const char *p = svg; *p; p++) {
      if (!strncmp(p, "id='", 4) || !strncmp(p, "id=\"", 4) || !strncmp(p, "#", 1)) {
        size_t k = *p == '#' ? 1 : 4;
        fwrite(p, 1, k, f);
        if (!strncmp(p + k, "gp", 2) || !strncmp(p + k, "gnuplot_", 8) ||
            !strncmp(p + k, "textbox", 7) || !strncmp(p + k, "greybox", 7))
          fprintf(f, "%s-", prefix);
        p += k - 1;
        continue;
      }
      fputc(*p, f);
    }
  } else {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputs("<img alt=\"", f);
    html_attr(f, alt);
    fputs("\" src=\"data:image/svg+xml;base64,", f);
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < len; i += 3) {
      unsigned v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
      fputc(b64[v >> 18 & 63], f);
      fputc(b64[v >> 12 & 63], f);
      fputc(i + 1 < len ? b64[v >> 6 & 63] : '=', f);
      fputc(i + 2 < len ? b64[v & 63] : '=', f);
    }
    fputs("\">", f);
  }
  free(data);
}

static void table(FILE *f, const struct report_table *t)
{
  fputs("<h3 id=\"t-", f);
  html_attr(f, t->id);
  fputs("\">", f);
  html_text(f, t->title);
  fputs("</h3>\n", f);
  if (t->note) {
    fputs("<p class=\"note\">", f);
    html_text(f, t->note);
    fputs("</p>\n", f);
  }
  if (!t->nrow) {
    fputs("<p class=\"note\">(none)</p>\n", f);
    return;
  }
  fputs("<div class=\"wide\"><table class=\"sortable\"><thead><tr>", f);
  for (size_t c = 0; c < t->ncol; c++) {
    fputs("<th>", f);
    html_text(f, t->head[c]);
    fputs("</th>", f);
  }
  fputs("</tr></thead>\n<tbody>\n", f);
  for (size_t r = 0; r < t->nrow; r++) {
    fputs("<tr>", f);
    for (size_t c = 0; c < t->ncol; c++) {
      fputs("<td>", f);
      html_text(f, t->cell[r * t->ncol + c]);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table></div>\n", f);
}

static const struct report_table *find_table(const struct report *r, const char *id)
{
  for (size_t i = 0; i < r->ntables; i++)
    if (!strcmp(r->tables[i].id, id))
      return &r->tables[i];
  return NULL;
}

static void tables(FILE *f, const struct report *r, const char *const *ids)
{
  for (; *ids; ids++) {
    const struct report_table *t = find_table(r, *ids);
    if (t)
      table(f, t);
  }
}

/* <p class="skip">what: why</p>; what may be NULL. */
static void skip_p(FILE *f, const char *what, const char *why)
{
  fputs("<p class=\"skip\">", f);
  if (what) {
    html_text(f, what);
    fputs(": ", f);
  }
  html_text(f, why);
  fputs("</p>\n", f);
}

static void charts(FILE *f, const struct report *r, const char *const *names)
{
  fputs("<div class=\"charts\">\n", f);
  for (size_t i = 0; i < r->charts.n; i++) {
    const struct chart *c = &r->charts.c[i];
    int wanted = 0;
    for (const char *const *n = names; *n; n++)
      wanted |= !strcmp(*n, c->name);
    if (!wanted)
      continue;
    if (!c->ok) {
      skip_p(f, c->title, c->why);
      continue;
    }
    char *svg = ps_xasprintf("%s/charts/%s.svg", r->opts.out, c->name);
    fputs("<figure>", f);
    inline_svg(f, svg, c->title, c->name);
    fputs("<figcaption>", f);
    html_text(f, c->title);
    fputs(" · <a href=\"charts/", f);
    html_attr(f, c->name);
    fputs(".png\">PNG</a> · <a href=\"charts/", f);
    html_attr(f, c->name);
    fputs(".dat\">data</a></figcaption></figure>\n", f);
    free(svg);
  }
  fputs("</div>\n", f);
  if (r->charts_why[0])
    skip_p(f, "Charts", r->charts_why);
}

static void flames(FILE *f, const struct report *r)
{
  if (!r->nflames) {
    fputs("<p class=\"note\">No profiled cell: no flame graphs.</p>\n", f);
    return;
  }
  for (size_t i = 0; i < r->nflames; i++) {
    const struct report_flame *fl = &r->flames[i];
    fputs("<h3>", f);
    html_text(f, fl->title);
    fputs("</h3>\n", f);
    if (!fl->ok) {
      skip_p(f, NULL, fl->why);
      continue;
    }
    /* Each interactive flame graph keeps its own script and ids in a sandboxed frame. */
    char *path = ps_xasprintf("%s/%s", r->opts.out, fl->svg), *data = NULL;
    size_t len = 0;
    if (ps_read_file(path, &data, &len) == 0) {
      const char *svg = strstr(data, "<svg");
      fputs("<iframe class=\"flame\" sandbox=\"allow-scripts\" title=\"", f);
      html_attr(f, fl->title);
      fputs("\" srcdoc=\"", f);
      html_attr(f, svg ? svg : data);
      fputs("\"></iframe>\n<p class=\"note\"><a href=\"", f);
      html_attr(f, fl->svg);
      fputs("\">open the flame graph on its own</a></p>\n", f);
    }
    free(data);
    free(path);
  }
}

int report_write_html(const struct report *r, const char *path)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return -ENOMEM;
  const json_t *root = r->d.root;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>perfsweep report: ", f);
  html_text(f, r->opts.results);
  fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>perfsweep report</h1>\n"
             "<p class=\"sub\">", css);
  html_text(f, r->opts.results);
  fputs(" · workload <code>", f);
  char *wl = json_dumps(json_object_get(json_object_get(root, "workload"), "argv"),
                        JSON_COMPACT | JSON_ENCODE_ANY);
  html_text(f, wl ? wl : "?");
  free(wl);
  fputs("</code> · ", f);
  html_text(f, json_string_value(json_object_get(root, "created")));
  fprintf(f, " · %zu cells</p>\n", r->d.ncells);
  fputs("<nav><a href=\"#findings\">Findings</a><a href=\"#sweep\">Sweep</a>"
        "<a href=\"#capacity\">Capacity plan</a><a href=\"#profile\">Profile</a>"
        "<a href=\"#quality\">Data quality</a><a href=\"#machine\">Machine</a></nav>\n", f);

  fputs("<h2 id=\"findings\">Findings</h2>\n<ul class=\"findings\">\n", f);
  for (size_t i = 0; i < r->nfindings; i++) {
    fputs("<li>", f);
    html_text(f, r->findings[i]);
    fputs("</li>\n", f);
  }
  fputs("</ul>\n", f);

  static const char *const sweep_charts[] = {"throughput", "walltime", "memory", "heatmap",
                                             "runs", "stages", NULL};
  static const char *const cap_charts[] = {"scaling", NULL};
  static const char *const prof_charts[] = {"timeline", "alloc-sizes", NULL};
  static const char *const sweep_tables[] = {"cells", NULL};
  static const char *const cap_tables[] = {"plan", "usl", "efficiency", NULL};
  static const char *const prof_tables[] = {"top-functions", "top-allocations", "leaks", NULL};
  static const char *const q_tables[] = {"quality", NULL};
  static const char *const m_tables[] = {"machine", NULL};

  fputs("<h2 id=\"sweep\">Sweep</h2>\n", f);
  charts(f, r, sweep_charts);
  tables(f, r, sweep_tables);
  fputs("<h2 id=\"capacity\">Capacity plan</h2>\n", f);
  charts(f, r, cap_charts);
  if (!r->have_plan)
    fputs("<p class=\"skip\">No capacity plan: see the findings above.</p>\n", f);
  tables(f, r, cap_tables);
  fputs("<h2 id=\"profile\">Profile</h2>\n", f);
  if (r->focus) {
    fputs("<p class=\"note\">Profiled run of cell <code>", f);
    html_text(f, r->focus->id);
    fputs("</code> (profiling runs are separate from the timed runs).</p>\n", f);
  }
  charts(f, r, prof_charts);
  flames(f, r);
  tables(f, r, prof_tables);
  fputs("<h2 id=\"quality\">Data quality</h2>\n", f);
  tables(f, r, q_tables);
  fputs("<h2 id=\"machine\">Machine</h2>\n", f);
  tables(f, r, m_tables);
  fprintf(f, "<p class=\"note\">Made by perfsweep %s report.</p>\n<script>%s</script>\n"
             "</body>\n</html>\n", PERFSWEEP_VERSION, script);
  if (fclose(f) != 0) {
    free(buf);
    return -ENOMEM;
  }
  int rc = ps_write_file_atomic(path, buf, len);
  free(buf);
  return rc;
}
