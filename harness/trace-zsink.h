/* trace-zsink.h - the output side of trace compression: bytes in, one zstd frame out to a file,
 * either in the calling thread (ps_zsink_push) or in a thread of its own fed in batches while the
 * packer goes on (ps_zsink_async_*), with the same bytes either way. Used by trace-compress.c.
 */
#ifndef PERFSWEEP_TRACE_ZSINK_H
#define PERFSWEEP_TRACE_ZSINK_H

#include <stddef.h>
#include <zstd.h>

struct ps_zsink {
  ZSTD_CCtx *cc;
  int fd;
  unsigned char *out; /* ZSTD_CStreamOutSize() bytes */
  size_t cap;
  const char *path;   /* the raw trace, for messages */
};

/* Compresses buf[0..len) with end directive mode and writes what zstd gives to z->fd. 0 or a
 * negative errno (printed, naming z->path). */
int ps_zsink_push(struct ps_zsink *z, const void *buf, size_t len, ZSTD_EndDirective mode);

/* The directive a piece of the packer's output gets: a piece of >= PS_ZSINK_FLUSH_MIN bytes is
 * one whole stream of a packed block (one field: trace-pack.h), so zstd ends its block there and
 * fits its literal Huffman table to that field (quiet bench trace: 31.57 -> 30.57 MB). */
#define PS_ZSINK_FLUSH_MIN 4096
static inline ZSTD_EndDirective ps_zsink_mode(size_t len)
{
  return len >= PS_ZSINK_FLUSH_MIN ? ZSTD_e_flush : ZSTD_e_continue;
}

/* The thread's batches, and the most batches handed over and not yet pushed: beyond them the
 * packer waits, so memory stays bounded whatever the trace's size (unbounded, the queue held
 * ~200 MB while a 100 M-event trace was compressed). */
#define PS_ZSINK_BATCH_BYTES (1u << 20)
#define PS_ZSINK_MAX_QUEUED 32

/* Starts a thread that pushes into z what ps_zsink_async_write gathers: pieces are copied into
 * batches of about 1 MiB, queued whole, and pushed in order with ps_zsink_mode of each piece, so
 * the frame is byte for byte what ps_zsink_push would write. The thread runs at the lowest
 * priority (nice 19, that thread only): it uses a core only when the packer and the analysis
 * beside it leave one idle. The packer goes on without waiting until PS_ZSINK_MAX_QUEUED batches
 * are queued, then waits for the thread. NULL when no thread could be started (the caller then
 * pushes itself). */
struct ps_zsink_async *ps_zsink_async_start(struct ps_zsink *z);
/* A ps_pack_sink (ctx: the ps_zsink_async): 0, or the thread's first error. */
int ps_zsink_async_write(void *ctx, const void *buf, size_t len);
/* Hands over what is gathered (unless discard: then what is queued is dropped too), waits for the
 * thread to push the rest, frees a. Returns the
 * thread's first error or 0. Afterwards z is the caller's again (e.g. for ZSTD_e_end). */
int ps_zsink_async_finish(struct ps_zsink_async *a, int discard);

#endif
