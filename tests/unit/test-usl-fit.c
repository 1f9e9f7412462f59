/* test-usl-fit.c - the USL fit recovers known alpha, beta, gamma from synthetic throughput,
 * reports honest intervals and R², and refuses too few worker counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "capacity-usl.h"

static double usl(double a, double b, double g, double n)
{
  return g * n / (1 + a * (n - 1) + b * n * (n - 1));
}

/* Deterministic noise in [-1, 1]. */
static double noise(uint64_t *s)
{
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((double)(*s >> 11) / 9007199254740992.0) * 2 - 1;
}

Test(usl, fit_recovers_exact_parameters)
{
  double n[8], x[8];
  for (int i = 0; i < 8; i++)
    n[i] = i + 1, x[i] = usl(0.05, 0.002, 1000, n[i]);
  struct capacity_usl u;
  cr_assert(capacity_usl_fit(n, x, 8, &u), "fit refused: %s", u.reason ? u.reason : "?");
  cr_expect_float_eq(u.alpha, 0.05, 1e-4, "alpha %g, expected 0.05", u.alpha);
  cr_expect_float_eq(u.beta, 0.002, 1e-5, "beta %g, expected 0.002", u.beta);
  cr_expect_float_eq(u.gamma, 1000, 0.5, "gamma %g, expected 1000", u.gamma);
  cr_expect_gt(u.r2, 0.9999, "R² %g on exact data", u.r2);
  cr_expect_float_eq(u.nstar, sqrt(0.95 / 0.002), 1e-2, "N* %g", u.nstar);
  cr_expect_not(u.poor, "an exact fit was flagged poor");
}

Test(usl, fit_recovers_noisy_parameters_with_intervals)
{
  double n[40], x[40];
  uint64_t seed = 42;
  int k = 0;
  for (int w = 1; w <= 8; w++)
    for (int r = 0; r < 5; r++, k++)
      n[k] = w, x[k] = usl(0.1, 0.01, 500, w) * (1 + 0.02 * noise(&seed));
  struct capacity_usl u;
  cr_assert(capacity_usl_fit(n, x, 40, &u));
  cr_expect_float_eq(u.alpha, 0.1, 0.03, "alpha %g, expected 0.1 ± 0.03", u.alpha);
  cr_expect_float_eq(u.beta, 0.01, 0.004, "beta %g, expected 0.01 ± 0.004", u.beta);
  cr_expect_float_eq(u.gamma, 500, 15, "gamma %g, expected 500 ± 15", u.gamma);
  cr_expect(u.ci_alpha[0] <= 0.1 && 0.1 <= u.ci_alpha[1], "alpha CI [%g, %g] misses 0.1",
            u.ci_alpha[0], u.ci_alpha[1]);
  cr_expect(u.ci_beta[0] <= 0.01 && 0.01 <= u.ci_beta[1], "beta CI [%g, %g] misses 0.01",
            u.ci_beta[0], u.ci_beta[1]);
  cr_expect(u.ci_gamma[0] <= 500 && 500 <= u.ci_gamma[1], "gamma CI [%g, %g] misses 500",
            u.ci_gamma[0], u.ci_gamma[1]);
  cr_expect_gt(u.r2, 0.9, "R² %g", u.r2);
  cr_expect_float_eq(u.nstar, sqrt(0.9 / 0.01), 2.0, "N* %g, expected about 9.5", u.nstar);
}

Test(usl, fit_linear_scaling_has_no_peak)
{
  double n[4] = {1, 2, 4, 8}, x[4] = {100, 200, 400, 800};
  struct capacity_usl u;
  cr_assert(capacity_usl_fit(n, x, 4, &u));
  cr_expect_lt(u.alpha, 1e-6, "alpha %g on linear data", u.alpha);
  cr_expect_lt(u.beta, 1e-7, "beta %g on linear data", u.beta);
  cr_expect(u.beta > 0 || isinf(u.nstar), "N* %g should be infinite without coherency cost",
            u.nstar);
}

Test(usl, fit_refuses_one_worker_count)
{
  double n[3] = {1, 1, 1}, x[3] = {10, 11, 12};
  struct capacity_usl u;
  cr_assert_not(capacity_usl_fit(n, x, 3, &u));
  cr_assert_not_null(u.reason);
  cr_expect(strstr(u.reason, "one worker count") != NULL, "reason: %s", u.reason);
}

Test(usl, fit_refuses_two_worker_counts_and_skips_bad_points)
{
  double n[5] = {1, 2, 2, 0, 3}, x[5] = {10, 19, NAN, 5, -1};
  struct capacity_usl u;
  cr_assert_not(capacity_usl_fit(n, x, 5, &u));
  cr_expect_eq(u.npoints, 2, "points kept %zu, expected 2 valid ones", u.npoints);
  cr_expect(strstr(u.reason, "two worker counts") != NULL, "reason: %s", u.reason);
}

Test(usl, fit_flags_poor_fit_on_noise)
{
  double n[9] = {1, 1, 1, 2, 2, 2, 3, 3, 3}, x[9] = {10, 30, 5, 25, 4, 12, 8, 31, 15};
  struct capacity_usl u;
  cr_assert(capacity_usl_fit(n, x, 9, &u));
  cr_expect(u.poor, "noise fitted with R² %g was not flagged poor", u.r2);
}

Test(usl, fit_flat_throughput_is_called_flat_with_alpha_at_most_one)
{
  double n[9] = {1, 1, 1, 2, 2, 2, 4, 4, 4}, x[9] = {100, 103, 98, 99, 101, 104, 97, 100, 102};
  struct capacity_usl u;
  cr_assert(capacity_usl_fit(n, x, 9, &u));
  cr_expect(u.flat, "flat throughput (±4%%) was not called flat");
  cr_expect_leq(u.alpha, 1.0, "alpha %g exceeds 1", u.alpha);
  cr_expect(isnan(u.ci_alpha[1]) || u.ci_alpha[1] <= 1.0, "alpha CI upper %g exceeds 1",
            u.ci_alpha[1]);
}
