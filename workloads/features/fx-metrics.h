/* fx-metrics.h - per-stage metrics of a pipeline run: the table on stdout, the --json object,
 * and the perfsweep.metrics/1 JSON lines appended to $PERFSWEEP_METRICS (docs/metrics.md).
 */
#ifndef PERFSWEEP_FX_METRICS_H
#define PERFSWEEP_FX_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "fx-rows.h"

struct fx_stage {
  const char *name;          /* collect | normalize | compute | sink | total */
  double seconds;
  double cpu_seconds;        /* process CPU time (user + system, all threads) of the stage */
  uint64_t records_in, records_out;
  struct fx_rejects errors;
  uint64_t batches;
  int workers;
  long peak_rss_kb;          /* process peak RSS when the stage ended */
  uint64_t batch_buffer_bytes; /* compute: peak batch-local buffer bytes over all workers */
  uint64_t read_buffer_bytes;  /* collect (streamed): peak bytes of the read buffer + index */
  uint64_t source_rows;      /* compute: normalized rows gathered */
  double worker_cpu_max;     /* compute: thread CPU seconds of the busiest worker */
  int64_t freshness_seconds; /* normalize: reference time - newest accepted record; -1 n/a */
};

/* Monotonic seconds. */
double fx_now(void);
/* CPU seconds (user + system) of the whole process so far, all threads. */
double fx_cpu_now(void);
/* Peak resident set of this process in KiB (getrusage), 0 if unknown. */
long fx_peak_rss_kb(void);
/* Sum of the error counters. */
uint64_t fx_rejects_total(const struct fx_rejects *r);
/* (records_in - errors) / records_in, 1 when nothing came in. */
double fx_stage_success_rate(const struct fx_stage *s);

/* The human table. */
void fx_metrics_print_table(FILE *out, const struct fx_stage *st, int n);
/* One JSON object per stage, comma separated, for embedding in a --json document. */
void fx_metrics_print_json_array(FILE *out, const struct fx_stage *st, int n);
/* Appends one perfsweep.metrics/1 line per stage to path (O_APPEND, one write per line).
 * Returns 0, or -1 with errno set when the file cannot be opened or written. */
int fx_metrics_append(const char *path, const struct fx_stage *st, int n);

#endif
