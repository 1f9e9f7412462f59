/* report.h - one report in the making: the results view, the capacity plan, the charts, the
 * flame graphs and the tables that the HTML and markdown writers both render.
 */
#ifndef PERFSWEEP_REPORT_H
#define PERFSWEEP_REPORT_H

#include <stddef.h>

#include "capacity-plan.h"
#include "chart-sweep.h"
#include "report-data.h"

struct report_opts {
  const char *results;     /* the results file or folder given on the command line */
  const char *out;         /* output folder */
  int html, md, charts;
  double memory_limit, target_per_hour, dataset_size;
};

struct report_flame {
  char kind[24];   /* "cpu", "alloc-bytes", "alloc-calls" */
  char title[96];
  char svg[64];    /* relative to the output folder: flame/<kind>.svg */
  int ok;
  char why[256];
};

/* A table both writers render: ncol headers then nrow rows of ncol strings (all owned). */
struct report_table {
  char *id, *title, *note; /* note may be NULL */
  size_t ncol, nrow;
  char **head;
  char **cell;             /* row-major nrow x ncol */
};

struct report {
  struct report_opts opts;
  struct report_data d;
  struct capacity_plan plan;
  int have_plan;
  struct capacity_point *pts;
  size_t npts;
  const struct report_cell *focus; /* the profiled cell the profile sections show, or NULL */
  struct chart_set charts;
  char charts_why[256];            /* why no chart at all ("--no-charts"), or "" */
  struct report_flame flames[3];
  size_t nflames;
  struct report_table *tables;
  size_t ntables;
  char **findings;                 /* the sentences atop the report */
  size_t nfindings;
};

/* Builds the plan, the focus cell, the tables and the findings from r->d and r->opts (charts
 * and flame graphs are made separately). Never fails on odd data: it says so in a finding. */
void report_analyse(struct report *r);

/* Draws the flame graphs of the focus cell into <out>/flame via reports/flamegraph.h; a writer
 * that is not available (-ENOSYS) or a missing folded file becomes ok = 0 with a reason. */
void report_flames(struct report *r);

/* Writes <out>/report.html: self-contained (inline SVG, CSS, a little script), every name
 * escaped. Returns 0 or a negative errno. */
int report_write_html(const struct report *r, const char *path);

/* Writes <out>/report.md (PNG charts linked). Returns 0 or a negative errno. */
int report_write_markdown(const struct report *r, const char *path);

/* The machine-readable summary printed by --json (new reference). */
json_t *report_json(const struct report *r, const char *html, const char *md);

/* Frees everything report_analyse and the writers allocated, and r->d. NULL-safe. */
void report_free(struct report *r);

/* Table helpers (report-tables.c). */
struct report_table *report_table_add(struct report *r, const char *id, const char *title,
                                      size_t ncol, const char *const *head);
void report_table_row(struct report_table *t, ...); /* ncol strings (copied); NULL = "–" */
void report_finding(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
