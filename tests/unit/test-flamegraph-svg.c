/* test-flamegraph-svg.c - reports/flamegraph.c: folded stacks in, a well-formed interactive SVG
 * out (escaped names, shares, zoom/search script), the differential colours, and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flamegraph.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-flame-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(flamegraph, .init = setup);

static char *write_tmp(const char *name, const char *text)
{
  char *p = ps_xasprintf("%s/%s", dir, name);
  cr_assert_eq(ps_write_file_atomic(p, text, strlen(text)), 0, "cannot write %s", p);
  return p;
}

static char *slurp(const char *path)
{
  char *d;
  size_t n;
  cr_assert_eq(ps_read_file(path, &d, &n), 0, "cannot read %s", path);
  return d;
}

static int xmllint_ok(const char *path)
{
  if (system("command -v xmllint >/dev/null 2>&1") != 0)
    return -1;
  char *cmd = ps_xasprintf("xmllint --noout '%s' 2>/dev/null", path);
  int r = system(cmd);
  free(cmd);
  return r == 0;
}

Test(flamegraph, svg_escapes_names_and_shows_shares)
{
  char *folded = write_tmp("a.folded", "main;std::operator<<;write \"x\" & y 30\n"
                                       "main;compute 70\n");
  char *svg = ps_xasprintf("%s/a.svg", dir);
  struct flame_opts o = {.title = "CPU <test> & more", .unit = "samples"};
  cr_assert_eq(flamegraph_write_svg(folded, svg, &o), 0);
  char *s = slurp(svg);
  cr_assert_not_null(strstr(s, "std::operator&lt;&lt;"), "operator<< must be escaped");
  cr_assert_null(strstr(s, "operator<<"), "a raw '<' would break the XML");
  cr_assert_not_null(strstr(s, "write &quot;x&quot; &amp; y"), "quotes and & escaped");
  cr_assert_not_null(strstr(s, "CPU &lt;test&gt; &amp; more"), "title escaped");
  cr_assert_not_null(strstr(s, "compute (70 samples, 70.00%)"), "hover text with value and share");
  cr_assert_not_null(strstr(s, "main (100 samples, 100.00%)"));
  cr_assert_not_null(strstr(s, "function zoom("), "click-to-zoom script embedded");
  cr_assert_not_null(strstr(s, "function search("), "search embedded");
  cr_assert_not_null(strstr(s, "<![CDATA["), "script in CDATA");
  int lint = xmllint_ok(svg);
  if (lint >= 0)
    cr_assert_eq(lint, 1, "xmllint rejects %s", svg);
  free(s);
  free(svg);
  free(folded);
}

Test(flamegraph, svg_unit_is_a_parameter)
{
  char *folded = write_tmp("b.folded", "main;alloc_rows 4096\nmain;parse 1024\n");
  char *svg = ps_xasprintf("%s/b.svg", dir);
  struct flame_opts o = {.title = "Allocations", .unit = "bytes"};
  cr_assert_eq(flamegraph_write_svg(folded, svg, &o), 0);
  char *s = slurp(svg);
  cr_assert_not_null(strstr(s, "alloc_rows (4096 bytes, 80.00%)"));
  free(s);
  free(svg);
  free(folded);
}

Test(flamegraph, diff_colours_growth_red_and_shrink_blue)
{
  char *base = write_tmp("base.folded", "main;grow 10\nmain;shrink 80\nmain;same 10\n");
  char *cur = write_tmp("new.folded", "main;grow 60\nmain;shrink 30\nmain;same 10\n");
  char *svg = ps_xasprintf("%s/d.svg", dir);
  cr_assert_eq(flamegraph_write_diff_svg(base, cur, svg, NULL), 0);
  char *s = slurp(svg);
  char *g = strstr(s, "<title>grow ");
  char *k = strstr(s, "<title>shrink ");
  cr_assert(g && k);
  cr_assert_not_null(strstr(g, "+50.00 points"), "grow went from 10%% to 60%%");
  cr_assert(strstr(g, "fill=\"rgb(255,") && strstr(g, "fill=\"rgb(255,") < k,
            "a frame that grew is red");
  char *kfill = strstr(k, "fill=\"rgb(");
  cr_assert_not_null(kfill);
  cr_assert(strstr(kfill, ",255)\"") && strstr(kfill, ",255)\"") - kfill < 30,
            "a frame that shrank is blue: %.40s", kfill);
  free(s);
  free(svg);
  free(base);
  free(cur);
}

Test(flamegraph, malformed_folded_is_einval)
{
  char *bad = write_tmp("bad.folded", "main;work 10\nthis line has no count\n");
  char *svg = ps_xasprintf("%s/bad.svg", dir);
  cr_assert_eq(flamegraph_write_svg(bad, svg, NULL), -EINVAL);
  cr_assert_neq(access(svg, F_OK), 0, "no SVG is left behind for bad input");
  char *missing = ps_xasprintf("%s/none.folded", dir);
  cr_assert_eq(flamegraph_write_svg(missing, svg, NULL), -ENOENT);
  free(bad);
  free(svg);
  free(missing);
}

/* The embedded script, run by node against a minimal fake DOM: hover, zoom, reset, search. */
Test(flamegraph, script_zooms_and_searches)
{
  if (system("command -v node >/dev/null 2>&1") != 0)
    cr_skip_test("node is not installed: cannot run the flame graph's script");
  char *folded = write_tmp("z.folded", "main;parse;lex 20\nmain;parse 10\nmain;compute 70\n");
  char *svg = ps_xasprintf("%s/z.svg", dir), *out = ps_xasprintf("%s/z.json", dir);
  struct flame_opts o = {.title = "zoom", .unit = "samples", .width = 1000};
  cr_assert_eq(flamegraph_write_svg(folded, svg, &o), 0);
  char *cmd = ps_xasprintf("node '%s/cpu/flamegraph-dom.js' '%s' parse lex > '%s'",
                           PERFSWEEP_FIXTURES, svg, out);
  cr_assert_eq(system(cmd), 0, "the flame graph's script failed under node: %s", cmd);
  char *s = slurp(out);
  cr_assert_not_null(strstr(s, "\"frames\":5"), "%s", s);
  cr_assert_not_null(strstr(s, "\"hidden_after_zoom\":1"), "zooming into parse hides compute: %s", s);
  cr_assert_not_null(strstr(s, "\"widest_after_zoom\":980"), "parse fills the width: %s", s);
  cr_assert_not_null(strstr(s, "Matched: 20.00%"), "search for lex matches 20%%: %s", s);
  free(s);
  free(cmd);
  free(out);
  free(svg);
  free(folded);
}
