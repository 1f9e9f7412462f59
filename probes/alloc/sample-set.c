/* sample-set.c - lock-free set of sampled live blocks (see sample-set.h).
 * Never: malloc, stdio, locks.
 */
#include "sample-set.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

#define SLOTS (1u << 20)
#define TOMB ((uintptr_t)1)

static uintptr_t *set;
static uint32_t live;
/* A counting filter (64 Ki one-byte counters, 64 KiB: stays in cache) in front of the big table:
 * most frees are of unsampled blocks and end at one cached byte instead of a cache miss. */
uint8_t ps_sample_filter[PS_SAMPLE_FILTER];
static const uint8_t all_maybe[PS_SAMPLE_FILTER] = {[0 ... PS_SAMPLE_FILTER - 1] = 1};
const uint8_t *ps_free_filter = all_maybe;
#define filter ps_sample_filter
#define filter_of ps_sample_filter_of

int ps_sample_set_init(void)
{
  void *m = mmap(NULL, SLOTS * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED)
    return -errno;
  set = m;
  return 0;
}

/* Nearby blocks get nearby slots (bits 4..23 of the address, folded with the bits above): the
 * table is 8 MiB of untouched pages, and a scattering hash made nearly every sample fault a page
 * in (2,200 faults, ~8 us each, on the 2-thread bench). */
static uint32_t slot_of(uintptr_t p) { return (uint32_t)((p >> 4) ^ (p >> 24)) & (SLOTS - 1); }

int ps_sample_set_add(uintptr_t ptr)
{
  if (!set || ptr <= TOMB)
    return -1;
  uint32_t i = slot_of(ptr);
  for (unsigned n = 0; n < 256; n++, i = (i + 1) & (SLOTS - 1)) {
    uintptr_t cur = __atomic_load_n(&set[i], __ATOMIC_RELAXED);
    while (cur == 0 || cur == TOMB) {
      if (__atomic_compare_exchange_n(&set[i], &cur, ptr, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        __atomic_fetch_add(&live, 1, __ATOMIC_RELAXED);
        uint8_t *f = &filter[filter_of(ptr)];
        if (__atomic_load_n(f, __ATOMIC_RELAXED) < 255) /* saturates: then never decremented */
          __atomic_fetch_add(f, 1, __ATOMIC_RELAXED);
        return 0;
      }
    }
  }
  return -1;
}

int ps_sample_set_take(uintptr_t ptr)
{
  if (!set || __atomic_load_n(&filter[filter_of(ptr)], __ATOMIC_RELAXED) == 0)
    return 0;
  uint32_t i = slot_of(ptr);
  for (unsigned n = 0; n < 256; n++, i = (i + 1) & (SLOTS - 1)) {
    uintptr_t cur = __atomic_load_n(&set[i], __ATOMIC_RELAXED);
    if (cur == 0)
      return 0;
    if (cur == ptr) {
      if (__atomic_compare_exchange_n(&set[i], &cur, TOMB, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        __atomic_fetch_sub(&live, 1, __ATOMIC_RELAXED);
        uint8_t *f = &filter[filter_of(ptr)];
        uint8_t c = __atomic_load_n(f, __ATOMIC_RELAXED);
        if (c > 0 && c < 255)
          __atomic_fetch_sub(f, 1, __ATOMIC_RELAXED);
        return 1;
      }
      return 0;
    }
  }
  return 0;
}

void ps_free_filter_use_samples(void)
{
  __atomic_store_n(&ps_free_filter, (const uint8_t *)ps_sample_filter, __ATOMIC_RELEASE);
}
