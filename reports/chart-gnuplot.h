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
 * (pngcairo, or png when cairo is missing). Returns 0, or -1 with a sentence in why. */
int chart_write_script(const char *dir, const char *name, const char *body, int width,
                       int height, char *why, size_t whylen);

/* Runs gnuplot in dir on the n scripts names[i].gp (one process; when that fails, one per
 * script to find the culprit, whose messages stay in dir/<name>.log). Sets ok[i], and why[i]
 * for each failure. Returns 0 when all were drawn, else -1. */
int chart_run(const char *dir, char *const *names, size_t n, int *ok, char (*why)[512]);

#endif
