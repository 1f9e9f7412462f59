/* chart-gnuplot.h - runs gnuplot as an external program (no shell) on scripts the report
 * writes, and quotes user-supplied text so that it can never become a gnuplot command.
 */
#ifndef PERFSWEEP_CHART_GNUPLOT_H
#define PERFSWEEP_CHART_GNUPLOT_H

#include <stdio.h>

/* 1 when an executable "gnuplot" is on PATH. */
int chart_gnuplot_available(void);

/* Writes s as a gnuplot single-quoted string ('' for a quote; control characters dropped),
 * which gnuplot never interprets (no backslash escapes, no backquote substitution). */
void chart_quote(FILE *f, const char *s);

/* Writes dir/name.gp: body twice, once into name.svg (svg terminal) and once into name.png
 * (pngcairo, or png when cairo is missing), then runs "gnuplot name.gp" in dir with stderr
 * in dir/name.log. Returns 0, or -1 with a sentence in why (gnuplot failed: see the log). */
int chart_render(const char *dir, const char *name, const char *body, int width, int height,
                 char *why, size_t whylen);

#endif
