/* config.h - the probes' view of the PERFSWEEP_* environment (names in harness/probe-env.h),
 * read once at start with getenv and hand-written parsers: no allocation, no stdio.
 */
#ifndef PERFSWEEP_PROBE_CONFIG_H
#define PERFSWEEP_PROBE_CONFIG_H

#include <stdint.h>

struct ps_probe_config {
  int alloc_mode;          /* enum ps_alloc_mode: 0 off, 1 exact, 2 sample */
  uint64_t sample_bytes;   /* mean byte interval of sample mode (default 524288) */
  int alloc_mmap;          /* 1: trace mmap/munmap too */
  int cpu_mode;            /* enum ps_cpu_mode: 0 off, 1 cpu-clock, 2 task-clock, 3 wall */
  unsigned cpu_freq;       /* default 999 */
  int cpu_signal;          /* default SIGPROF */
  unsigned depth;          /* default 64, at most 256 */
  const char *trace_dir;   /* NULL when unset: then every probe stays off */
};

/* Fills c from the environment; unknown or malformed values fall back to the defaults
 * (alloc/cpu mode: off). Never fails. */
void ps_config_read(struct ps_probe_config *c);

/* Parses a decimal unsigned; returns def when s is NULL, empty or malformed. */
uint64_t ps_config_u64(const char *s, uint64_t def);

#endif
