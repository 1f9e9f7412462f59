/* report-flame.c - draws the flame graphs of the report's profiled cell (CPU samples,
 * allocations by bytes and by calls) with the flame graph writer of reports/flamegraph.h.
 * A writer that is not available or a missing folded file is reported, never fatal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flamegraph.h"
#include "report.h"
#include "util.h"

static void one(struct report *r, const char *kind, const char *title, const char *unit,
                const json_t *prof, const char *section, const char *key)
{
  struct report_flame *f = &r->flames[r->nflames++];
  memset(f, 0, sizeof(*f));
  snprintf(f->kind, sizeof(f->kind), "%s", kind);
  snprintf(f->title, sizeof(f->title), "%s", title);
  snprintf(f->svg, sizeof(f->svg), "flame/%s.svg", kind);
  const char *rel = json_string_value(
      json_object_get(json_object_get(json_object_get(prof, section), "files"), key));
  const char *pdir = json_string_value(json_object_get(prof, "dir"));
  if (!rel || !pdir) {
    snprintf(f->why, sizeof(f->why), "flame graph unavailable: the profile lists no %s file",
             key);
    return;
  }
  char *folded = rel[0] == '/' ? ps_xstrdup(rel)
                 : pdir[0] == '/' ? ps_xasprintf("%s/%s", pdir, rel)
                                  : ps_xasprintf("%s/%s/%s", r->d.dir, pdir, rel);
  char *dir = ps_xasprintf("%s/flame", r->opts.out);
  char *svg = ps_xasprintf("%s/%s", r->opts.out, f->svg);
  if (access(folded, R_OK) != 0) {
    snprintf(f->why, sizeof(f->why), "flame graph unavailable: %s cannot be read (%s)", folded,
             strerror(errno));
  } else if (ps_mkdir_p(dir, 0755) < 0) {
    snprintf(f->why, sizeof(f->why), "flame graph unavailable: cannot create %s", dir);
  } else {
    char full[160];
    snprintf(full, sizeof(full), "%s: %s", title, r->focus->id ? r->focus->id : "");
    struct flame_opts o = {.title = full, .unit = unit, .width = 1100};
    int rc = flamegraph_write_svg(folded, svg, &o);
    if (rc == 0)
      f->ok = 1;
    else if (rc == -ENOSYS)
      snprintf(f->why, sizeof(f->why), "flame graph unavailable: this perfsweep build has no "
               "flame graph writer yet");
    else
      snprintf(f->why, sizeof(f->why), "flame graph unavailable: %s could not be drawn (%s)",
               folded, strerror(-rc));
  }
  free(folded);
  free(dir);
  free(svg);
}

void report_flames(struct report *r)
{
  r->nflames = 0;
  if (!r->focus)
    return;
  const json_t *prof = json_object_get(r->focus->obj, "profile");
  if (json_object_get(prof, "cpu"))
    one(r, "cpu", "CPU samples", "samples", prof, "cpu", "folded");
  if (json_object_get(prof, "alloc")) {
    one(r, "alloc-bytes", "Allocated bytes", "bytes", prof, "alloc", "folded_bytes");
    one(r, "alloc-calls", "Allocation calls", "calls", prof, "alloc", "folded_calls");
  }
}
