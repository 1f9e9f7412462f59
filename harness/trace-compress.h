/* trace-compress.h - compresses finished perfsweep traces with zstd after a run (never inside a
 * probe) and decompresses them for the reader: alloc.<pid>.pst -> alloc.<pid>.pst.zst.
 * Streaming with bounded memory (one input and one output buffer); the compressed file is written
 * under a temporary name and renamed, so a reader never sees a half-written .zst.
 */
#ifndef PERFSWEEP_TRACE_COMPRESS_H
#define PERFSWEEP_TRACE_COMPRESS_H

#include <stddef.h>

/* Level used by the harness: measured on scripts/bench/bench-alloc.sh (docs/performance.md). */
#define PS_TRACE_ZSTD_LEVEL 1

/* Compresses the trace at raw_path into raw_path".zst" (written as a temp name, then renamed),
 * then removes raw_path unless keep_raw. level is a zstd level (1..19). Returns 0, or a negative
 * errno with a message printed naming the file (the raw trace is left in place on error). */
int ps_trace_compress(const char *raw_path, int level, int keep_raw);

/* Compresses every alloc.*.pst and cpu.*.pst in dir (see ps_trace_compress). Returns 0 or the
 * first negative errno (the other traces are still attempted). */
int ps_trace_compress_dir(const char *dir, int level, int keep_raw);

/* 1 when the first bytes of buf (len of them) are a zstd frame magic. */
int ps_trace_is_zstd(const void *buf, size_t len);

/* Decompresses the zstd stream read from in_fd into out_fd, streaming. *truncated is set to 1
 * when the input ends inside a frame (everything decoded up to there is written). Returns 0, or
 * a negative errno (-EINVAL for corrupt data) with a message naming `path`. */
int ps_trace_decompress_fd(int in_fd, int out_fd, const char *path, int *truncated);

#endif
