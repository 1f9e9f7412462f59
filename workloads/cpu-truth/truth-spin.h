/* truth-spin.h - the unit of work of the CPU ground-truth programs: a loop the compiler cannot
 * remove or merge, inlined into each caller so its time is the caller's self time.
 */
#ifndef PERFSWEEP_TRUTH_SPIN_H
#define PERFSWEEP_TRUTH_SPIN_H

#include <stdint.h>

/* One "unit" is TRUTH_UNIT iterations of a dependent multiply-add chain. */
#define TRUTH_UNIT 1000000ull

#define TRUTH_SPIN(units, acc)                                            \
  do {                                                                    \
    uint64_t truth_n_ = (uint64_t)(units) * TRUTH_UNIT;                   \
    for (uint64_t truth_i_ = 0; truth_i_ < truth_n_; truth_i_++) {        \
      (acc) = (acc) * 6364136223846793005ull + 1442695040888963407ull;    \
      __asm__ volatile("" : "+r"(acc));                                   \
    }                                                                     \
  } while (0)

#endif
