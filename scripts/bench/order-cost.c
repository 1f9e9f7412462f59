/* order-cost.c - what one event's place in a process-wide order costs on this machine, for the
 * allocation tracer's exact mode (docs/performance.md, "Exact recording"): a read of the
 * time-stamp counter (rdtsc, which the CPU may run before earlier loads complete), the same read
 * ordered after them (lfence; rdtsc, and rdtscp), and a shared counter's `lock xadd` alone and
 * with two threads taking from it at once. Prints the median over REPS repetitions of 10^7
 * operations, in ns per operation and thread. A measuring tool of bench-alloc-order.sh, not part
 * of perfsweep. Usage: order-cost [REPS] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define OPS 10000000L

static uint64_t counter; /* the shared counter */
static volatile uint64_t sink;

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void run_rdtsc(void)
{
  uint64_t s = 0;
  for (long i = 0; i < OPS; i++)
    s += __rdtsc();
  sink = s;
}

static void run_lfence_rdtsc(void)
{
  uint64_t s = 0;
  for (long i = 0; i < OPS; i++) {
    _mm_lfence();
    s += __rdtsc();
  }
  sink = s;
}

static void run_rdtscp(void)
{
  uint64_t s = 0;
  unsigned aux;
  for (long i = 0; i < OPS; i++)
    s += __rdtscp(&aux);
  sink = s;
}

static void *run_xadd(void *arg)
{
  (void)arg;
  uint64_t s = 0;
  for (long i = 0; i < OPS; i++)
    s += __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
  sink = s;
  return NULL;
}

static void run_xadd1(void) { run_xadd(NULL); }

static void run_xadd2(void)
{
  pthread_t t;
  if (pthread_create(&t, NULL, run_xadd, NULL) != 0) {
    perror("order-cost: pthread_create");
    exit(1);
  }
  run_xadd(NULL);
  pthread_join(t, NULL);
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || reps > 101) {
    fprintf(stderr, "usage: order-cost [REPS]  (1..101, default 5)\n");
    return 2;
  }
  static const struct {
    const char *name;
    void (*fn)(void);
  } ops[] = {
      {"rdtsc (not ordered after earlier loads)", run_rdtsc},
      {"lfence; rdtsc", run_lfence_rdtsc},
      {"rdtscp", run_rdtscp},
      {"lock xadd, one thread", run_xadd1},
      {"lock xadd, two threads at once", run_xadd2},
  };
  enum { NOPS = sizeof ops / sizeof ops[0] };
  double t[NOPS][101];
  for (int r = 0; r < reps; r++) /* alternating: every operation once per round */
    for (int k = 0; k < NOPS; k++) {
      double a = now();
      ops[k].fn();
      t[k][r] = (now() - a) / (double)OPS * 1e9;
    }
  for (int k = 0; k < NOPS; k++) {
    qsort(t[k], (size_t)reps, sizeof(double), cmp);
    printf("  %-40s %6.2f ns per operation and thread (median of %d)\n", ops[k].name,
           t[k][reps / 2], reps);
  }
  return 0;
}
