/* cpu-inline.c - ground truth for inlined frames: outer() spends 3/4 of its time in code inlined
 * from hot_inner() and 1/4 in its own loop; the profile must show hot_inner (self 75%) under
 * outer (self 25%, inclusive 100% of the work). Usage: cpu-inline [SCALE] (default 20).
 */
#include <stdio.h>
#include <stdlib.h>

#include "truth-spin.h"

static inline __attribute__((always_inline)) uint64_t hot_inner(uint64_t acc, unsigned u)
{
  TRUTH_SPIN(u, acc);
  return acc;
}

__attribute__((noinline)) uint64_t outer(uint64_t acc, unsigned u)
{
  acc = hot_inner(acc, 3 * u);
  TRUTH_SPIN(u, acc);
  __asm__ volatile("" : "+r"(acc));
  return acc;
}

int main(int argc, char **argv)
{
  unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
  uint64_t acc = 1;
  for (unsigned round = 0; round < scale; round++)
    acc = outer(acc, 25);
  printf("%llu\n", (unsigned long long)(acc & 0xff));
  return 0;
}
