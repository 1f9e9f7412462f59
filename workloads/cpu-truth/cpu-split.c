/* cpu-split.c - ground truth for CPU shares: main calls four functions whose work is in a fixed
 * ratio. Self shares: work_a 40%, work_b 30%, work_c 10%, work_d 20% (called from work_c), so
 * work_c's inclusive share is 30%. Usage: cpu-split [SCALE] (SCALE*100 units; default 20).
 */
#include <stdio.h>
#include <stdlib.h>

#include "truth-spin.h"

__attribute__((noinline)) uint64_t work_a(uint64_t acc, unsigned s) { TRUTH_SPIN(4 * s, acc); return acc; }
__attribute__((noinline)) uint64_t work_b(uint64_t acc, unsigned s) { TRUTH_SPIN(3 * s, acc); return acc; }
__attribute__((noinline)) uint64_t work_d(uint64_t acc, unsigned s) { TRUTH_SPIN(2 * s, acc); return acc; }
__attribute__((noinline)) uint64_t work_c(uint64_t acc, unsigned s)
{
  TRUTH_SPIN(1 * s, acc);
  acc = work_d(acc, s);
  __asm__ volatile("" : "+r"(acc)); /* no tail call: work_c stays on the stack */
  return acc;
}

int main(int argc, char **argv)
{
  unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
  uint64_t acc = 1;
  for (unsigned round = 0; round < scale; round++) {
    acc = work_a(acc, 10);
    acc = work_b(acc, 10);
    acc = work_c(acc, 10);
  }
  printf("%llu\n", (unsigned long long)(acc & 0xff));
  return 0;
}
