/* alloc-print.c - the human summary of an allocation profile (alloc_print_summary): totals,
 * peak, leaks, top sites by bytes / calls / peak, leak sites, the size histogram, and --diff.
 */
#include <math.h>
#include <string.h>

#include "alloc-analysis.h"
#include "util.h"

static double num(const json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static const char *human_bytes(double b, char *buf, size_t n)
{
  static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  double v = fabs(b);
  while (v >= 1024 && i < 4) {
    v /= 1024;
    i++;
  }
  snprintf(buf, n, i ? "%s%.1f %s" : "%s%.0f %s", b < 0 ? "-" : "", v, u[i]);
  return buf;
}

static void where(const json_t *s, char *buf, size_t n)
{
  const char *file = json_string_value(json_object_get(s, "file"));
  const char *mod = json_string_value(json_object_get(s, "module"));
  const char *slash = file ? strrchr(file, '/') : NULL;
  if (file)
    snprintf(buf, n, "%s:%d", slash ? slash + 1 : file, (int)json_integer_value(json_object_get(s, "line")));
  else
    snprintf(buf, n, "%s", mod ? mod : "?");
}

static void table(FILE *out, const json_t *sum, const char *key, const char *title)
{
  const json_t *arr = json_object_get(sum, key);
  if (!json_array_size(arr))
    return;
  fprintf(out, "\n%s\n  %12s %10s %12s %12s  %s\n", title, "bytes", "calls", "peak", "leaked",
          "site");
  size_t i;
  json_t *s;
  json_array_foreach(arr, i, s) {
    char b1[32], b2[32], b3[32], w[256];
    where(s, w, sizeof w);
    fprintf(out, "  %12s %10.0f %12s %12s  %s (%s)\n", human_bytes(num(s, "bytes"), b1, sizeof b1),
            num(s, "calls"), human_bytes(num(s, "peak"), b2, sizeof b2),
            human_bytes(num(s, "leaked_bytes"), b3, sizeof b3),
            json_string_value(json_object_get(s, "function")), w);
  }
}

static void print_diff(FILE *out, const json_t *d)
{
  const json_t *t = json_object_get(d, "totals");
  char a[32], b[32], c[32], e[32];
  fprintf(out, "\nAgainst the base: calls %.0f -> %.0f, bytes %s -> %s, peak heap %s -> %s\n",
          num(t, "calls_base"), num(t, "calls"), human_bytes(num(t, "bytes_base"), a, sizeof a),
          human_bytes(num(t, "bytes"), b, sizeof b), human_bytes(num(t, "peak_heap_base"), c, sizeof c),
          human_bytes(num(t, "peak_heap"), e, sizeof e));
  const json_t *arr = json_object_get(d, "sites");
  if (!json_array_size(arr))
    return;
  fprintf(out, "  %12s %12s %10s  %s\n", "delta bytes", "bytes", "d.calls", "site");
  size_t i;
  json_t *s;
  json_array_foreach(arr, i, s) {
    char w[256];
    where(s, w, sizeof w);
    fprintf(out, "  %12s %12s %+10.0f  %s (%s) %s\n", human_bytes(num(s, "delta_bytes"), a, sizeof a),
            human_bytes(num(s, "bytes"), b, sizeof b), num(s, "delta_calls"),
            json_string_value(json_object_get(s, "function")), w,
            num(s, "delta_bytes") > 0 ? "grew" : "shrank");
  }
}

void alloc_print_summary(FILE *out, const json_t *sum)
{
  if (!sum)
    return;
  const json_t *calls = json_object_get(sum, "calls");
  int sampled = !strcmp(json_string_value(json_object_get(sum, "mode")) ?: "", "sample");
  char b1[32], b2[32], b3[32];
  fprintf(out, "Allocations (%s%s): %.0f calls", sampled ? "sampled, estimated" : "exact",
          "", num(calls, "total"));
  if (sampled) {
    const json_t *ci = json_object_get(calls, "total_ci95");
    fprintf(out, " [95%%: %.0f..%.0f]", json_number_value(json_array_get(ci, 0)),
            json_number_value(json_array_get(ci, 1)));
  }
  fprintf(out, ", %s allocated", human_bytes(num(sum, "bytes"), b1, sizeof b1));
  if (sampled) {
    const json_t *ci = json_object_get(sum, "bytes_ci95");
    fprintf(out, " [95%%: %s..%s]", human_bytes(json_number_value(json_array_get(ci, 0)), b2, sizeof b2),
            human_bytes(json_number_value(json_array_get(ci, 1)), b3, sizeof b3));
  }
  fprintf(out, "\n  by function:");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)calls, k, v) {
    if (strcmp(k, "total") && json_is_number(v))
      fprintf(out, " %s %.0f", k, json_number_value(v));
  }
  fprintf(out, "\n  temporary (freed right after, nothing allocated in between): %.0f\n",
          num(sum, "temporary"));
  fprintf(out, "Peak heap: %s at %.3f s", human_bytes(num(sum, "peak_heap"), b1, sizeof b1),
          num(sum, "peak_heap_time"));
  if (json_is_number(json_object_get(sum, "peak_rss_kb")))
    fprintf(out, "; peak RSS %s", human_bytes(num(sum, "peak_rss_kb") * 1024, b2, sizeof b2));
  const json_t *leaks = json_object_get(sum, "leaks");
  fprintf(out, "\nLeaked at exit: %.0f blocks, %s\n", num(leaks, "blocks"),
          human_bytes(num(leaks, "bytes"), b3, sizeof b3));
  size_t np = json_array_size(json_object_get(sum, "processes"));
  if (np > 1)
    fprintf(out, "Processes traced: %zu\n", np);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(sum, "processes"), i, p) {
    if (json_is_true(json_object_get(p, "crashed")))
      fprintf(out, "  pid %.0f crashed; traced up to the crash\n", num(p, "pid"));
    if (json_is_true(json_object_get(p, "truncated")))
      fprintf(out, "  pid %.0f: its trace ends early (killed?); the last buffer of a thread may be missing\n", num(p, "pid"));
    if (json_is_true(json_object_get(p, "disk_full")))
      fprintf(out, "  pid %.0f: the disk filled up and tracing stopped; numbers are partial\n", num(p, "pid"));
  }
  table(out, sum, "top_sites", "Top sites by bytes allocated");
  table(out, sum, "top_sites_by_calls", "Top sites by calls");
  table(out, sum, "top_sites_by_peak", "Top sites by contribution to the peak heap");
  table(out, sum, "leak_sites", "Leaks at exit by site");
  const json_t *files = json_object_get(sum, "files");
  if (json_object_size(files)) {
    fprintf(out, "\nFiles:");
    json_object_foreach((json_t *)files, k, v) fprintf(out, " %s", json_string_value(v));
    fprintf(out, "\n");
  }
  if (json_object_get(sum, "diff"))
    print_diff(out, json_object_get(sum, "diff"));
}
