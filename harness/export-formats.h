/* export-formats.h - the CPU profile exports other tools read: folded stacks (Brendan Gregg's
 * FlameGraph format), speedscope JSON (one sampled profile per thread) and pprof (gzipped
 * profile.proto, hand-encoded protobuf), each from a struct cpu_profile.
 */
#ifndef PERFSWEEP_EXPORT_FORMATS_H
#define PERFSWEEP_EXPORT_FORMATS_H

#include "cpu-profile.h"

/* "frame;frame;frame COUNT" lines, root first, identical stacks of all threads merged; ';' in
 * names becomes ':'. Written atomically. Returns 0 or a negative errno (message printed). */
int export_folded_write(const struct cpu_profile *p, const char *path);

/* speedscope file format (https://www.speedscope.app/file-format-schema.json): shared frames,
 * one "sampled" profile per thread, weights in samples. Returns 0 or a negative errno. */
int export_speedscope_write(const struct cpu_profile *p, const char *path, const char *name);

/* pprof profile.proto, gzip-compressed: sample types samples/count and cpu/nanoseconds, one
 * location per frame, a "thread" label per sample. Returns 0 or a negative errno. */
int export_pprof_write(const struct cpu_profile *p, const char *path);

/* The raw (uncompressed) protobuf bytes of the pprof profile, malloc'd; for tests. */
int export_pprof_encode(const struct cpu_profile *p, unsigned char **out, size_t *len);

#endif
