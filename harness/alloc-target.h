/* alloc-target.h - can a command be profiled by LD_PRELOAD? Resolves it on PATH and reads its
 * ELF header and mode bits before running it: a static binary or a setuid/setgid program would
 * silently produce no trace, so the harness says so instead.
 */
#ifndef PERFSWEEP_ALLOC_TARGET_H
#define PERFSWEEP_ALLOC_TARGET_H

/* Resolves cmd like execvp does. Returns a malloc'd path, or NULL when not found. */
char *ps_target_resolve(const char *cmd);

/* Returns 0 when path can be preloaded (dynamic ELF or a script), else a PS_EXIT_* code with a
 * message printed (PS_EXIT_USAGE: not executable / not found; PS_EXIT_ENVIRONMENT: static or
 * setuid/setgid). */
int ps_target_check_preloadable(const char *cmd, const char *path);

#endif
