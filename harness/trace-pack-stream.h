/* trace-pack-stream.h - reading a packed trace (.pst.zst, trace-pack.h) without unpacking all of
 * it first: its file header from the first block alone, its chunk index from the chunk-header
 * stream alone (no record decoded), and the unpacking itself in a thread that writes the exact
 * raw bytes to a file and publishes each chunk as it appears, so the reader merges records while
 * later blocks are still being unpacked. Used by trace-reader.c only; never inside a probe.
 */
#ifndef PERFSWEEP_TRACE_PACK_STREAM_H
#define PERFSWEEP_TRACE_PACK_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* One chunk of the raw trace, as the reader indexes it. */
struct ps_pack_chunk {
  uint64_t offset; /* raw offset of its header (0 in a ps_pack_index: not known before unpacking) */
  uint64_t first_seq;
  uint32_t tid, nrecords, payload_len;
};

/* Reads the start of the zstd stream in zfd (pread from offset 0; the fd's position is not used).
 * When it is the packed form whose first block holds the raw file header alone (what the packer
 * writes for every trace with a valid header), returns 1 with *head (malloc'd, the caller frees
 * it) and *len: the raw header bytes, hash-checked. Returns 0 otherwise (a plain .zst, damaged
 * data, anything else: the caller then unpacks the whole file the usual way, which reports what
 * is wrong). Prints nothing. */
int ps_pack_head(int zfd, uint8_t **head, size_t *len);

/* The chunks of a packed trace in file order, read from the chunk-header stream of every whole
 * block (no record is decoded; zstd still reads every byte). */
struct ps_pack_index {
  struct ps_pack_chunk *c;
  size_t n;
  /* 1 when every raw byte after the header block lies in a chunk or a zero run: the chunk list
   * is then exactly what the reader's scan of the raw bytes finds (checked again chunk by chunk
   * against the unpacked bytes). 0 for anything else (bytes outside chunks, a damaged stream). */
  int streamable;
};

/* Fills *ix (free with ps_pack_index_free). Never fails: a stream it cannot follow gives
 * streamable 0 (the unpacking reports what is wrong). */
void ps_pack_index_read(int zfd, struct ps_pack_index *ix);
void ps_pack_index_free(struct ps_pack_index *ix);

/* A thread unpacking the packed stream of zfd (from offset 0) into out_fd (pwrite from offset 0:
 * the exact raw trace bytes) and scanning the raw bytes for chunks as the reader does (zero
 * padding skipped; the first block, the file header, is skipped). Never fails: when no thread
 * can start, the unpacking runs inside ps_pack_job_start. zfd and out_fd stay the caller's and
 * must stay open until ps_pack_job_free. */
struct ps_pack_job;
struct ps_pack_job *ps_pack_job_start(int zfd, int out_fd, const char *path);

/* Waits until the k-th chunk (file order, counted from 0) of the raw bytes is unpacked and
 * written. Returns 1 and *c, 0 when the raw bytes hold fewer chunks (the thread ended, or the
 * bytes after the last chunk are not a chunk), or the thread's negative errno (message printed
 * naming the file: -EINVAL corrupt packed or zstd data, -EIO/-ENOSPC writing). */
int ps_pack_job_chunk(struct ps_pack_job *j, size_t k, struct ps_pack_chunk *c);

/* What the thread found, once it has ended. */
struct ps_pack_job_end {
  uint64_t raw_len; /* raw bytes written */
  int truncated;    /* the stream stopped before its end (every whole block was written) */
  size_t nchunks;   /* chunks the scan found */
  int scan_ended;   /* the scan stopped at bytes that are not a chunk (the reader's torn tail) */
};

/* Waits for the thread. Returns 0 or its negative errno (printed), and fills *e. */
int ps_pack_job_wait(struct ps_pack_job *j, struct ps_pack_job_end *e);

/* Stops the thread if it still runs, joins it and frees j. Accepts NULL. */
void ps_pack_job_free(struct ps_pack_job *j);

#endif
