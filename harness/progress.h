/* progress.h - sweep progress on stderr: a redrawn bar with ETA on a terminal, one quiet line
 * per finished run otherwise (CI logs). Colour only when ps_use_color allows (NO_COLOR).
 */
#ifndef PERFSWEEP_PROGRESS_H
#define PERFSWEEP_PROGRESS_H

#include <stddef.h>

struct ps_progress {
  size_t total, done;
  size_t steps; /* runs finished in this session: the ETA's rate (a resume starts at done > 0) */
  double start;
  int tty, color, quiet;
};

/* Starts at `done` of `total` (resume). quiet = 1 prints nothing at all. */
void ps_progress_start(struct ps_progress *p, size_t total, size_t done, int quiet);
/* One run finished: label (cell id), status word ("ok", "failed"...) and its wall time. */
void ps_progress_step(struct ps_progress *p, const char *label, const char *status, double wall);
/* Clears the bar (on a terminal) before other output. */
void ps_progress_end(struct ps_progress *p);

#endif
