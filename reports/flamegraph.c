/* flamegraph.c - perfsweep's own flame graph writer: folded stacks ("a;b;c 42") in, one
 * self-contained interactive SVG out (hover shows name, value and share; click zooms; a search
 * box highlights matches; Escape or "Reset zoom" undoes). Every name is XML-escaped. The
 * differential graph keeps the new profile's shape and colours frames by the change of their
 * share against the base: red grew, blue shrank.
 */
#include "flamegraph.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export-write.h"
#include "util.h"

/* ---- the frame tree --------------------------------------------------------------------- */
struct fg_node {
  char *name;
  double value;             /* inclusive */
  struct fg_node **kids;    /* sorted by name */
  size_t nkids, cap;
};

static struct fg_node *fg_node_new(const char *name, size_t len)
{
  struct fg_node *n = ps_xcalloc(1, sizeof *n);
  n->name = ps_xmalloc(len + 1);
  memcpy(n->name, name, len);
  n->name[len] = 0;
  return n;
}

static void fg_node_free(struct fg_node *n)
{
  if (!n)
    return;
  for (size_t i = 0; i < n->nkids; i++)
    fg_node_free(n->kids[i]);
  free(n->kids);
  free(n->name);
  free(n);
}

/* Binary search among n's children; *pos is where name would go. */
static struct fg_node *fg_find(const struct fg_node *n, const char *name, size_t len, size_t *pos)
{
  size_t lo = 0, hi = n->nkids;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const char *k = n->kids[mid]->name;
    int c = strncmp(k, name, len);
    if (c == 0 && k[len] != 0)
      c = 1;
    if (c == 0) {
      if (pos)
        *pos = mid;
      return n->kids[mid];
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (pos)
    *pos = lo;
  return NULL;
}

static struct fg_node *fg_child(struct fg_node *n, const char *name, size_t len)
{
  size_t pos;
  struct fg_node *k = fg_find(n, name, len, &pos);
  if (k)
    return k;
  if (n->nkids == n->cap) {
    n->cap = n->cap ? n->cap * 2 : 4;
    n->kids = ps_xrealloc(n->kids, n->cap * sizeof *n->kids);
  }
  memmove(n->kids + pos + 1, n->kids + pos, (n->nkids - pos) * sizeof *n->kids);
  n->kids[pos] = k = fg_node_new(name, len);
  n->nkids++;
  return k;
}

/* Parses a folded file into a tree under a root named "all". Returns 0, -errno, or -EINVAL for a
 * malformed line (message printed naming the file and the line). */
static int fg_load(const char *path, struct fg_node **out, size_t *maxdepth)
{
  char *data;
  size_t len;
  int r = ps_read_file(path, &data, &len);
  if (r < 0) {
    ps_error("cannot read folded stacks '%s': %s", path, strerror(-r));
    return r;
  }
  struct fg_node *root = fg_node_new("all", 3);
  size_t lineno = 0, depth_max = 0;
  char *save = NULL;
  for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
      line[--l] = 0;
    if (!l)
      continue;
    char *sp = strrchr(line, ' ');
    char *end = NULL;
    double v = sp ? strtod(sp + 1, &end) : 0;
    if (!sp || !end || *end || sp == line || v < 0 || !isfinite(v)) {
      ps_error("'%s' line %zu is not a folded stack (\"frame;frame;... COUNT\"); regenerate it "
               "with 'perfsweep analyze -o DIR TRACE'", path, lineno);
      fg_node_free(root);
      free(data);
      return -EINVAL;
    }
    *sp = 0;
    struct fg_node *n = root;
    root->value += v;
    size_t depth = 0;
    for (char *f = line;;) {
      char *semi = strchr(f, ';');
      size_t fl = semi ? (size_t)(semi - f) : strlen(f);
      n = fg_child(n, f, fl);
      n->value += v;
      depth++;
      if (!semi)
        break;
      f = semi + 1;
    }
    if (depth > depth_max)
      depth_max = depth;
  }
  free(data);
  *out = root;
  *maxdepth = depth_max + 1;
  return 0;
}

/* ---- SVG output ---------------------------------------------------------------------------- */
static void fg_escape(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    default:
      if ((unsigned char)*s < 0x20)
        fputc('?', f);
      else
        fputc(*s, f);
    }
  }
}

