/* sample-set.h - sample mode's set of the sampled blocks still live, so that only their frees are
 * recorded. Lock-free open addressing in mmap'd memory; never malloc, never locks.
 */
#ifndef PERFSWEEP_SAMPLE_SET_H
#define PERFSWEEP_SAMPLE_SET_H

#include <stdint.h>

/* The counting filter in front of the set (see sample-set.c); read by the shim's free fast path. */
#define PS_SAMPLE_FILTER (1u << 16)
extern uint8_t ps_sample_filter[PS_SAMPLE_FILTER];

/* Blocks are 16-byte aligned: bits 4..19 of the address, so the filter aliases blocks 1 MiB
 * apart only (a few live sampled blocks: a false "maybe" is rare, and costs a lookup). */
static inline uint32_t ps_sample_filter_of(uintptr_t p)
{
  return (uint32_t)(p >> 4) & (PS_SAMPLE_FILTER - 1);
}

/* 0 when ptr is certainly not a live sampled block (its free need not be recorded). */
static inline int ps_sample_maybe(uintptr_t ptr)
{
  return __atomic_load_n(&ps_sample_filter[ps_sample_filter_of(ptr)], __ATOMIC_RELAXED) != 0;
}

/* The table free's fast path reads (preload.c), so that it needs no test of the mode: until
 * ps_free_filter_use_samples, and for good in exact mode, a table of "maybe" everywhere (every
 * free takes the recording way); in sample mode and with tracing off, ps_sample_filter. */
extern const uint8_t *ps_free_filter;

/* 0 when the free of ptr can go straight to the real free. */
static inline int ps_free_maybe(uintptr_t ptr)
{
  const uint8_t *f = __atomic_load_n(&ps_free_filter, __ATOMIC_RELAXED);
  return __atomic_load_n(&f[ps_sample_filter_of(ptr)], __ATOMIC_RELAXED) != 0;
}

/* Points ps_free_filter at ps_sample_filter (the real free must be resolved by then). */
void ps_free_filter_use_samples(void);

/* Maps the set. Returns 0 or a negative errno. */
int ps_sample_set_init(void);
/* Adds ptr. Returns 0, or -1 when the set is full (the block's free will not be recorded). */
int ps_sample_set_add(uintptr_t ptr);
/* Removes ptr; returns 1 when it was there (its free must be recorded), 0 otherwise. */
int ps_sample_set_take(uintptr_t ptr);

#endif
