/* unwind.h - how probes capture a stack: libunwind's unw_backtrace (DWARF, works without frame
 * pointers), an unwinder started from a signal's ucontext (for the CPU probe), and a
 * frame-pointer walker (cheap, only correct for code built with frame pointers).
 *
 * None of these call malloc or stdio. unw_backtrace may take libunwind's internal locks the first
 * time a module is seen: do not call it from a signal handler that may have interrupted the
 * dynamic loader (dlopen/dlclose/dl_iterate_phdr); use ps_unwind_fp or a leaf-only sample there.
 */
#ifndef PERFSWEEP_UNWIND_H
#define PERFSWEEP_UNWIND_H

#include <stdint.h>

/* Leading frames whose ip lies in [lo, hi) (the probe's own code) are dropped by
 * ps_unwind_backtrace. Set once at start. */
void ps_unwind_set_skip_range(uintptr_t lo, uintptr_t hi);

/* Return addresses of the caller's stack, innermost first, probe frames dropped. Returns the
 * number stored (0..max). Not for signal handlers that may interrupt the loader. */
int ps_unwind_backtrace(uintptr_t *ips, int max);

/* Like ps_unwind_backtrace (libunwind's step-by-step cursor, slower) and also the stack address
 * each return address was read from: slots[i] holds ips[i] for i >= 1, and slots[0] = the
 * caller's sp - 8 (where the return address into ips[0] was). Used to validate cached stacks.
 * Returns the number of frames stored. */
int ps_unwind_slots(uintptr_t *ips, uintptr_t *slots, int max);

/* Stack of the interrupted code from a signal handler's ucontext (ucontext_t *): ips[0] is the
 * interrupted pc, the rest return addresses. Returns the number stored, 0 on failure. */
int ps_unwind_from_context(void *ucontext, uintptr_t *ips, int max);

/* Frame-pointer walk from (pc, fp): follows the rbp chain while it moves up the stack and stays
 * below stack_hi (0 = sp + 8 MiB); ips[0] = pc. Returns the number stored. Only reads memory in
 * [sp, stack_hi). */
int ps_unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi, uintptr_t *ips,
                 int max);

#endif
