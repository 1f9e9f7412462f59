/* truth-lib.c - libcpu-truth-lib.so, the library cpu-stress dlopen()s and dlclose()s: its
 * samples must be attributed to truth_lib_work even though it is unloaded before exit.
 */
#include "truth-spin.h"

__attribute__((visibility("default"))) uint64_t truth_lib_work(unsigned units)
{
  uint64_t acc = units;
  TRUTH_SPIN(units, acc);
  return acc;
}
