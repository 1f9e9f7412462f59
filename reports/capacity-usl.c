/* capacity-usl.c - fits the Universal Scalability Law to throughput vs workers.
 *
 * Start: gamma from the smallest worker count, alpha and beta from the linearized form
 * N/C(N) - 1 = alpha(N-1) + beta N(N-1); then bounded Levenberg-Marquardt refines all three.
 * Pure arithmetic: no I/O, no allocation beyond the caller's arrays.
 */
#include "capacity-usl.h"

#include <math.h>
#include <string.h>

double capacity_t95(size_t dof)
{
  static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                             2.262, 2.228,  2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
                             2.101, 2.093,  2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
                             2.052, 2.048,  2.045, 2.042};
  if (dof == 0)
    return NAN;
  if (dof < sizeof(t) / sizeof(t[0]))
    return t[dof];
  return dof < 60 ? 2.00 : (dof < 120 ? 1.98 : 1.96);
}

int capacity_solve(double *a, double *b, int k)
{
  for (int c = 0; c < k; c++) {
    int piv = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(a[r * k + c]) > fabs(a[piv * k + c]))
        piv = r;
    if (fabs(a[piv * k + c]) < 1e-300)
      return -1;
    if (piv != c) {
      for (int j = 0; j < k; j++) {
        double tmp = a[c * k + j];
        a[c * k + j] = a[piv * k + j];
        a[piv * k + j] = tmp;
      }
      double tmp = b[c];
      b[c] = b[piv];
      b[piv] = tmp;
    }
    for (int r = c + 1; r < k; r++) {
      double f = a[r * k + c] / a[c * k + c];
      for (int j = c; j < k; j++)
        a[r * k + j] -= f * a[c * k + j];
      b[r] -= f * b[c];
    }
  }
  for (int r = k - 1; r >= 0; r--) {
    double s = b[r];
    for (int j = r + 1; j < k; j++)
      s -= a[r * k + j] * b[j];
    b[r] = s / a[r * k + r];
  }
  return 0;
}

static double model(const double p[3], double n)
{
  return p[2] * n / (1.0 + p[0] * (n - 1.0) + p[1] * n * (n - 1.0));
}

/* Jacobian row of the model at n: d/dalpha, d/dbeta, d/dgamma. */
static void jac(const double p[3], double n, double j[3])
{
  double d = 1.0 + p[0] * (n - 1.0) + p[1] * n * (n - 1.0);
  j[0] = -p[2] * n * (n - 1.0) / (d * d);
  j[1] = -p[2] * n * n * (n - 1.0) / (d * d);
  j[2] = n / d;
}

static double sse(const double p[3], const double *n, const double *x, size_t m)
{
  double s = 0;
  for (size_t i = 0; i < m; i++) {
    double r = x[i] - model(p, n[i]);
    s += r * r;
  }
  return s;
}

/* Bounded Levenberg-Marquardt from p (0 <= alpha <= 1, beta >= 0, gamma > 0); p is updated in place. */
static double lm(double p[3], const double *n, const double *x, size_t m)
{
  double lambda = 1e-3, cur = sse(p, n, x, m);
  for (int it = 0; it < 500; it++) {
    double jtj[9] = {0}, jtr[3] = {0};
    for (size_t i = 0; i < m; i++) {
      double j[3], r = x[i] - model(p, n[i]);
      jac(p, n[i], j);
      for (int a = 0; a < 3; a++) {
        jtr[a] += j[a] * r;
        for (int b = 0; b < 3; b++)
          jtj[a * 3 + b] += j[a] * j[b];
      }
    }
    int improved = 0;
    while (lambda < 1e12) {
      double a[9], d[3];
      memcpy(a, jtj, sizeof(a));
      memcpy(d, jtr, sizeof(d));
      for (int k = 0; k < 3; k++)
        a[k * 3 + k] += lambda * (jtj[k * 3 + k] > 0 ? jtj[k * 3 + k] : 1e-12);
      if (capacity_solve(a, d, 3) == 0) {
        double q[3] = {p[0] + d[0], p[1] + d[1], p[2] + d[2]};
        q[0] = q[0] < 0 ? 0 : (q[0] > 1 ? 1 : q[0]); /* contention is a fraction */
        q[1] = q[1] < 0 ? 0 : q[1];
        if (q[2] <= 0)
          q[2] = p[2] * 0.5;
        double s = sse(q, n, x, m);
        if (s < cur) {
          double rel = (cur - s) / (cur > 0 ? cur : 1);
          memcpy(p, q, sizeof(q));
          cur = s;
          lambda = lambda / 10 < 1e-12 ? 1e-12 : lambda / 10;
          improved = 1;
          if (rel < 1e-12)
            return cur;
          break;
        }
      }
      lambda *= 10;
    }
    if (!improved)
      break;
  }
  return cur;
}

