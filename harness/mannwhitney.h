/* mannwhitney.h - the Mann-Whitney U test (Wilcoxon rank-sum), two-sided.
 *
 * Exact null distribution for small samples without ties, normal approximation with tie
 * correction and continuity correction otherwise. Pure computation: no I/O, no globals.
 */
#ifndef PERFSWEEP_MANNWHITNEY_H
#define PERFSWEEP_MANNWHITNEY_H

#include <stddef.h>

enum mw_method { MW_EXACT, MW_NORMAL };

struct mw_result {
  double u1;            /* U of sample a: pairs (a_i, b_j) with a_i > b_j, ties count 1/2 */
  double u2;            /* n_a * n_b - u1 */
  double p;             /* two-sided p-value in [0, 1] */
  double z;             /* normal statistic (0 for the exact method) */
  enum mw_method method;
  int ties;             /* 1 when the pooled samples hold tied values */
};

/* Largest n_a * n_b for which the exact distribution is used (without ties). */
#define MW_EXACT_MAX_CELLS 2500

/* Runs the test on a[0..na) and b[0..nb). Returns 0, or -EINVAL when a sample is empty or
 * holds a NaN (r is then untouched). Never allocates beyond O((na+nb) + na*nb) scratch. */
int mw_test(const double *a, size_t na, const double *b, size_t nb, struct mw_result *r);

/* The smallest two-sided p-value samples of these sizes can ever reach (complete separation,
 * no ties): 2 / C(na+nb, na), capped at 1. With 3 and 3 runs it is 0.1. */
double mw_min_p(size_t na, size_t nb);

/* Exact two-sided p-value for statistic u (min(U1, U2)) without ties. -1 when too large. */
double mw_exact_p(double u, size_t na, size_t nb);

#endif
