/* metrics-read.c - parsing the workload's stage-metrics lines (perfsweep.metrics/1).
 * Tolerant: a bad line is skipped and counted, never fatal, because a crashing workload may
 * leave half a line behind.
 */
#include "metrics-read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *ps_metrics_read(const char *path, long long *records, int *skipped)
{
  *records = -1;
  *skipped = 0;
  char *data = NULL;
  size_t len = 0;
  if (ps_read_file(path, &data, &len) < 0 || len == 0) {
    free(data);
    return NULL;
  }
  json_t *stages = json_array();
  for (char *line = data, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (!*line)
      continue;
    json_t *o = json_loads(line, 0, NULL);
    const char *schema = json_string_value(json_object_get(o, "schema"));
    const char *stage = json_string_value(json_object_get(o, "stage"));
    if (!o || !schema || strcmp(schema, "perfsweep.metrics/1") || !stage) {
      (*skipped)++;
      json_decref(o);
      continue;
    }
    if (!strcmp(stage, "total") && json_is_integer(json_object_get(o, "records_in")))
      *records = json_integer_value(json_object_get(o, "records_in"));
    json_array_append_new(stages, o);
  }
  free(data);
  return stages;
}
