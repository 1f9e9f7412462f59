/* test-mannwhitney-known.c - the Mann-Whitney U test against values computed by hand.
 *
 * Exact p-values: 2 * #{arrangements with U <= u} / C(n1+n2, n1), counted by enumerating every
 * arrangement (the same numbers as R's wilcox.test(exact=TRUE) and scipy's method="exact").
 * Normal approximation: z = (|U1 - n1 n2 / 2| - 0.5) / sqrt(n1 n2 / 12 * ((n+1) - sum(t^3-t) /
 * (n (n-1)))), p = erfc(z / sqrt 2) (scipy's method="asymptotic", use_continuity=True).
 */
#include <criterion/criterion.h>
#include <math.h>

#include "mannwhitney.h"

#define NEAR(x, y, eps) (fabs((x) - (y)) < (eps))

Test(mannwhitney, exact_complete_separation_three_each)
{
  /* U = 0; 2 of the 20 arrangements are as extreme: p = 2/20 = 0.1 */
  double a[] = {1, 2, 3}, b[] = {4, 5, 6};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 3, b, 3, &r), 0);
  cr_assert_eq(r.method, MW_EXACT, "no ties and small: exact method expected");
  cr_assert(NEAR(r.u1, 0, 1e-12), "U1 = %g, expected 0", r.u1);
  cr_assert(NEAR(r.p, 0.1, 1e-12), "p = %g, expected 0.1", r.p);
}

Test(mannwhitney, exact_complete_separation_five_each)
{
  /* p = 2 / C(10,5) = 2/252 = 0.0079365 */
  double a[] = {6, 7, 8, 9, 10}, b[] = {1, 2, 3, 4, 5};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 5, b, 5, &r), 0);
  cr_assert(NEAR(r.u1, 25, 1e-12), "U1 = %g, expected 25", r.u1);
  cr_assert(NEAR(r.p, 2.0 / 252.0, 1e-12), "p = %g, expected 0.0079365", r.p);
}

Test(mannwhitney, exact_interleaved_four_each)
{
  /* a = 1,3,5,7 vs b = 2,4,6,8: U1 = 6; 24 of 70 arrangements have U <= 6: p = 48/70 */
  double a[] = {1, 3, 5, 7}, b[] = {2, 4, 6, 8};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 4, b, 4, &r), 0);
  cr_assert(NEAR(r.u1, 6, 1e-12), "U1 = %g", r.u1);
  cr_assert(NEAR(r.p, 48.0 / 70.0, 1e-12), "p = %g, expected 0.685714", r.p);
}

Test(mannwhitney, exact_unequal_sizes)
{
  /* a = 1,2,3,11 vs b = 4..8: U1 = 5; 18 of 126 arrangements: p = 36/126 = 0.285714 */
  double a[] = {1, 2, 3, 11}, b[] = {4, 5, 6, 7, 8};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 4, b, 5, &r), 0);
  cr_assert(NEAR(r.p, 36.0 / 126.0, 1e-12), "p = %g, expected 0.285714", r.p);
  /* a = 1,2,4 vs b = 3,5..9: U1 = 1; 2 of 84: p = 4/84 = 0.047619, and symmetric in order */
  double c[] = {1, 2, 4}, d[] = {3, 5, 6, 7, 8, 9};
  cr_assert_eq(mw_test(d, 6, c, 3, &r), 0);
  cr_assert(NEAR(r.p, 4.0 / 84.0, 1e-12), "p = %g, expected 0.047619", r.p);
}

Test(mannwhitney, normal_with_ties)
{
  /* a = 1,2,2,3,4 vs b = 2,3,3,5,6: ties -> normal; U1 = 6, z = 1.284895, p = 0.198829 */
  double a[] = {1, 2, 2, 3, 4}, b[] = {2, 3, 3, 5, 6};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 5, b, 5, &r), 0);
  cr_assert_eq(r.method, MW_NORMAL, "ties must switch to the normal approximation");
  cr_assert(r.ties);
  cr_assert(NEAR(r.u1, 6, 1e-12), "U1 = %g", r.u1);
  cr_assert(NEAR(r.z, 1.2848950984, 1e-8), "z = %.10f", r.z);
  cr_assert(NEAR(r.p, 0.1988289440, 1e-8), "p = %.10f", r.p);
  /* a = 1,1,2,2,2,3 vs b = 2,3,3,4,4,4,5: U1 = 3.5, z = 2.494549, p = 0.0126117 */
  double c[] = {1, 1, 2, 2, 2, 3}, d[] = {2, 3, 3, 4, 4, 4, 5};
  cr_assert_eq(mw_test(c, 6, d, 7, &r), 0);
  cr_assert(NEAR(r.u1, 3.5, 1e-12), "U1 = %g", r.u1);
  cr_assert(NEAR(r.p, 0.0126117340, 1e-8), "p = %.10f", r.p);
}

Test(mannwhitney, all_tied_is_p_one)
{
  double a[] = {5, 5, 5}, b[] = {5, 5, 5, 5};
  struct mw_result r;
  cr_assert_eq(mw_test(a, 3, b, 4, &r), 0);
  cr_assert(NEAR(r.p, 1.0, 1e-12), "identical constant samples: p = %g", r.p);
}

Test(mannwhitney, large_samples_use_normal)
{
  double a[60], b[60];
  for (int i = 0; i < 60; i++) {
    a[i] = i;
    b[i] = i + 0.5;
  }
  struct mw_result r;
  cr_assert_eq(mw_test(a, 60, b, 60, &r), 0);
  cr_assert_eq(r.method, MW_NORMAL, "60 x 60 exceeds the exact table");
  cr_assert_gt(r.p, 0.5, "heavily overlapping samples: p = %g", r.p);
}

Test(mannwhitney, min_p_guard)
{
  cr_assert(NEAR(mw_min_p(3, 3), 0.1, 1e-12), "3+3: %g", mw_min_p(3, 3));
  cr_assert(NEAR(mw_min_p(4, 4), 2.0 / 70.0, 1e-12));
  cr_assert(NEAR(mw_min_p(5, 5), 2.0 / 252.0, 1e-12));
  cr_assert(NEAR(mw_min_p(1, 1), 1.0, 1e-12));
}

Test(mannwhitney, rejects_bad_input)
{
  double a[] = {1, NAN}, b[] = {1, 2};
  struct mw_result r;
  cr_assert_lt(mw_test(a, 2, b, 2, &r), 0, "NaN must be refused");
  cr_assert_lt(mw_test(a, 0, b, 2, &r), 0, "empty sample must be refused");
}
