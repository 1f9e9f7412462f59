/* perfsweep.h - the optional API a workload may call to mark stages and counters.
 *
 * Every function is a weak reference: in a program run without perfsweep's probes the calls
 * are no-ops costing one branch, so a workload can keep them in production builds.
 * The probes, when preloaded, define them and record the marks in their traces.
 */
#ifndef PERFSWEEP_H
#define PERFSWEEP_H

#include <stdint.h>

#define PERFSWEEP_EXTERN __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the start and the end of a named stage of the calling thread ("normalize"). */
PERFSWEEP_EXTERN void perfsweep_stage_begin(const char *name) __attribute__((weak));
PERFSWEEP_EXTERN void perfsweep_stage_end(const char *name) __attribute__((weak));
/* Adds delta to a named process-wide counter ("records"). */
PERFSWEEP_EXTERN void perfsweep_counter_add(const char *name, int64_t delta) __attribute__((weak));

static inline void perfsweep_mark_begin(const char *name)
{
  if (perfsweep_stage_begin)
    perfsweep_stage_begin(name);
}

static inline void perfsweep_mark_end(const char *name)
{
  if (perfsweep_stage_end)
    perfsweep_stage_end(name);
}

static inline void perfsweep_count(const char *name, int64_t delta)
{
  if (perfsweep_counter_add)
    perfsweep_counter_add(name, delta);
}

#ifdef __cplusplus
}
#endif

#endif
