/* metrics-read.h - reads the stage-metrics JSON lines a workload appends to $PERFSWEEP_METRICS
 * ({"schema":"perfsweep.metrics/1","stage":...,"seconds":...,"records_in":...}).
 */
#ifndef PERFSWEEP_METRICS_READ_H
#define PERFSWEEP_METRICS_READ_H

#include <jansson.h>

/* Reads path. Returns a new JSON array of the stage objects as written (lines of another
 * schema or not JSON are skipped and counted in *skipped), or NULL when the file does not exist
 * or is empty (the workload reported nothing). *records is set from the "total" stage's
 * records_in, or -1 when there is none. */
json_t *ps_metrics_read(const char *path, long long *records, int *skipped);

#endif
