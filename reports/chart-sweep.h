/* chart-sweep.h - the report's charts: data files and gnuplot scripts for every chart of a
 * sweep (throughput, run time, memory, scaling with the USL, heatmap, run distribution, stages,
 * timeline and allocation sizes of the profiled run), drawn as SVG and PNG in <out>/charts.
 */
#ifndef PERFSWEEP_CHART_SWEEP_H
#define PERFSWEEP_CHART_SWEEP_H

#include <stddef.h>

#include "capacity-plan.h"
#include "report-data.h"

#define CHART_MAX 12

struct chart {
  char name[32];   /* file stem: charts/<name>.svg and .png */
  char title[160];
  int ok;          /* 1 when drawn */
  char why[512];   /* why not, when !ok (a sentence) */
};

struct chart_set {
  struct chart c[CHART_MAX];
  size_t n;
};

/* Writes every chart into outdir/charts (created). focus is the profiled cell the timeline
 * and allocation charts show (NULL = none). A chart that cannot be drawn (too little data,
 * gnuplot error) is listed with ok = 0 and a reason; the others still are. Returns the number
 * drawn, or a negative errno when outdir/charts cannot be created. */
int chart_sweep_write(const struct report_data *d, const struct capacity_plan *plan,
                      const struct report_cell *focus, const char *outdir, struct chart_set *set);

#endif
