/* logjson.h - structured log lines for --log-json FILE: one JSON object per line with
 * level, time (UTC ISO 8601), event and the event's fields.
 */
#ifndef PERFSWEEP_LOGJSON_H
#define PERFSWEEP_LOGJSON_H

#include <jansson.h>

/* Opens (appends to) path. Returns 0 or a negative errno. A NULL path turns logging off. */
int ps_log_open(const char *path);
/* Writes {"level","time","event",...fields}; steals the reference to fields (may be NULL).
 * Does nothing when no log is open. Never fails loudly. */
void ps_log(const char *level, const char *event, json_t *fields);
/* 1 when --log-json is on: callers skip building fields nobody reads. */
int ps_log_enabled(void);
void ps_log_close(void);

#endif
