/* results-export.h - results.json to CSV, markdown and Prometheus text exposition (format 0.0.4).
 * Pure string building; cmd-export does the I/O. Metric names: docs/cli.md.
 */
#ifndef PERFSWEEP_RESULTS_EXPORT_H
#define PERFSWEEP_RESULTS_EXPORT_H

#include <jansson.h>

enum ps_export_format { PS_EXPORT_CSV, PS_EXPORT_MARKDOWN, PS_EXPORT_PROMETHEUS };

/* The whole export as a malloc'd string (the caller frees). Cannot fail on a document that
 * passed ps_results_validate; missing fields give empty CSV cells or omitted samples. */
char *ps_export(const json_t *root, enum ps_export_format format);

/* Checks text against the Prometheus text exposition format (metric and label names, label
 * escaping, sample values, HELP/TYPE lines, TYPE before samples, one TYPE per family,
 * histogram buckets cumulative with le="+Inf" equal to _count). Returns 0, or -1 with the
 * first problem and its line number in err. */
int ps_prometheus_check(const char *text, char *err, size_t errlen);

#endif
