/* export-speedscope.c - speedscope's JSON file format: shared frames (name, file, line) and one
 * "sampled" profile per thread whose samples are frame indexes root first, with weights.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export-formats.h"
#include "export-write.h"
#include "util.h"

int export_speedscope_write(const struct cpu_profile *p, const char *path, const char *name)
{
  json_t *root = json_object();
  json_object_set_new(root, "$schema",
                      json_string("https://www.speedscope.app/file-format-schema.json"));
  json_t *frames = json_array();
  for (size_t i = 0; i < p->nframes; i++) {
    const struct cpu_frame *f = &p->frames[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->function));
    if (f->file)
      json_object_set_new(o, "file", json_string(f->file));
    if (f->line > 0)
      json_object_set_new(o, "line", json_integer(f->line));
    json_array_append_new(frames, o);
  }
  json_t *shared = json_object();
  json_object_set_new(shared, "frames", frames);
  json_object_set_new(root, "shared", shared);
  json_t *profiles = json_array();
  for (size_t t = 0; t < p->nthreads; t++) {
    const struct cpu_pthread *th = &p->threads[t];
    if (!th->samples)
      continue;
    json_t *samples = json_array(), *weights = json_array();
    uint64_t total = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
      const struct cpu_stack *s = &p->stacks[i];
      if (s->thread != t)
        continue;
      json_t *st = json_array();
      for (uint32_t k = 0; k < s->n; k++)
        json_array_append_new(st, json_integer(s->frames[k]));
      json_array_append_new(samples, st);
      json_array_append_new(weights, json_integer((json_int_t)s->weight));
      total += s->weight;
    }
    json_t *pr = json_object();
    json_object_set_new(pr, "type", json_string("sampled"));
    char *pname = ps_xasprintf("%s (pid %d, tid %u)", th->name[0] ? th->name : "thread", th->pid,
                               th->tid);
    json_object_set_new(pr, "name", json_string(pname));
    free(pname);
    json_object_set_new(pr, "unit", json_string("none"));
    json_object_set_new(pr, "startValue", json_integer(0));
    json_object_set_new(pr, "endValue", json_integer((json_int_t)total));
    json_object_set_new(pr, "samples", samples);
    json_object_set_new(pr, "weights", weights);
    json_array_append_new(profiles, pr);
  }
  json_object_set_new(root, "profiles", profiles);
  json_object_set_new(root, "name", json_string(name ? name : "perfsweep CPU profile"));
  json_object_set_new(root, "activeProfileIndex", json_integer(0));
  json_object_set_new(root, "exporter", json_string("perfsweep " PERFSWEEP_VERSION));
  char *text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  if (!text)
    return -ENOMEM;
  int r = ps_export_write(path, text, strlen(text));
  free(text);
  if (r < 0)
    ps_error("cannot write speedscope profile '%s': %s", path, strerror(-r));
  return r;
}
