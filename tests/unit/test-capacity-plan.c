/* test-capacity-plan.c - the capacity plan recovers the analytic optimum of a synthetic batch
 * model, honours --memory-limit and --target-throughput, and explains what it cannot do. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "capacity-plan.h"

/* Batch model: one worker processes B records in o + c*B + d*B^2 seconds (fixed cost per
 * batch, linear work, superlinear cost of big batches), so per-worker throughput peaks at
 * B* = sqrt(o/d); workers scale by the USL with alpha, beta (N* = sqrt((1-alpha)/beta)). */
#define O 0.01
#define C 1e-5
#define D 1e-8 /* B* = sqrt(0.01 / 1e-8) = 1000 */
#define ALPHA 0.04
#define BETA 0.06 /* N* = sqrt(0.96 / 0.06) = 4 */

static double model_thr(double b, double w)
{
  double g = b / (O + C * b + D * b * b);
  return g * w / (1 + ALPHA * (w - 1) + BETA * w * (w - 1));
}

static double model_mem(double b, double w) { return 50e6 + 2e6 * w + 1000 * b * w; }

static size_t make_points(struct capacity_point *p)
{
  static const double bs[] = {100, 300, 1000, 3000, 10000};
  size_t k = 0;
  for (size_t i = 0; i < 5; i++)
    for (int w = 1; w <= 8; w++)
      for (int r = 0; r < 3; r++) {
        double jitter = 1 + 0.004 * ((r % 3) - 1);
        p[k++] = (struct capacity_point){bs[i], w, model_thr(bs[i], w) * jitter,
                                         model_mem(bs[i], w) * jitter};
      }
  return k;
}

Test(capacity, plan_recovers_analytic_batch_optimum)
{
  struct capacity_point pts[200];
  size_t n = make_points(pts);
  struct capacity_opts o = {.cores = 8, .machine_memory = 16e9, .dataset_size = 1e6};
  struct capacity_plan plan;
  cr_assert_eq(capacity_plan_build(pts, n, &o, &plan), 0);
  cr_assert(plan.rec.ok, "no recommendation");
  cr_expect_eq(plan.rec.batch, 1000, "batch %g, analytic optimum 1000", plan.rec.batch);
  cr_expect_eq(plan.rec.workers, 4, "workers %g, analytic optimum N* = 4", plan.rec.workers);
  double expect = model_thr(1000, 4);
  cr_expect_float_eq(plan.rec.throughput, expect, expect * 0.02, "throughput %g vs %g",
                     plan.rec.throughput, expect);
  cr_expect_float_eq(plan.rec.runtime, 1e6 / expect, 1e6 / expect * 0.03, "runtime %g",
                     plan.rec.runtime);
  /* The memory model is stated and recovers the generating coefficients. */
  cr_assert(plan.mem.ok);
  cr_expect_float_eq(plan.mem.b, 1000, 50, "bytes per record x worker %g", plan.mem.b);
  /* Rule of thumb: 75 % of 8 cores = 6 workers, batch 10000 for a million records. */
  cr_expect_eq(plan.rot.workers, 6, "rule-of-thumb workers %g", plan.rot.workers);
  cr_expect_eq(plan.rot.batch, 10000, "rule-of-thumb batch %g", plan.rot.batch);
  cr_expect_lt(plan.rot.throughput, plan.rec.throughput, "the rule of thumb beat the plan");
  capacity_plan_free(&plan);
}

Test(capacity, plan_honours_memory_limit)
{
  struct capacity_point pts[200];
  size_t n = make_points(pts);
  /* 4 workers x batch 1000 needs about 62 MB; allow 59 MB. */
  struct capacity_opts o = {.cores = 8, .memory_limit = 59e6};
  struct capacity_plan plan;
  cr_assert_eq(capacity_plan_build(pts, n, &o, &plan), 0);
  cr_assert(plan.rec.ok);
  cr_expect_leq(plan.rec.memory, 59e6, "recommended config needs %g bytes", plan.rec.memory);
  cr_expect_lt(plan.rec.workers * plan.rec.batch, 4000, "limit ignored: %g x %g",
               plan.rec.workers, plan.rec.batch);
  capacity_plan_free(&plan);
}

Test(capacity, plan_target_picks_fewest_workers)
{
  struct capacity_point pts[200];
  size_t n = make_points(pts);
  double target = model_thr(1000, 2) * 3600 * 0.99; /* reachable with 2 workers */
  struct capacity_opts o = {.cores = 8, .target_per_hour = target};
  struct capacity_plan plan;
  cr_assert_eq(capacity_plan_build(pts, n, &o, &plan), 0);
  cr_expect(plan.meets_target);
  cr_expect_eq(plan.rec.workers, 2, "workers %g for a 2-worker target", plan.rec.workers);
  cr_expect_eq(plan.rec.batch, 1000, "batch %g", plan.rec.batch);
  capacity_plan_free(&plan);

  o.target_per_hour = model_thr(1000, 4) * 3600 * 10; /* unreachable */
  cr_assert_eq(capacity_plan_build(pts, n, &o, &plan), 0);
  cr_expect_not(plan.meets_target);
  int said = 0;
  for (size_t i = 0; i < plan.nnotes; i++)
    said |= strstr(plan.notes[i], "No measured configuration reaches") != NULL;
  cr_expect(said, "an unreachable target was not stated");
  capacity_plan_free(&plan);
}

Test(capacity, plan_single_worker_count_says_no_fit)
{
  struct capacity_point pts[3] = {{100, 1, 50, 1e6}, {1000, 1, 80, 2e6}, {10000, 1, 60, 9e6}};
  struct capacity_opts o = {.cores = 2};
  struct capacity_plan plan;
  cr_assert_eq(capacity_plan_build(pts, 3, &o, &plan), 0);
  cr_expect(plan.rec.ok);
  cr_expect_eq(plan.rec.batch, 1000, "best measured batch %g", plan.rec.batch);
  int said = 0;
  for (size_t i = 0; i < plan.nnotes; i++)
    said |= strstr(plan.notes[i], "only one worker count") != NULL;
  cr_expect(said, "the missing fit was not explained");
  capacity_plan_free(&plan);
}

Test(capacity, plan_without_throughput_is_refused)
{
  struct capacity_point pts[1] = {{100, 1, NAN, NAN}};
  struct capacity_opts o = {0};
  struct capacity_plan plan;
  cr_expect_lt(capacity_plan_build(pts, 1, &o, &plan), 0);
  capacity_plan_free(&plan);
}

Test(capacity, plan_names_a_cheaper_configuration_within_five_percent)
{
  /* X(3)/X(4) = (3/1.44)/(4/1.84) = 0.958: three workers come within 5% of the optimum. */
  struct capacity_point pts[200];
  size_t n = make_points(pts);
  struct capacity_opts o = {.cores = 8, .machine_memory = 16e9};
  struct capacity_plan plan;
  cr_assert_eq(capacity_plan_build(pts, n, &o, &plan), 0);
  cr_assert_eq(plan.rec.workers, 4);
  int found = 0;
  for (size_t i = 0; i < plan.nnotes; i++)
    found |= strstr(plan.notes[i], "Batch 1000 with 3 workers comes within 5%") != NULL;
  cr_expect(found, "no note names batch 1000 with 3 workers as the cheaper near-optimum");
  capacity_plan_free(&plan);
}
