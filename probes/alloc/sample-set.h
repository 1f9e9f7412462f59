/* sample-set.h - sample mode's set of the sampled blocks still live, so that only their frees are
 * recorded. Lock-free open addressing in mmap'd memory; never malloc, never locks.
 */
#ifndef PERFSWEEP_SAMPLE_SET_H
#define PERFSWEEP_SAMPLE_SET_H

#include <stdint.h>

/* Maps the set. Returns 0 or a negative errno. */
int ps_sample_set_init(void);
/* Adds ptr. Returns 0, or -1 when the set is full (the block's free will not be recorded). */
int ps_sample_set_add(uintptr_t ptr);
/* Removes ptr; returns 1 when it was there (its free must be recorded), 0 otherwise. */
int ps_sample_set_take(uintptr_t ptr);

#endif
