/* test-stepdetect-series.c - step detection on series with known answers: a lasting step is
 * found at the commit where it began with its size; single spikes, a short blip, noise inside
 * the threshold and a change at the last point or two are not steps.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "stepdetect.h"

/* +-1% deterministic jitter around level */
static double jit(double level, int i) { return level * (1.0 + 0.01 * ((i * 7919 % 13) - 6) / 6.0); }

Test(stepdetect, finds_lasting_step_and_size)
{
  double y[20];
  for (int i = 0; i < 20; i++)
    y[i] = jit(i < 12 ? 100.0 : 130.0, i);
  struct step s[4];
  size_t n = stepdetect(y, 20, NULL, s, 4);
  cr_assert_eq(n, 1, "one step expected, found %zu", n);
  cr_assert_eq(s[0].index, 12, "the change began at point 12, found %zu", s[0].index);
  cr_assert(fabs(s[0].change - 0.30) < 0.03, "size %+.3f, expected about +30%%", s[0].change);
}

Test(stepdetect, ignores_single_spikes_and_blips)
{
  double y[16];
  for (int i = 0; i < 16; i++)
    y[i] = jit(100.0, i);
  y[5] = 200; /* a single noisy point */
  y[9] = 40;
  y[15] = 300; /* the newest point alone is not a lasting change */
  struct step s[4];
  cr_assert_eq(stepdetect(y, 16, NULL, s, 4), 0, "spikes are not steps");
  y[10] = 180;
  y[11] = 180; /* two high points then back: not lasting */
  cr_assert_eq(stepdetect(y, 16, NULL, s, 4), 0, "a two-point blip is not a step");
}

Test(stepdetect, ignores_change_within_threshold)
{
  double y[20];
  for (int i = 0; i < 20; i++)
    y[i] = jit(i < 10 ? 100.0 : 103.0, i);
  struct step s[2];
  cr_assert_eq(stepdetect(y, 20, NULL, s, 2), 0, "+3%% is under the 5%% threshold");
}

Test(stepdetect, two_steps_in_order)
{
  double y[30];
  for (int i = 0; i < 30; i++)
    y[i] = jit(i < 10 ? 100.0 : i < 20 ? 150.0 : 90.0, i);
  struct step s[4];
  size_t n = stepdetect(y, 30, NULL, s, 4);
  cr_assert_eq(n, 2, "two steps expected, found %zu", n);
  cr_assert_eq(s[0].index, 10);
  cr_assert_eq(s[1].index, 20);
  cr_assert_lt(s[1].change, 0, "the second step is an improvement");
}

Test(stepdetect, needs_min_segment_after_change)
{
  double y[12];
  for (int i = 0; i < 12; i++)
    y[i] = jit(i < 10 ? 100.0 : 150.0, i);
  struct step s[2];
  cr_assert_eq(stepdetect(y, 12, NULL, s, 2), 0, "two points at a new level are not yet lasting");
  struct stepdetect_opts o;
  stepdetect_opts_init(&o);
  o.min_segment = 2;
  cr_assert_eq(stepdetect(y, 12, &o, s, 2), 1, "with --min-segment 2 they are");
  cr_assert_eq(s[0].index, 10);
}
