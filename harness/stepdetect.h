/* stepdetect.h - finds where a lasting change began in a series of per-commit medians: a robust
 * change-point search on windowed medians that ignores single noisy points, short blips and
 * changes inside the noise.
 */
#ifndef PERFSWEEP_STEPDETECT_H
#define PERFSWEEP_STEPDETECT_H

#include <stddef.h>

struct stepdetect_opts {
  size_t min_segment;  /* points on each side of a step; default 3 (a lasting change) */
  double threshold;    /* minimum relative size of a step; default 0.05 */
  double sigmas;       /* a step must exceed this many robust sigmas of the noise; default 3 */
};

struct step {
  size_t index;        /* first point of the new level (where the change began) */
  double before, after; /* medians of the segments either side */
  double change;       /* (after - before) / |before|; NAN when before is 0 */
};

void stepdetect_opts_init(struct stepdetect_opts *o);

/* Finds up to max steps in y[0..n), stored in out in increasing index order. Returns the
 * count. Non-finite points are not allowed (the caller filters them). Cannot fail. */
size_t stepdetect(const double *y, size_t n, const struct stepdetect_opts *o, struct step *out,
                  size_t max);

#endif
