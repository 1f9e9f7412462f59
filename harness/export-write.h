/* export-write.h - writing a derived output (folded stacks, flame graph SVG, speedscope, pprof):
 * atomically (a temporary file beside it, then rename: a reader never sees half a file) but
 * without fsync. These files are recomputed from the traces by `perfsweep analyze`, so a power
 * cut may cost one of them, never a measurement; the traces and results.json keep their fsync.
 */
#ifndef PERFSWEEP_EXPORT_WRITE_H
#define PERFSWEEP_EXPORT_WRITE_H

#include <stddef.h>

/* Writes len bytes to path through "path.tmp.<pid>.<n>" and rename. Returns 0 or a negative
 * errno; on failure path is untouched and the temporary file removed. Never prints. */
int ps_export_write(const char *path, const void *data, size_t len);

#endif
