/* cpu-threads.c - ground truth for per-thread shares: thread k (1..N) does k units of work,
 * so its share of the samples is k / (N(N+1)/2). Usage: cpu-threads [N [UNITS]] (default 4, 60).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "truth-spin.h"

static unsigned units = 60;

__attribute__((noinline)) static void *thread_work(void *p)
{
  unsigned k = (unsigned)(uintptr_t)p;
  char name[16];
  snprintf(name, sizeof name, "truth-%u", k);
  pthread_setname_np(pthread_self(), name);
  uint64_t acc = k;
  TRUTH_SPIN((uint64_t)k * units, acc);
  return (void *)(uintptr_t)(acc & 1);
}

int main(int argc, char **argv)
{
  unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
  if (argc > 2)
    units = (unsigned)atoi(argv[2]);
  if (n < 1 || n > 64)
    return 3;
  pthread_t th[64];
  for (unsigned k = 1; k <= n; k++)
    if (pthread_create(&th[k - 1], NULL, thread_work, (void *)(uintptr_t)k) != 0)
      return 4;
  for (unsigned k = 1; k <= n; k++)
    pthread_join(th[k - 1], NULL);
  puts("done");
  return 0;
}
