/* trace-reader.h - streaming reader of perfsweep traces (docs/trace-format.md), any kind.
 *
 * Two ways to read: chunk by chunk in file order (ps_trace_next_chunk + ps_chunk_next), or every
 * record of the file in global seq order (ps_trace_merge_*), which the allocation analysis needs
 * (a block allocated in one thread and freed in another). Memory is bounded: one chunk (<= 64 KiB)
 * per thread whose records are being merged, plus 24 bytes per chunk of index.
 * A trace compressed with zstd (alloc.<pid>.pst.zst, see trace-compress.h) is read the same way:
 * it is detected by the zstd frame magic and streamed into an unlinked temporary file; a packed
 * one is opened from its header block alone and unpacked in a thread while the merge reads it
 * (trace-pack-stream.h; docs/trace-format.md "Reading a packed trace").
 * A truncated tail (crash, SIGKILL, full disk) is read up to the last whole chunk with a warning;
 * a foreign file, another format version or a corrupt record is an error (message printed).
 */
#ifndef PERFSWEEP_TRACE_READER_H
#define PERFSWEEP_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "trace-format.h"

#define PS_TRACE_MAX_DEPTH 256

struct ps_trace;

/* One decoded record; pointers stay valid until the next call on the same chunk/merge. */
struct ps_rec {
  unsigned type;       /* enum ps_rec_type */
  unsigned fn;         /* enum ps_alloc_fn (alloc records) */
  uint64_t seq;
  uint32_t tid;        /* thread of the chunk */
  uint64_t id;         /* MODULE/UNMODULE/STACK id; THREAD tid; NOTE code */
  uint64_t size;       /* ALLOC/REALLOC size; MODULE size; LOST count */
  uint64_t ptr;        /* ALLOC/FREE ptr; REALLOC new ptr; MODULE base */
  uint64_t old_ptr;    /* REALLOC */
  uint64_t stack;      /* ALLOC/REALLOC/SAMPLE stack id (0 = inline ips) */
  uint64_t time_ns;    /* TIME/SAMPLE; for every record: the latest TIME of its chunk */
  uint64_t flags;      /* SAMPLE flags */
  const char *str;     /* MODULE path, THREAD name, NOTE text (not NUL-terminated) */
  size_t str_len;
  const uint8_t *bytes; /* MODULE build-id */
  size_t bytes_len;
  unsigned nips;       /* STACK / inline SAMPLE */
  const uint64_t *ips;
};

/* A chunk loaded in memory and the decoding state of its records. */
struct ps_chunk_view {
  struct ps_trace_chunk hdr;
  uint64_t offset;
  uint8_t *data;       /* payload, owned */
  const uint8_t *p, *end;
  uint64_t seq, last_ptr, time_ns;
  uint32_t left;
  uint64_t ips[PS_TRACE_MAX_DEPTH];
};

/* Opens a trace and checks its header. Returns 0 and *out, or a negative errno with a message
 * printed (-ENOENT/-EACCES.., -EINVAL not a trace, -EPROTONOSUPPORT another version).
 * Free with ps_trace_close. */
int ps_trace_open(const char *path, struct ps_trace **out);
void ps_trace_close(struct ps_trace *t);

const struct ps_trace_header *ps_trace_header(const struct ps_trace *t);
const char *ps_trace_exe(const struct ps_trace *t);   /* NUL-terminated, owned by t */
const char *ps_trace_path(const struct ps_trace *t);
/* Set after reading: 1 when the file ended in a torn chunk (warning already printed). */
int ps_trace_truncated(const struct ps_trace *t);

/* Loads the next chunk in file order into v (v->data is reused between calls; call
 * ps_chunk_release at the end). Returns 1, 0 at the end (or a torn tail), <0 on I/O error. */
int ps_trace_next_chunk(struct ps_trace *t, struct ps_chunk_view *v);
void ps_chunk_release(struct ps_chunk_view *v);

/* Decodes the next record of a loaded chunk. Returns 1, 0 at the chunk's end, -EINVAL when
 * corrupt (message printed naming the file and offset). */
int ps_chunk_next(struct ps_trace *t, struct ps_chunk_view *v, struct ps_rec *r);

/* Every record of the trace in seq order. ps_trace_merge_begin scans the chunk index (one pass
 * over the headers). Returns 0 or a negative errno. */
int ps_trace_merge_begin(struct ps_trace *t);
/* Returns 1 and the next record, 0 at the end, <0 on error (printed). */
int ps_trace_merge_next(struct ps_trace *t, struct ps_rec *r);
/* The same without copying: *r points into the reader, valid until the next call. */
int ps_trace_merge_next_ref(struct ps_trace *t, const struct ps_rec **r);

/* 1 when the file name `name` in dir is a trace: *.pst, or *.pst.zst without its raw *.pst
 * beside it (a trace kept both ways is counted once). */
int ps_trace_name_ok(const char *dir, const char *name);

/* The traces of one kind in a folder: <dir>/<prefix>.*.pst and <prefix>.*.pst.zst ("alloc" /
 * "cpu"), sorted by name.
 * Returns 0 with a malloc'd array of malloc'd paths (free each, then the array; *n may be 0), or a
 * negative errno when the folder cannot be read (message printed). */
int ps_trace_find(const char *dir, const char *prefix, char ***paths, size_t *n);

/* Expands command-line arguments into trace paths of one kind: files are taken as they are,
 * folders contribute their <prefix>.*.pst files. Returns 0 or a negative errno (printed). */
int ps_trace_expand(char *const *args, size_t nargs, const char *prefix, char ***paths, size_t *n);
void ps_trace_paths_free(char **paths, size_t n);

/* Names of record types / alloc functions, for messages and JSON ("malloc"). */
const char *ps_alloc_fn_name(unsigned fn);

#endif
