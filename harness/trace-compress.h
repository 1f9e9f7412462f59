/* trace-compress.h - compresses finished perfsweep traces after a run (never inside a probe):
 * the packed form (trace-pack.h) in a zstd frame, alloc.<pid>.pst -> alloc.<pid>.pst.zst, and
 * decompresses them for the reader (packed or plain zstd, detected). Bounded memory (the raw trace
 * is mapped, not copied); the compressed file is written under a temporary name and renamed, so
 * a reader never sees a half-written .zst.
 */
#ifndef PERFSWEEP_TRACE_COMPRESS_H
#define PERFSWEEP_TRACE_COMPRESS_H

#include <stddef.h>

/* Level used by the harness: measured with scripts/bench/bench-trace-size.sh
 * (docs/performance.md). Traces of at most PS_TRACE_SMALL_BYTES raw bytes get
 * PS_TRACE_ZSTD_SMALL_LEVEL instead (milliseconds at most there). */
#define PS_TRACE_ZSTD_LEVEL 1
#define PS_TRACE_SMALL_BYTES (1u << 20)
#define PS_TRACE_ZSTD_SMALL_LEVEL 15

/* Compresses the trace at raw_path into raw_path".zst" (written as a temp name, then renamed),
 * then removes raw_path unless keep_raw: the packed form, verified against the raw bytes while it
 * is written (should it ever differ, a warning and the plain zstd of the raw bytes instead).
 * level is a zstd level (1..19). Returns 0, or a negative errno with a message printed naming the
 * file (the raw trace is left in place on error). */
int ps_trace_compress(const char *raw_path, int level, int keep_raw);

/* Compresses every alloc.*.pst and cpu.*.pst in dir (see ps_trace_compress). Returns 0 or the
 * first negative errno (the other traces are still attempted). */
int ps_trace_compress_dir(const char *dir, int level, int keep_raw);

/* The same, in a thread, so the compression runs beside the analysis of the same traces (they
 * are only read): the raw traces listed now are compressed and kept until
 * ps_trace_compress_dir_finish. NULL when no thread could start (use ps_trace_compress_dir). */
struct ps_trace_compress_job;
struct ps_trace_compress_job *ps_trace_compress_dir_start(const char *dir, int level);

/* Waits for the job, then removes each raw trace that was compressed unless keep_raw; frees j.
 * Returns 0 or the first negative errno (messages printed, failed traces kept raw). */
int ps_trace_compress_dir_finish(struct ps_trace_compress_job *j, int keep_raw);

/* 1 when the first bytes of buf (len of them) are a zstd frame magic. */
int ps_trace_is_zstd(const void *buf, size_t len);

/* Decompresses the zstd stream read from in_fd into out_fd, streaming, and unpacks it when it is
 * the packed form: out_fd receives the exact raw trace bytes either way. *truncated is set to 1
 * when the input ends inside a frame (everything decoded up to there is written; for the packed
 * form, every whole block: a prefix of the raw trace). Returns 0, or a negative errno (-EINVAL
 * for corrupt data) with a message naming `path`. */
int ps_trace_decompress_fd(int in_fd, int out_fd, const char *path, int *truncated);

#endif
