/* sweep-record.h - one run of a sweep as the runner keeps it: the figures its statistics read
 * and the run's JSON object as text (what the journal line and results.json hold), made by hand
 * from the launch result (no jansson objects per run) or from a run object read back.
 *
 * Never prints. The text is the "run" object of docs/results-schema.md, compact, one line.
 */
#ifndef PERFSWEEP_SWEEP_RECORD_H
#define PERFSWEEP_SWEEP_RECORD_H

#include <jansson.h>
#include <stddef.h>

#include "launch.h"

/* The per-run figures summarised in "stats" (NAN when the run has none: null or absent). */
enum {
  PS_REC_WALL,
  PS_REC_USER,
  PS_REC_SYS,
  PS_REC_CPU,
  PS_REC_MAX_RSS,
  PS_REC_AVG_RSS,   /* mem.avg_rss_kb */
  PS_REC_CPU_PCT,   /* cpu_pct.avg */
  PS_REC_THROUGHPUT,
  PS_REC_NV
};

struct ps_run_rec {
  long long index; /* -1 when the object had none */
  int warmup;
  int ok;          /* status "ok" */
  char status[8];  /* "ok", "failed", "crashed", "timeout", "error" ("?" when unknown) */
  double v[PS_REC_NV];
  json_t *stages;  /* the "stages" array when it has members, else NULL (owned) */
  char *error;     /* the "error" sentence, or NULL */
  char *text;      /* the run object, compact JSON (NULL when made without it) */
  size_t len;
};

/* The record of a finished run: r (its launch result), its index and warm-up flag, status (as
 * in the schema), error (the sentence for a status other than ok, else NULL; bytes that are not
 * valid UTF-8 are written as '?'), stages (the
 * workload's metrics array, taken over; NULL = none), records (-1 = none) and skipped (metrics
 * lines skipped). The text has the keys and order of docs/results-schema.md. Cannot fail. */
void ps_run_rec_make(struct ps_run_rec *rec, const struct ps_launch_result *r, unsigned index,
                     int warmup, const char *status, const char *error, json_t *stages,
                     long long records, int skipped);
/* The record of a run object read back (journal line, old run file, a results cell); the text
 * only when with_text. Returns 0, or -1 when run is not an object (rec is then empty). */
int ps_run_rec_from_json(struct ps_run_rec *rec, const json_t *run, int with_text);
/* A malloc'd copy of s in which each byte that does not start a well-formed UTF-8 sequence is
 * '?' (a JSON string must be valid UTF-8; a program's stderr need not be). Never NULL. */
char *ps_utf8_clean(const char *s);
/* Frees what rec owns; rec may be NULL. */
void ps_run_rec_release(struct ps_run_rec *rec);

#endif