/* Linearized start: with gamma known, N/C - 1 = alpha(N-1) + beta N(N-1), C = X/(gamma N). */
static void linear_start(const double *n, const double *x, size_t m, double gamma, double p[3])
{
  double a[4] = {0}, b[2] = {0};
  for (size_t i = 0; i < m; i++) {
    double c = x[i] / (gamma * n[i]);
    if (c <= 0)
      continue;
    double y = 1.0 / c - 1.0, u = n[i] - 1.0, v = n[i] * (n[i] - 1.0);
    a[0] += u * u, a[1] += u * v, a[2] += u * v, a[3] += v * v;
    b[0] += u * y, b[1] += v * y;
  }
  p[0] = p[1] = 0;
  p[2] = gamma;
  if (capacity_solve(a, b, 2) == 0) {
    p[0] = b[0] > 0 ? (b[0] < 1 ? b[0] : 1) : 0;
    p[1] = b[1] > 0 ? b[1] : 0;
  }
}

int capacity_usl_fit(const double *n_in, const double *x_in, size_t count, struct capacity_usl *u)
{
  memset(u, 0, sizeof(*u));
  u->nstar = u->xmax = u->r2 = NAN;
  for (int k = 0; k < 2; k++)
    u->ci_alpha[k] = u->ci_beta[k] = u->ci_gamma[k] = NAN;

  /* Keep the valid points; scale throughput to about 1 for conditioning. */
  double n[count ? count : 1], x[count ? count : 1], scale = 0, nmin = INFINITY;
  size_t m = 0;
  for (size_t i = 0; i < count; i++) {
    if (!(n_in[i] > 0) || !(x_in[i] > 0) || !isfinite(n_in[i]) || !isfinite(x_in[i]))
      continue;
    n[m] = n_in[i], x[m] = x_in[i], m++;
    scale = x_in[i] > scale ? x_in[i] : scale;
    nmin = n_in[i] < nmin ? n_in[i] : nmin;
  }
  u->npoints = m;
  for (size_t i = 0; i < m; i++) {
    int seen = 0;
    for (size_t j = 0; j < i; j++)
      seen |= n[j] == n[i];
    u->nlevels += !seen;
  }
  /* Flat: the mean throughput per worker count varies by less than 10 %. */
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < m; i++) {
    double sum = 0;
    size_t k = 0;
    for (size_t j = 0; j < m; j++)
      if (n[j] == n[i])
        sum += x[j], k++;
    lo = sum / k < lo ? sum / k : lo;
    hi = sum / k > hi ? sum / k : hi;
  }
  u->flat = u->nlevels >= 2 && hi > 0 && (hi - lo) / hi < 0.10;
  if (u->nlevels < 3) {
    u->reason = u->nlevels <= 1
                    ? "only one worker count was measured: no scalability fit is possible"
                    : "only two worker counts were measured: at least three are needed to fit "
                      "alpha, beta and gamma";
    return 0;
  }
  for (size_t i = 0; i < m; i++)
    x[i] /= scale;

  /* gamma start: mean per-worker throughput at the smallest worker count. */
  double g = 0;
  size_t gn = 0;
  for (size_t i = 0; i < m; i++)
    if (n[i] == nmin)
      g += x[i] / n[i], gn++;
  g /= gn;

  double best[3], bsse = INFINITY;
  double starts[4][3];
  linear_start(n, x, m, g, starts[0]);
  memcpy(best, starts[0], sizeof(best)); /* kept should every fit come out NaN */
  double s1[3] = {0, 0, g}, s2[3] = {0.1, 0.01, g}, s3[3] = {0.5, 0.1, g * 1.5};
  memcpy(starts[1], s1, sizeof(s1));
  memcpy(starts[2], s2, sizeof(s2));
  memcpy(starts[3], s3, sizeof(s3));
  for (int s = 0; s < 4; s++) {
    double p[3];
    memcpy(p, starts[s], sizeof(p));
    double e = lm(p, n, x, m);
    if (e < bsse)
      bsse = e, memcpy(best, p, sizeof(p));
  }

  double mean = 0, sst = 0;
  for (size_t i = 0; i < m; i++)
    mean += x[i];
  mean /= m;
  for (size_t i = 0; i < m; i++)
    sst += (x[i] - mean) * (x[i] - mean);
  u->ok = 1;
  u->alpha = best[0], u->beta = best[1], u->gamma = best[2] * scale;
  u->r2 = sst > 0 ? 1.0 - bsse / sst : (bsse < 1e-18 ? 1.0 : 0.0);

  /* Confidence intervals from s^2 (J^T J)^-1 over the parameters not pinned at a bound. */
  size_t dof = m > 3 ? m - 3 : 0;
  if (dof > 0) {
    double jtj[9] = {0};
    for (size_t i = 0; i < m; i++) {
      double j[3];
      jac(best, n[i], j);
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
          jtj[a * 3 + b] += j[a] * j[b];
    }
    double s2v = bsse / dof, t = capacity_t95(dof), var[3];
    for (int k = 0; k < 3; k++) {
      double a[9], e[3] = {0};
      memcpy(a, jtj, sizeof(a));
      e[k] = 1;
      var[k] = capacity_solve(a, e, 3) == 0 ? e[k] * s2v : NAN;
    }
    double *ci[3] = {u->ci_alpha, u->ci_beta, u->ci_gamma};
    double val[3] = {u->alpha, u->beta, u->gamma}, sc[3] = {1, 1, scale};
    for (int k = 0; k < 3; k++) {
      if (!(var[k] >= 0))
        continue;
      double h = t * sqrt(var[k]) * sc[k];
      ci[k][0] = val[k] - h;
      ci[k][1] = val[k] + h;
      if (k < 2 && ci[k][0] < 0)
        ci[k][0] = 0;
      if (k == 0 && ci[k][1] > 1)
        ci[k][1] = 1;
    }
  }
  u->poor = !(u->r2 >= 0.9) || dof == 0;

  if (u->beta > 0 && u->alpha < 1) {
    u->nstar = sqrt((1.0 - u->alpha) / u->beta);
    if (u->nstar < 1) /* the peak is at one worker: more only slow it down */
      u->nstar = 1;
    u->xmax = capacity_usl_eval(u, u->nstar);
  } else {
    u->nstar = u->beta > 0 ? 1.0 : INFINITY;
    u->xmax = u->beta > 0 ? u->gamma : (u->alpha > 0 ? u->gamma / u->alpha : INFINITY);
  }
  return 1;
}

double capacity_usl_eval(const struct capacity_usl *u, double n)
{
  if (!u->ok)
    return NAN;
  double p[3] = {u->alpha, u->beta, u->gamma};
  return model(p, n);
}

double capacity_usl_efficiency(const struct capacity_usl *u, double n)
{
  if (!u->ok || n <= 0)
    return NAN;
  return 1.0 / (1.0 + u->alpha * (n - 1.0) + u->beta * n * (n - 1.0));
}
