/* batch-model.c - the analytic model of perfsweep-batch (see batch-model.h). */
#include "batch-model.h"

uint64_t batch_model_batches(const struct batch_params *p)
{
  return (p->items + p->batch_size - 1) / p->batch_size;
}

double batch_model_seconds(const struct batch_params *p)
{
  uint64_t nb = batch_model_batches(p);
  if (nb == 0)
    return 0.0;
  uint64_t rounds = (nb + p->workers - 1) / p->workers;
  uint64_t b = p->batch_size < p->items ? p->batch_size : p->items;
  /* the busiest worker: rounds full batches (an upper bound when the last batch is short) */
  double per_batch = (double)p->batch_cost_ns + (double)b * (double)p->item_cost_ns;
  return (double)rounds * per_batch * 1e-9;
}

double batch_model_cpu_seconds(const struct batch_params *p)
{
  return ((double)batch_model_batches(p) * (double)p->batch_cost_ns +
          (double)p->items * (double)p->item_cost_ns) * 1e-9;
}

uint64_t batch_model_peak_bytes(const struct batch_params *p)
{
  uint64_t b = p->batch_size < p->items ? p->batch_size : p->items;
  uint64_t nb = batch_model_batches(p);
  uint64_t conc = p->workers < nb ? p->workers : nb;
  return conc * b * p->item_bytes;
}

uint64_t batch_model_best_batch(const struct batch_params *p, uint64_t limit_bytes)
{
  uint64_t cap = p->item_bytes ? limit_bytes / (p->workers * p->item_bytes) : p->items;
  if (cap > p->items)
    cap = p->items;
  if (cap == 0)
    return 0;
  if (cap > 10000000) /* the continuous model: time only falls as B grows */
    return cap;
  struct batch_params q = *p;
  uint64_t best = cap;
  q.batch_size = cap;
  double best_t = batch_model_seconds(&q);
  for (uint64_t b = 1; b < cap; b++) { /* exact: the smallest B reaching the least time */
    q.batch_size = b;
    double t = batch_model_seconds(&q);
    if (t < best_t - 1e-12 || (t <= best_t + 1e-12 && b < best)) {
      best = b;
      best_t = t;
    }
  }
  return best;
}
