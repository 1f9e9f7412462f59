/* trace-pack.h - the packed form of a finished trace: a lossless re-encoding of the raw .pst
 * bytes that zstd compresses far better (allocations as (size, stack) info ids, frees as
 * references to the live block they free, pointers predicted from recently freed blocks, fields
 * split into streams). Used by trace-compress.c only, after the run, never inside a probe.
 * docs/trace-format.md ("Packed form") describes the layout.
 */
#ifndef PERFSWEEP_TRACE_PACK_H
#define PERFSWEEP_TRACE_PACK_H

#include <stddef.h>
#include <stdint.h>

#define PS_PACK_MAGIC "PSTPACK\0" /* 8 bytes, first bytes of the packed stream */
#define PS_PACK_VERSION 5     /* 5: seq deltas as gaps among the seqs no record took yet */
#define PS_PACK_VERSION_MIN 4 /* the oldest version the unpacker still reads */

/* Receives output bytes. Returns 0 or a negative errno (which stops the producer). The packer
 * hands over a block's header and then each of its streams whole, one call each (a stream is
 * one field of the records): a compressing sink may end its entropy block after a call, so that
 * each field gets an entropy table of its own (trace-compress.c does for calls of >= 4 KiB). */
typedef int (*ps_pack_sink)(void *ctx, const void *buf, size_t len);

/* Packs the raw trace bytes raw[0..len) (any bytes: a damaged or truncated trace, or no trace at
 * all, is packed too, only less compactly) and writes the packed stream to sink. verify 1: the
 * bytes of each packed record are read back with the unpacker's own reader and compared, field
 * by field, with what the packer encoded, and every stream must be read exactly to its end; the
 * model lookups that turn the fields into values are those the encoder itself compared against
 * the record (trace-pack-write.c, "the per-record check", says why each is exact). The encoding
 * is then exact by induction: both sides apply the same updates to the same values; framing and
 * verbatim bytes are copies. verify 2: the whole packed stream is unpacked again in a second
 * thread and compared byte for byte with raw. A difference returns -EPROTO (nothing is wrong with
 * the input; the caller should store the raw bytes instead).
 * Returns 0, -EPROTO, or the sink's negative errno. Memory: one block of streams (a few MiB) plus
 * the tables of live blocks and (size, stack) pairs, both capped. */
int ps_trace_pack(const uint8_t *raw, size_t len, int verify, ps_pack_sink sink, void *ctx);

/* ps_trace_pack(raw, len, 1, sink, ctx) for a raw trace the caller mapped read-only from its file
 * (raw page-aligned): the pages the packer is done with (packed and checked) are unmapped from
 * the process as it goes (madvise MADV_DONTNEED, by steps of 8 MiB; read again, they come back
 * from the file), so the packing of a big trace does not keep all of it resident. */
int ps_trace_pack_mapped(const uint8_t *raw, size_t len, ps_pack_sink sink, void *ctx);

/* ps_trace_pack writing packed form version (PS_PACK_VERSION_MIN..PS_PACK_VERSION): the tests
 * write the older versions with it to check that they stay readable. */
int pk_pack_version(const uint8_t *raw, size_t len, int verify, unsigned version,
                    ps_pack_sink sink, void *ctx);

/* Tests only: when >= 0, the per-record check of verify 1 flips the low bit of the first byte of
 * stream pk_check_fault (enum pk_stream, trace-pack-model.h) that it reads back, once, as a
 * packer that wrote a wrong byte would (then sets it to -1); the packer must then return -EPROTO.
 * -1 (the default): nothing. */
extern int pk_check_fault;

/* 1 when buf (len bytes) starts with PS_PACK_MAGIC. */
int ps_trace_is_packed(const void *buf, size_t len);

/* Streaming unpacker: feed it the packed stream in pieces of any size; it writes the exact raw
 * trace bytes to sink, one whole block at a time. */
struct ps_unpack;

/* Never fails (allocation failure exits, like ps_xmalloc). */
struct ps_unpack *ps_unpack_new(ps_pack_sink sink, void *ctx);

/* Consumes len bytes. Returns 0, -EINVAL when the packed data is corrupt (ps_unpack_error says
 * what), or the sink's negative errno. After an error, further calls return the same error. */
int ps_unpack_feed(struct ps_unpack *u, const void *buf, size_t len);

/* At the end of the input: sets *truncated to 1 when the stream stopped before its end marker
 * (everything up to the last whole block was written: a readable prefix of the raw trace).
 * Returns 0 or the error of an earlier feed. */
int ps_unpack_finish(struct ps_unpack *u, int *truncated);

/* A sentence describing the last -EINVAL, or "" . */
const char *ps_unpack_error(const struct ps_unpack *u);

/* Accepts NULL. */
void ps_unpack_free(struct ps_unpack *u);

#endif
