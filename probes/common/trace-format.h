/* trace-format.h - the versioned binary trace format (perfsweep trace, ".pst"), shared read-only
 * by the probes (which write it) and the harness (which reads it). docs/trace-format.md explains it.
 *
 * Pure definitions and inline varint coders: no allocation, no stdio, no locks, so a signal
 * handler may use every function here.
 *
 * Layout: one struct ps_trace_header, the exe path (header.exe_len bytes), then chunks. A chunk is
 * one flush of one thread's buffer: struct ps_trace_chunk then chunk.payload_len bytes of records.
 * A record is a type byte, a varint seq delta (from the previous record of the chunk; the first is
 * relative to chunk.first_seq) and type-specific varint fields (see enum ps_rec_type).
 */
#ifndef PERFSWEEP_TRACE_FORMAT_H
#define PERFSWEEP_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PS_TRACE_MAGIC "PSTRACE\0"     /* 8 bytes */
#define PS_TRACE_VERSION 2
#define PS_CHUNK_MAGIC 0x4b4e4843u     /* "CHNK" little endian */
#define PS_TRACE_MAX_PAYLOAD (16u << 20) /* a reader refuses bigger chunks as corrupt */

enum ps_trace_kind { PS_TRACE_ALLOC = 1, PS_TRACE_CPU = 2 };

/* header.flags: set by the probe in place (pwrite) when it happens. */
enum ps_trace_flags {
  PS_TRACE_F_DISK_FULL = 1u << 0,  /* the disk filled up: tracing stopped, the target ran on */
  PS_TRACE_F_CRASHED = 1u << 1,    /* the target died of a signal; buffers were flushed */
  PS_TRACE_F_COMPLETE = 1u << 2,   /* the probe shut down normally (exit / atexit) */
};

/* All integers little endian. 64 bytes + exe path. */
struct ps_trace_header {
  char magic[8];          /* PS_TRACE_MAGIC */
  uint16_t version;       /* PS_TRACE_VERSION */
  uint16_t kind;          /* enum ps_trace_kind */
  uint32_t header_len;    /* sizeof(struct ps_trace_header) + exe_len: chunks start here */
  uint32_t pid, ppid;
  uint64_t start_realtime_ns;  /* CLOCK_REALTIME at start */
  uint64_t start_mono_ns;      /* CLOCK_MONOTONIC at start: TIME records are relative to it */
  uint32_t mode;          /* alloc: enum ps_alloc_mode (probe-env.h); cpu: enum ps_cpu_mode */
  uint32_t flags;         /* enum ps_trace_flags; at offset PS_TRACE_FLAGS_OFFSET */
  uint64_t param;         /* alloc: sample interval in bytes (sample mode); cpu: frequency Hz */
  uint32_t depth;         /* deepest stack recorded */
  uint32_t exe_len;       /* bytes of exe path following the header, no NUL */
};
#define PS_TRACE_FLAGS_OFFSET 44

/* One thread's flush. 32 bytes. */
struct ps_trace_chunk {
  uint32_t magic;         /* PS_CHUNK_MAGIC: lets a reader tell a torn write from data */
  uint32_t payload_len;   /* bytes of records following */
  uint32_t tid;           /* thread whose buffer this is */
  uint32_t nrecords;
  uint64_t first_seq;     /* seq of the first record is first_seq + its delta */
  uint64_t mono_ns;       /* CLOCK_MONOTONIC - start_mono_ns when the chunk was started */
};

/* Record types. Every record: u8 type, varint seq_delta, then the fields listed.
 * "ptr" fields are zigzag varints of the difference to the previous ptr field of the chunk
 * (starting from 0); "ips" are the first ip as varint then zigzag differences. */
