/* capacity-usl.h - the Universal Scalability Law fit behind the capacity plan.
 *
 * X(N) = gamma*N / (1 + alpha*(N-1) + beta*N*(N-1)), fitted by bounded Levenberg-Marquardt
 * (0 <= alpha <= 1, beta >= 0) from a linearized start; confidence intervals from the Jacobian.
 */
#ifndef PERFSWEEP_CAPACITY_USL_H
#define PERFSWEEP_CAPACITY_USL_H

#include <stddef.h>

struct capacity_usl {
  int ok;                 /* 1 when a fit was made; else reason says why */
  const char *reason;     /* static sentence, NULL when ok */
  int poor;               /* 1 when R^2 < 0.9 or too few degrees of freedom to trust it */
  int flat;               /* 1 when the medians per worker count differ by less than 10 %:
                           * the workload does not scale with workers (R^2 then means little) */
  double alpha, beta, gamma;
  double ci_alpha[2], ci_beta[2], ci_gamma[2]; /* 95 %; NAN when not estimable */
  double r2;
  size_t npoints, nlevels; /* data points, distinct worker counts */
  double nstar;           /* peak worker count sqrt((1-alpha)/beta); INFINITY when beta == 0 */
  double xmax;            /* X(N*), or the asymptote gamma/alpha when beta == 0 (INFINITY if both 0) */
};

/* Fits the USL to count points (n[i] workers, x[i] throughput, both > 0; other points are
 * ignored). Needs at least 3 distinct worker counts; otherwise out->ok = 0 with a reason.
 * Never fails otherwise; returns out->ok. */
int capacity_usl_fit(const double *n, const double *x, size_t count, struct capacity_usl *out);

/* The fitted throughput at n workers (NAN when the fit is not ok). */
double capacity_usl_eval(const struct capacity_usl *u, double n);

/* Efficiency X(n) / (n * X(1)) of the fitted model (NAN when not ok). */
double capacity_usl_efficiency(const struct capacity_usl *u, double n);

/* Two-sided 95 % Student t quantile for dof degrees of freedom (1.96 for large dof). */
double capacity_t95(size_t dof);

/* Solves the k x k system a x = b in place (k <= 4) by Gaussian elimination with partial
 * pivoting; returns 0, or -1 when the matrix is singular. */
int capacity_solve(double *a, double *b, int k);

#endif
