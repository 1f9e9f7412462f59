/* budget.h - absolute limits a run must hold (processing time, error rate, peak memory, CPU
 * percent, allocation calls per record, …), read from a JSON or a line-based budget file and
 * checked against a perfsweep.results/1 file. Each breach becomes one alert line.
 */
#ifndef PERFSWEEP_BUDGET_H
#define PERFSWEEP_BUDGET_H

#include <jansson.h>
#include <stddef.h>

struct budget_rule {
  char *cell;      /* glob over cell ids; "*" for every cell */
  char *metric;    /* a name compare_cell_value() knows, after aliases */
  int is_max;      /* 1: value <= limit; 0: value >= limit */
  double limit;
};

struct budget {
  struct budget_rule *rules;
  size_t n;
};

struct budget_alert {
  char *cell;
  char *metric;
  double value;    /* NAN when the metric was not measured */
  double limit;
  int is_max;
  char *line;      /* "budget breached: batch=100 wall 2.31 s > 2 s (max)" */
};

/* Parses a budget from text (JSON when it starts with '{', else lines "[CELL:] METRIC <= N").
 * name is used in messages. Returns 0, or PS_EXIT_USAGE with a sentence in *err (malloc'd). */
int budget_parse(const char *text, const char *name, struct budget *b, char **err);
/* Reads and parses a budget file; same returns as budget_parse (missing file: PS_EXIT_USAGE). */
int budget_load(const char *path, struct budget *b, char **err);
void budget_free(struct budget *b);

/* Checks every rule against every matching cell of results. Returns the number of alerts,
 * stored malloc'd in *alerts (NULL when none). A rule whose metric no matching cell measured is
 * an alert too (value NAN): an unchecked budget must not pass silently. */
size_t budget_check(const struct budget *b, json_t *results, struct budget_alert **alerts);
void budget_alerts_free(struct budget_alert *a, size_t n);

#endif