enum ps_rec_type {
  PS_REC_MODULE = 1,   /* id, base, size, path_len, path bytes, buildid_len, buildid bytes */
  PS_REC_UNMODULE = 2, /* id: the module was dlclose'd (its stacks stay valid) */
  PS_REC_STACK = 3,    /* id, depth, ips[depth] (innermost first; ips are return addresses
                        * except ips[0] of a STACK used by a cpu sample, which is the pc) */
  PS_REC_THREAD = 4,   /* tid, name_len, name bytes */
  PS_REC_NOTE = 5,     /* code (enum ps_note_code), text_len, text bytes */
  PS_REC_ALLOC = 6,    /* fn (enum ps_alloc_fn), size, ptr, stack id */
  PS_REC_FREE = 7,     /* fn (enum ps_alloc_fn: free/munmap), ptr */
  PS_REC_REALLOC = 8,  /* fn, size, old ptr, new ptr, stack id (old ptr 0 = like malloc) */
  PS_REC_SAMPLE = 9,   /* time_ns (since start_mono), flags (enum ps_sample_flags), then
                        * stack id, or with PS_SAMPLE_F_INLINE: depth, ips[depth] */
  PS_REC_LOST = 10,    /* count of samples/events lost (buffer overflow, EMFILE, ...) */
  PS_REC_TIME = 11,    /* time_ns since start_mono: the clock at this seq */
  PS_REC_ALLOCS = 12,  /* sample mode: like PS_REC_ALLOC; the block was sampled */
  /* Compact forms of the two hot events (version 2). The type byte's upper nibble is the seq
   * delta (0..14; 15: a varint seq delta follows) instead of fn, and ptr is an "aptr" field
   * (ps_aptr_encode). Readers report them as PS_REC_ALLOC/PS_FN_MALLOC and
   * PS_REC_FREE/PS_FN_FREE. */
  PS_REC_MALLOC_C = 13, /* size, aptr, stack id: a malloc */
  PS_REC_FREE_C = 14,   /* aptr: a free */
};

enum ps_alloc_fn {
  PS_FN_MALLOC = 0, PS_FN_CALLOC, PS_FN_REALLOC, PS_FN_REALLOCARRAY, PS_FN_FREE,
  PS_FN_POSIX_MEMALIGN, PS_FN_ALIGNED_ALLOC, PS_FN_MEMALIGN, PS_FN_VALLOC, PS_FN_PVALLOC,
  PS_FN_MMAP, PS_FN_MUNMAP, PS_FN_COUNT
};

enum ps_sample_flags {
  PS_SAMPLE_F_INLINE = 1u << 0,    /* ips inline instead of a stack id */
  PS_SAMPLE_F_DEGRADED = 1u << 1,  /* leaf only / frame pointers: unwinding was unsafe */
  PS_SAMPLE_F_LEAF_ONLY = 1u << 2,
  PS_SAMPLE_F_WALL = 1u << 3,      /* wall-clock sample (the thread may have been sleeping) */
};

enum ps_note_code {
  PS_NOTE_INFO = 0, PS_NOTE_DISK_FULL = 1, PS_NOTE_CRASH = 2, PS_NOTE_STACK_TABLE_FULL = 3,
  PS_NOTE_ENGINE = 4, /* cpu: which sampling engine ran and why */
};

/* ---- varints (LEB128) ---- */

#define PS_VARINT_MAX 10

static inline __attribute__((always_inline)) uint8_t *ps_put_varint(uint8_t *p, uint64_t v)
{
  if (__builtin_expect(v < 0x80, 1)) {
    *p = (uint8_t)v;
    return p + 1;
  }
  if (v < 0x4000) {
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)(v >> 7);
    return p + 2;
  }
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static inline uint64_t ps_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t ps_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* "aptr" fields (compact records): the difference d to the previous ptr field of the chunk, as
 * zigzag(d / 16) << 1 when d is a multiple of 16 (allocators return 16-byte aligned blocks), else
 * zigzag(d) << 1 | 1. Exact for |d| < 2^61 (ps_aptr_ok); writers use the full records otherwise. */
#define PS_APTR_LIMIT (1ull << 61)
static inline int ps_aptr_ok(uint64_t d) { return d + PS_APTR_LIMIT < 2 * PS_APTR_LIMIT; }
static inline uint64_t ps_aptr_encode(uint64_t d)
{
  return (d & 15) ? ps_zigzag((int64_t)d) << 1 | 1 : ps_zigzag((int64_t)d >> 4) << 1;
}
static inline uint64_t ps_aptr_decode(uint64_t v)
{
  return (v & 1) ? (uint64_t)ps_unzigzag(v >> 1) : (uint64_t)ps_unzigzag(v >> 1) << 4;
}

/* Decodes one varint from [*p, end). Returns 0 and advances *p, or -1 when truncated/overlong. */
static inline int ps_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
  if (__builtin_expect(*p < end && **p < 0x80, 1)) {
    *out = **p;
    (*p)++;
    return 0;
  }
  uint64_t v = 0;
  unsigned shift = 0;
  const uint8_t *q = *p;
  while (q < end && shift < 64) {
    uint8_t b = *q++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *p = q;
      *out = v;
      return 0;
    }
    shift += 7;
  }
  return -1;
}

#endif
