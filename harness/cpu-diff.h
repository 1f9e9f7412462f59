/* cpu-diff.h - comparing a CPU profile with a base: resolves the base (a profile folder, a
 * cpu.*.pst trace or a .folded file) to folded stacks, and lists the functions whose self share
 * changed most (the "diff" of the summary; the differential flame graph shows the same).
 */
#ifndef PERFSWEEP_CPU_DIFF_H
#define PERFSWEEP_CPU_DIFF_H

#include <jansson.h>

#include "cpu-profile.h"

/* Path of folded stacks for base: <dir>/cpu.folded for a folder, a .folded file as is, or for a
 * cpu.*.pst trace a file written into out_dir (cpu-base.folded). Returns a malloc'd path, or
 * NULL with a message printed (*err = negative errno). */
char *cpu_diff_base_folded(const char *base, const char *out_dir, int *err);

/* The functions whose self or total share moved most between base_folded and p, at most n rows:
 * [{"function", "base_self_share", "self_share", "self_delta", "base_total_share", "total_share",
 * "total_delta"}], sorted by |self_delta| then |total_delta|. NULL with a message when
 * base_folded cannot be read. */
json_t *cpu_diff_functions(const struct cpu_profile *p, const char *base_folded, size_t n);

#endif