static uint32_t fg_hash(const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

struct fg_ctx {
  FILE *f;
  double total, base_total, scale; /* scale: pixels per unit */
  int width, row, pad_top, height;
  const char *unit;
  const struct fg_node *base_root; /* diff mode when set */
  double minpx;
};

static void fg_color(const struct fg_ctx *c, const struct fg_node *n, double delta, char *out,
                     size_t cap)
{
  if (c->base_root) {
    /* delta in share points: saturate at 5 points */
    double t = fabs(delta) / 0.05;
    if (t > 1)
      t = 1;
    int k = (int)(210 - 160 * t);
    if (delta > 0.0005)
      snprintf(out, cap, "rgb(255,%d,%d)", k, k);
    else if (delta < -0.0005)
      snprintf(out, cap, "rgb(%d,%d,255)", k, k);
    else
      snprintf(out, cap, "rgb(235,235,235)");
    return;
  }
  uint32_t h = fg_hash(n->name);
  snprintf(out, cap, "rgb(%u,%u,%u)", 205 + (h % 50), 80 + ((h >> 8) % 130), 30 + ((h >> 16) % 50));
}

static void fg_emit(struct fg_ctx *c, const struct fg_node *n, const struct fg_node *b, double x,
                    int depth)
{
  double w = n->value * c->scale;
  if (w < c->minpx)
    return;
  double y = c->height - 20 - (depth + 1) * c->row;
  double share = c->total > 0 ? n->value / c->total : 0;
  double bshare = b && c->base_total > 0 ? b->value / c->base_total : 0;
  double delta = share - bshare;
  char fill[40];
  fg_color(c, n, delta, fill, sizeof fill);
  fprintf(c->f, "<g class=\"f\" data-x=\"%.6f\" data-w=\"%.6f\" data-d=\"%d\"><title>", x, n->value,
          depth);
  fg_escape(c->f, n->name);
  fprintf(c->f, " (%.15g %s, %.2f%%", n->value, c->unit, share * 100);
  if (c->base_root)
    fprintf(c->f, "; base %.2f%%, %+.2f points", bshare * 100, delta * 100);
  fprintf(c->f, ")</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
                "rx=\"2\"/><text x=\"%.1f\" y=\"%.1f\">",
          10 + x * c->scale, y, w, c->row - 1, fill, 10 + x * c->scale + 3, y + c->row - 5);
  /* a label only where it fits (about 7 px per character); the script relabels on zoom */
  size_t fit = w > 20 ? (size_t)((w - 6) / 7) : 0;
  size_t nl = strlen(n->name);
  if (fit >= nl) {
    fg_escape(c->f, n->name);
  } else if (fit > 2) {
    char *tmp = ps_xstrdup(n->name);
    tmp[fit - 2] = 0;
    fg_escape(c->f, tmp);
    fputs("..", c->f);
    free(tmp);
  }
  fputs("</text></g>\n", c->f);
  double cx = x;
  for (size_t i = 0; i < n->nkids; i++) {
    const struct fg_node *k = n->kids[i];
    const struct fg_node *bk = b ? fg_find(b, k->name, strlen(k->name), NULL) : NULL;
    fg_emit(c, k, bk, cx, depth + 1);
    cx += k->value;
  }
}

static const char fg_script[] =
    "var svg=document.documentElement,W=+svg.getAttribute('data-width'),T=+svg.getAttribute('data-total'),"
    "U=svg.getAttribute('data-unit'),det=document.getElementById('details'),"
    "fs=[].slice.call(document.querySelectorAll('g.f'));\n"
    "function lab(g,w){var t=g.querySelector('text'),n=g.querySelector('title').textContent;"
    "n=n.substring(0,n.lastIndexOf(' ('));var k=Math.floor((w-6)/7);"
    "t.textContent=k>=n.length?n:(k>2?n.substring(0,k-2)+'..':'');}\n"
    "function zoom(x0,w0,d0){var s=(W-20)/w0;fs.forEach(function(g){var x=+g.dataset.x,w=+g.dataset.w,"
    "d=+g.dataset.d,r=g.querySelector('rect'),t=g.querySelector('text');"
    "var vis=x+w>x0+1e-9&&x<x0+w0-1e-9;if(d<d0&&vis){vis=true;g.style.opacity=0.5}else g.style.opacity=1;"
    "if(!vis){g.style.display='none';return}g.style.display='';var nx=Math.max(x,x0),"
    "nw=Math.min(x+w,x0+w0)-nx;r.setAttribute('x',10+(nx-x0)*s);r.setAttribute('width',nw*s);"
    "t.setAttribute('x',13+(nx-x0)*s);lab(g,nw*s);});}\n"
    "fs.forEach(function(g){g.onclick=function(){zoom(+g.dataset.x,+g.dataset.w,+g.dataset.d)};"
    "g.onmouseover=function(){det.textContent=g.querySelector('title').textContent};"
    "g.onmouseout=function(){det.textContent=' '};});\n"
    "function reset(){zoom(0,T,0)}\n"
    "function search(){var q=prompt('Search (regular expression):','');if(q===null)return;var re;"
    "try{re=new RegExp(q)}catch(e){alert('not a regular expression: '+q);return}"
    "fs.forEach(function(g){var n=g.querySelector('title').textContent,r=g.querySelector('rect');"
    "if(!r.dataset.fill)r.dataset.fill=r.getAttribute('fill');"
    "if(q&&re.test(n.substring(0,n.lastIndexOf(' (')))){r.setAttribute('fill','rgb(230,0,230)')}"
    "else r.setAttribute('fill',r.dataset.fill)});"
    "var tot=0,seen=[];fs.forEach(function(g){var n=g.querySelector('title').textContent;"
    "if(q&&re.test(n.substring(0,n.lastIndexOf(' (')))){var x=+g.dataset.x,w=+g.dataset.w;"
    "if(!seen.some(function(s){return x>=s[0]&&x+w<=s[1]+1e-9})){seen.push([x,x+w]);tot+=w}}});"
    "document.getElementById('matched').textContent=q?('Matched: '+(100*tot/T).toFixed(2)+'%'):'';}\n"
    "document.getElementById('reset').onclick=reset;document.getElementById('search').onclick=search;"
    "document.onkeydown=function(e){if(e.key==='Escape')reset();if((e.ctrlKey||e.metaKey)&&e.key==='f')"
    "{e.preventDefault();search()}};\n";

static int fg_write(const char *svg_path, const struct fg_node *root, size_t maxdepth,
                    const struct fg_node *base, const struct flame_opts *o, const char *dflt_title)
{
  struct fg_ctx c = {0};
  c.width = o && o->width > 0 ? o->width : 1200;
  c.row = 16;
  c.unit = o && o->unit ? o->unit : "samples";
  c.total = root->value;
  c.base_total = base ? base->value : 0;
  c.base_root = base;
  c.scale = root->value > 0 ? (c.width - 20) / root->value : 0;
  c.minpx = 0.1;
  c.height = (int)(maxdepth * (size_t)c.row) + 80;
  size_t blen = 0;
  char *buf = NULL;
  c.f = open_memstream(&buf, &blen);
  if (!c.f)
    return -ENOMEM;
  const char *title = o && o->title ? o->title : dflt_title;
  fprintf(c.f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
               "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "xmlns=\"http://www.w3.org/2000/svg\" data-width=\"%d\" data-total=\"%.6f\" "
               "data-unit=\"",
          c.width, c.height, c.width, c.height, c.width, root->value);
  fg_escape(c.f, c.unit);
  fprintf(c.f, "\">\n<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
               "g.f:hover rect{stroke:#000;stroke-width:0.5;cursor:pointer}"
               "#reset,#search{cursor:pointer}</style>\n"
               "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f8\"/>\n"
               "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size:17px\">",
          c.width, c.height, c.width / 2);
  fg_escape(c.f, title);
  fprintf(c.f, "</text>\n<text id=\"reset\" x=\"10\" y=\"24\">Reset zoom</text>"
               "<text id=\"search\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>"
               "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>"
               "<text id=\"details\" x=\"10\" y=\"%d\"> </text>\n",
          c.width - 10, c.width - 10, c.height - 5, c.height - 5);
  fg_emit(&c, root, base, 0, 0);
  fputs("<script type=\"text/ecmascript\"><![CDATA[\n", c.f);
  fputs(fg_script, c.f);
  fputs("]]></script>\n</svg>\n", c.f);
  if (fclose(c.f) != 0) {
    free(buf);
    return -ENOMEM;
  }
  int r = ps_export_write(svg_path, buf, blen);
  free(buf);
  if (r < 0)
    ps_error("cannot write flame graph '%s': %s", svg_path, strerror(-r));
  return r;
}

int flamegraph_write_svg(const char *folded_path, const char *svg_path, const struct flame_opts *o)
{
  struct fg_node *root;
  size_t depth;
  int r = fg_load(folded_path, &root, &depth);
  if (r < 0)
    return r;
  r = fg_write(svg_path, root, depth, NULL, o, "Flame graph");
  fg_node_free(root);
  return r;
}

int flamegraph_write_diff_svg(const char *base_folded, const char *new_folded,
                              const char *svg_path, const struct flame_opts *o)
{
  struct fg_node *base, *cur;
  size_t d1, d2;
  int r = fg_load(base_folded, &base, &d1);
  if (r < 0)
    return r;
  r = fg_load(new_folded, &cur, &d2);
  if (r < 0) {
    fg_node_free(base);
    return r;
  }
  r = fg_write(svg_path, cur, d2, base, o, "Differential flame graph (red grew, blue shrank)");
  fg_node_free(base);
  fg_node_free(cur);
  return r;
}
