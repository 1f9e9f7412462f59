/* modmap.h - the module map of the traced process (path, load address, size, GNU build-id),
 * written to the trace as PS_REC_MODULE / PS_REC_UNMODULE so the harness symbolizes offline.
 *
 * Never mallocs or uses stdio. Takes the dynamic loader's lock (dl_iterate_phdr), so never call
 * it from a signal handler. Serialized by a private spinlock.
 */
#ifndef PERFSWEEP_MODMAP_H
#define PERFSWEEP_MODMAP_H

#include <stdint.h>

/* Records every module not yet recorded and an UNMODULE for every recorded one that is gone.
 * Call at start, after dlopen and dlclose returned, and after ps_modmap_reset in a fork child. */
void ps_modmap_sync(void);

/* Forgets what was recorded (in a forked child, whose trace is new). */
void ps_modmap_reset(void);

/* The address range [*lo, *hi) of the module that contains addr (e.g. the probe itself).
 * Returns 0, or -1 when no module contains it. */
int ps_modmap_range_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);

#endif
