/* logjson.c - the --log-json writer: each line flushed as it is written, so a log of an
 * interrupted sweep is complete up to the interruption.
 */
#include "logjson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static FILE *log_file;

int ps_log_open(const char *path)
{
  if (!path)
    return 0;
  log_file = fopen(path, "ae");
  return log_file ? 0 : -errno;
}

void ps_log(const char *level, const char *event, json_t *fields)
{
  if (!log_file) {
    json_decref(fields);
    return;
  }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char ts[64];
  size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)tv.tv_usec / 1000);
  json_t *o = json_pack("{ssssss}", "level", level, "time", ts, "event", event);
  if (fields)
    json_object_update(o, fields);
  json_decref(fields);
  char *line = json_dumps(o, JSON_COMPACT);
  if (line) {
    fprintf(log_file, "%s\n", line);
    fflush(log_file);
  }
  free(line);
  json_decref(o);
}

int ps_log_enabled(void) { return log_file != NULL; }

void ps_log_close(void)
{
  if (log_file)
    fclose(log_file);
  log_file = NULL;
}
