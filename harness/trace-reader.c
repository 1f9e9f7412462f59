/* trace-reader.c - reads perfsweep traces chunk by chunk or merged in seq order
 * (see trace-reader.h). Bounded memory: a chunk index and one loaded chunk per merging thread.
 */
#include "trace-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace-compress.h"
#include "trace-pack-stream.h"
#include "util.h"

struct chunk_ix {
  uint64_t offset;
  uint64_t first_seq;
  uint32_t tid;
  uint32_t len;
};

struct cursor {
  struct chunk_ix *chunks;  /* this thread's chunks, by first_seq */
  size_t n, next;
  struct ps_chunk_view v;
  int loaded;
  struct ps_rec rec;        /* decoded, pending */
  int has_rec;
  uint64_t key;             /* rec.seq when has_rec, else the next chunk's first_seq */
};

struct ps_trace {
  char *path;
  int fd;
  uint64_t file_size;
  struct ps_trace_header hdr;
  char *exe;
  uint64_t pos;            /* file-order cursor */
  int truncated;
  /* merge state */
  struct chunk_ix *ix;
  size_t nix;
  struct cursor *cur;
  size_t ncur;
  size_t *heap;            /* indices into cur, min-heap on key */
  size_t nheap;
  int pending;              /* heap top's record was returned, not yet consumed */
  /* a packed .pst.zst read lazily: fd holds its header only until the job has unpacked it */
  int zfd;                  /* the .pst.zst while it is not wholly unpacked, else -1 */
  struct ps_pack_job *job;  /* unpacking zfd into fd */
  int streaming;            /* the merge reads each chunk as soon as the job has written it */
};

static const char *fn_names[PS_FN_COUNT] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "munmap"};

const char *ps_alloc_fn_name(unsigned fn) { return fn < PS_FN_COUNT ? fn_names[fn] : "unknown"; }

const struct ps_trace_header *ps_trace_header(const struct ps_trace *t) { return &t->hdr; }
const char *ps_trace_exe(const struct ps_trace *t) { return t->exe; }
const char *ps_trace_path(const struct ps_trace *t) { return t->path; }
int ps_trace_truncated(const struct ps_trace *t) { return t->truncated; }

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
  uint8_t *p = buf;
  while (len) {
    ssize_t n = pread(fd, p, len, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -ENODATA;
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

/* An anonymous temporary file next to the trace (same disk), else in $TMPDIR or /tmp. */
static int tmp_fd_near(const char *path)
{
  char *dir = ps_xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash[slash == dir] = 0;
  else
    strcpy(dir, ".");
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  free(dir);
  if (fd < 0) {
    const char *td = getenv("TMPDIR");
    fd = open(td && *td ? td : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  }
  return fd;
}

/* When *fd is a zstd-compressed trace, replaces it with an fd on its decompressed bytes (an
 * unlinked temporary file, streamed: bounded memory). A packed trace whose header block can be
 * read alone is not unpacked here: *fd gets the header only and *zfd the .zst, unpacked when the
 * records are read (ps_trace_merge_begin / ps_trace_next_chunk). 0 or a negative errno (printed;
 * *fd closed). */
static int open_zstd(const char *path, int *fd, int *truncated, int *zfd)
{
  uint8_t magic[4];
  *zfd = -1;
  if (read_at(*fd, magic, sizeof magic, 0) || !ps_trace_is_zstd(magic, sizeof magic))
    return 0;
  int tfd = tmp_fd_near(path);
  if (tfd < 0) {
    int e = errno;
    ps_error("cannot create a temporary file to decompress %s: %s (set TMPDIR to a writable "
             "folder)", path, strerror(e));
    close(*fd);
    return -e;
  }
  uint8_t *head;
  size_t hlen;
  if (ps_pack_head(*fd, &head, &hlen)) {
    int err = pwrite(tfd, head, hlen, 0) == (ssize_t)hlen ? 0 : errno ? -errno : -EIO;
    free(head);
    if (err) {
      ps_error("cannot decompress %s into a temporary file: %s (set TMPDIR to a folder with "
               "space)", path, strerror(-err));
      close(tfd);
      close(*fd);
      return err;
    }
    *zfd = *fd;
    *fd = tfd;
    return 0;
  }
  int err = ps_trace_decompress_fd(*fd, tfd, path, truncated);
  close(*fd);
  if (err) {
    close(tfd);
    return err;
  }
  *fd = tfd;
  return 0;
}

static void warn_zst_cut(struct ps_trace *t)
{
  ps_warn("%s ends inside its zstd frame (the run was interrupted while the trace was being "
          "compressed, or the file was cut); reading up to the last whole record", t->path);
  t->truncated = 1;
}

/* Waits for the unpacking of a lazily read packed trace (started here when it was not yet):
 * then fd holds the whole raw trace. 0 or a negative errno (printed). */
static int raw_complete(struct ps_trace *t)
{
  if (t->zfd < 0)
    return 0;
  if (!t->job)
    t->job = ps_pack_job_start(t->zfd, t->fd, t->path);
  struct ps_pack_job_end e;
  int err = ps_pack_job_wait(t->job, &e);
  ps_pack_job_free(t->job);
  t->job = NULL;
  close(t->zfd);
  t->zfd = -1;
  t->streaming = 0;
  if (err)
    return err;
  t->file_size = e.raw_len;
  if (e.truncated)
    warn_zst_cut(t);
  return 0;
}

int ps_trace_open(const char *path, struct ps_trace **out)
{
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    ps_error("cannot open trace %s: %s", path, strerror(e));
    return -e;
  }
  int ztrunc = 0, zfd = -1;
  int zerr = open_zstd(path, &fd, &ztrunc, &zfd);
  if (zerr)
    return zerr;
  struct stat st;
  fstat(fd, &st);
  struct ps_trace *t = ps_xcalloc(1, sizeof *t);
  t->fd = fd;
  t->zfd = zfd;
  t->path = ps_xstrdup(path);
  t->file_size = (uint64_t)st.st_size;
  if (ztrunc)
    warn_zst_cut(t);
  int err = 0;
  if (t->file_size < sizeof t->hdr || read_at(fd, &t->hdr, sizeof t->hdr, 0) ||
      memcmp(t->hdr.magic, PS_TRACE_MAGIC, 8)) {
    ps_error("%s is not a perfsweep trace (no PSTRACE header); pass an alloc.<pid>.pst or "
             "cpu.<pid>.pst file written by a perfsweep probe", path);
    err = -EINVAL;
  } else if (t->hdr.version != PS_TRACE_VERSION) {
    ps_error("%s is trace format version %u; this perfsweep reads version %d: analyze it with "
             "the perfsweep that recorded it", path, t->hdr.version, PS_TRACE_VERSION);
    err = -EPROTONOSUPPORT;
  } else if (t->hdr.kind != PS_TRACE_ALLOC && t->hdr.kind != PS_TRACE_CPU) {
    ps_error("%s has an unknown trace kind %u; the file is corrupt", path, t->hdr.kind);
    err = -EINVAL;
  } else if (t->hdr.header_len != sizeof t->hdr + t->hdr.exe_len ||
             t->hdr.header_len > t->file_size) {
    ps_error("%s has a corrupt header (length %u); the file is damaged", path, t->hdr.header_len);
    err = -EINVAL;
  }
  if (!err) {
    t->exe = ps_xcalloc(1, t->hdr.exe_len + 1);
    if (read_at(fd, t->exe, t->hdr.exe_len, sizeof t->hdr)) {
      ps_error("%s: cannot read the header", path);
      err = -EIO;
    }
  }
  if (err) {
    ps_trace_close(t);
    return err;
  }
  t->pos = t->hdr.header_len;
  *out = t;
  return 0;
}

void ps_trace_close(struct ps_trace *t)
{
  if (!t)
    return;
  ps_pack_job_free(t->job); /* stops the unpacking before its files close */
  if (t->zfd >= 0)
    close(t->zfd);
  if (t->fd >= 0)
    close(t->fd);
  for (size_t i = 0; i < t->ncur; i++)
    ps_chunk_release(&t->cur[i].v);
  free(t->cur);
  free(t->heap);
  free(t->ix);
  free(t->exe);
  free(t->path);
  free(t);
}

void ps_chunk_release(struct ps_chunk_view *v)
{
  free(v->data);
  v->data = NULL;
}

/* Zero bytes between chunks are padding (the rest of a region a probe reserved after shutdown):
 * moves *off past them. Returns 0, or 1 when only zeros remain up to the end of the file. */
static int skip_padding(struct ps_trace *t, uint64_t *off)
{
  uint8_t buf[4096];
  uint64_t pos = *off;
  while (pos < t->file_size) {
    size_t n = t->file_size - pos < sizeof buf ? (size_t)(t->file_size - pos) : sizeof buf;
    if (read_at(t->fd, buf, n, pos))
      return 0;
    for (size_t i = 0; i < n; i++)
      if (buf[i]) {
        *off = pos + i;
        return 0;
      }
    pos += n;
  }
  *off = t->file_size;
  return 1;
}

/* Reads the chunk header at *off (skipping zero padding, which moves *off). 1 ok, 0 torn/end
 * (warning printed when torn), <0 error. */
static int chunk_header_at(struct ps_trace *t, uint64_t *offp, struct ps_trace_chunk *c)
{
  uint64_t off = *offp;
  if (off == t->file_size)
    return 0;
  uint32_t first = 1;
  if (off + 4 <= t->file_size && read_at(t->fd, &first, 4, off) == 0 && first == 0) {
    if (skip_padding(t, offp))
      return 0;
    off = *offp;
  }
  int err = off + sizeof *c <= t->file_size ? read_at(t->fd, c, sizeof *c, off) : -ENODATA;
  if (err && err != -ENODATA) {
    ps_error("cannot read %s: %s", t->path, strerror(-err));
    return err;
  }
  if (err || c->magic != PS_CHUNK_MAGIC || c->payload_len > PS_TRACE_MAX_PAYLOAD ||
      off + sizeof *c + c->payload_len > t->file_size) {
    if (!t->truncated)
      ps_warn("%s ends with an incomplete chunk at byte %llu of %llu (the process was killed, "
              "crashed or the disk filled up); reading up to the last whole chunk",
              t->path, (unsigned long long)off, (unsigned long long)t->file_size);
    t->truncated = 1;
    return 0;
  }
  return 1;
}

static int load_chunk(struct ps_trace *t, uint64_t off, const struct ps_trace_chunk *c,
                      struct ps_chunk_view *v)
{
  v->hdr = *c;
  v->offset = off;
  free(v->data);
  v->data = ps_xmalloc(c->payload_len ? c->payload_len : 1);
  int err = read_at(t->fd, v->data, c->payload_len, off + sizeof *c);
  if (err) {
    ps_error("cannot read %s: %s", t->path, strerror(-err));
    return err;
  }
  v->p = v->data;
  v->end = v->data + c->payload_len;
  v->seq = c->first_seq;
  v->last_ptr = 0;
  v->time_ns = c->mono_ns;
  v->left = c->nrecords;
  return 0;
}

int ps_trace_next_chunk(struct ps_trace *t, struct ps_chunk_view *v)
{
  int err0 = raw_complete(t);
  if (err0)
    return err0;
  struct ps_trace_chunk c;
  int ok = chunk_header_at(t, &t->pos, &c);
  if (ok <= 0)
    return ok;
  int err = load_chunk(t, t->pos, &c, v);
  if (err)
    return err;
  t->pos += sizeof c + c.payload_len;
  return 1;
}

static int corrupt(struct ps_trace *t, struct ps_chunk_view *v, const char *what)
{
  ps_error("%s is corrupt: %s in the chunk at byte %llu (record %u from its end); the file was "
           "damaged after it was written", t->path, what, (unsigned long long)v->offset, v->left);
  return -EINVAL;
}

#define GET(var)                                                                                  \
  do {                                                                                            \
    if (ps_get_varint(&v->p, v->end, &(var)))                                                     \
      return corrupt(t, v, "a truncated number");                                                 \
  } while (0)

static int get_str(struct ps_trace *t, struct ps_chunk_view *v, const uint8_t **s, size_t *n)
{
  uint64_t len;
  GET(len);
  if (len > (uint64_t)(v->end - v->p))
    return corrupt(t, v, "a string longer than its chunk");
  *s = v->p;
  *n = (size_t)len;
  v->p += len;
  return 0;
}

static inline int get_ptr(struct ps_trace *t, struct ps_chunk_view *v, uint64_t *out)
{
  uint64_t z;
  GET(z);
  v->last_ptr += (uint64_t)ps_unzigzag(z);
  *out = v->last_ptr;
  return 0;
}

static inline int get_aptr(struct ps_trace *t, struct ps_chunk_view *v, uint64_t *out)
{
  uint64_t z;
  GET(z);
  v->last_ptr += ps_aptr_decode(z);
  *out = v->last_ptr;
  return 0;
}

static int get_ips(struct ps_trace *t, struct ps_chunk_view *v, struct ps_rec *r)
{
  uint64_t n, prev = 0;
  GET(n);
  if (n > PS_TRACE_MAX_DEPTH)
    return corrupt(t, v, "a stack deeper than 256 frames");
  for (uint64_t i = 0; i < n; i++) {
    uint64_t x;
    GET(x);
    prev = i ? prev + (uint64_t)ps_unzigzag(x) : x;
    v->ips[i] = prev;
  }
  r->nips = (unsigned)n;
  r->ips = v->ips;
  return 0;
}

/* A varint of 1 to 3 bytes read without bounds checks (the caller made sure 3 bytes are there),
 * else the general reader: the same values as ps_get_varint. 0 or -1 (truncated/overlong). */
static inline __attribute__((always_inline)) int get_varint3(const uint8_t **p, const uint8_t *end,
                                                             uint64_t *out)
{
  const uint8_t *q = *p;
  if (q[0] < 0x80) {
    *out = q[0];
    *p = q + 1;
    return 0;
  }
  if (q[1] < 0x80) {
    *out = (q[0] & 0x7fu) | (uint64_t)q[1] << 7;
    *p = q + 2;
    return 0;
  }
  if (q[2] < 0x80) {
    *out = (q[0] & 0x7fu) | (uint64_t)(q[1] & 0x7fu) << 7 | (uint64_t)q[2] << 14;
    *p = q + 3;
    return 0;
  }
  return ps_get_varint(p, end, out);
}

/* The compact MALLOC_C / FREE_C records with their seq delta in the type byte (nearly every
 * record of an allocation trace), when at least 1 + 3 * 3 bytes are left: each varint read
 * unrolled, no switch. The same fields as the general path below. 1, or 0 to take that path. */
static inline __attribute__((always_inline)) int chunk_next_compact(struct ps_chunk_view *v,
                                                                    struct ps_rec *r)
{
  const uint8_t *p = v->p, *end = v->end;
  uint8_t tb = p[0];
  unsigned type = tb & 15u;
  if ((type != PS_REC_MALLOC_C && type != PS_REC_FREE_C) || (tb >> 4) == 15 || end - p < 10)
    return 0;
  p++;
  uint64_t size = 0, z, stack = 0;
  int alloc = type == PS_REC_MALLOC_C;
  if (alloc && get_varint3(&p, end, &size))
    return 0;
  if (end - p < 3 || get_varint3(&p, end, &z))
    return 0;
  if (alloc && (end - p < 3 || get_varint3(&p, end, &stack)))
    return 0;
  v->p = p;
  v->seq += tb >> 4;
  v->last_ptr += ps_aptr_decode(z);
  v->left--;
  r->type = alloc ? PS_REC_ALLOC : PS_REC_FREE;
  r->fn = alloc ? PS_FN_MALLOC : PS_FN_FREE;
  r->seq = v->seq;
  r->tid = v->hdr.tid;
  r->size = size;
  r->ptr = v->last_ptr;
  r->stack = stack;
  r->time_ns = v->time_ns;
  r->id = r->old_ptr = r->flags = 0;
  r->str = NULL;
  r->str_len = r->bytes_len = 0;
  r->bytes = NULL;
  r->nips = 0;
  r->ips = NULL;
  return 1;
}

int ps_chunk_next(struct ps_trace *t, struct ps_chunk_view *v, struct ps_rec *r)
{
  if (v->left == 0 || v->p >= v->end)
    return 0;
  if (chunk_next_compact(v, r))
    return 1;
  /* only the fields a reader may use for any type are reset (a full memset costs per record) */
  r->id = r->size = r->ptr = r->old_ptr = r->stack = r->flags = 0;
  r->str = NULL;
  r->str_len = r->bytes_len = 0;
  r->bytes = NULL;
  r->nips = 0;
  r->ips = NULL;
  uint8_t tb = *v->p++;
  unsigned type = tb & 15u;
  uint64_t d;
  if (type == PS_REC_MALLOC_C || type == PS_REC_FREE_C) { /* compact: seq delta in the nibble */
    d = tb >> 4;
    if (d == 15)
      GET(d);
    r->type = type == PS_REC_MALLOC_C ? PS_REC_ALLOC : PS_REC_FREE;
    r->fn = type == PS_REC_MALLOC_C ? PS_FN_MALLOC : PS_FN_FREE;
  } else {
    r->type = type;
    r->fn = tb >> 4;
    GET(d);
  }
  v->seq += d;
  r->seq = v->seq;
  r->tid = v->hdr.tid;
  v->left--;
  const uint8_t *s;
  int err = 0;
  switch (type) {
  case PS_REC_MALLOC_C:
    GET(r->size);
    err = get_aptr(t, v, &r->ptr);
    if (!err)
      GET(r->stack);
    break;
  case PS_REC_FREE_C:
    err = get_aptr(t, v, &r->ptr);
    break;
  case PS_REC_MODULE:
    GET(r->id);
    GET(r->ptr);
    GET(r->size);
    err = get_str(t, v, &s, &r->str_len);
    r->str = (const char *)s;
    if (!err)
      err = get_str(t, v, &r->bytes, &r->bytes_len);
    break;
  case PS_REC_UNMODULE:
    GET(r->id);
    break;
  case PS_REC_STACK:
    GET(r->id);
    err = get_ips(t, v, r);
    break;
  case PS_REC_THREAD:
  case PS_REC_NOTE:
    GET(r->id);
    err = get_str(t, v, &s, &r->str_len);
    r->str = (const char *)s;
    break;
  case PS_REC_ALLOC:
  case PS_REC_ALLOCS:
    GET(r->size);
    err = get_ptr(t, v, &r->ptr);
    if (!err)
      GET(r->stack);
    break;
  case PS_REC_FREE:
    err = get_ptr(t, v, &r->ptr);
    break;
  case PS_REC_REALLOC:
    GET(r->size);
    err = get_ptr(t, v, &r->old_ptr);
    if (!err)
      err = get_ptr(t, v, &r->ptr);
    if (!err)
      GET(r->stack);
    break;
  case PS_REC_SAMPLE:
    GET(r->time_ns);
    GET(r->flags);
    if (r->flags & PS_SAMPLE_F_INLINE)
      err = get_ips(t, v, r);
    else
      GET(r->stack);
    v->time_ns = r->time_ns;
    break;
  case PS_REC_LOST:
    GET(r->size);
    break;
  case PS_REC_TIME:
    GET(r->time_ns);
    v->time_ns = r->time_ns;
    break;
  default:
    return corrupt(t, v, "an unknown record type");
  }
  if (err)
    return err;
  if (r->type != PS_REC_SAMPLE)
    r->time_ns = v->time_ns;
  return 1;
}

/* ---- merge in seq order ---- */

static int ix_cmp(const void *a, const void *b)
{
  const struct chunk_ix *x = a, *y = b;
  if (x->tid != y->tid)
    return x->tid < y->tid ? -1 : 1;
  if (x->first_seq != y->first_seq)
    return x->first_seq < y->first_seq ? -1 : 1;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static inline uint64_t cur_key(const struct cursor *c) { return c->key; }

static void heap_swap(struct ps_trace *t, size_t i, size_t j)
{
  size_t x = t->heap[i];
  t->heap[i] = t->heap[j];
  t->heap[j] = x;
}

static void heap_down(struct ps_trace *t, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->nheap && cur_key(&t->cur[t->heap[l]]) < cur_key(&t->cur[t->heap[m]]))
      m = l;
    if (r < t->nheap && cur_key(&t->cur[t->heap[r]]) < cur_key(&t->cur[t->heap[m]]))
      m = r;
    if (m == i)
      return;
    heap_swap(t, i, m);
    i = m;
  }
}

/* Sorts the chunk index into one cursor per thread and builds the heap. */
static void merge_cursors(struct ps_trace *t)
{
  if (t->nix)
    qsort(t->ix, t->nix, sizeof *t->ix, ix_cmp);
  for (size_t i = 0; i < t->nix;) {
    size_t j = i;
    while (j < t->nix && t->ix[j].tid == t->ix[i].tid)
      j++;
    t->cur = ps_xrealloc(t->cur, (t->ncur + 1) * sizeof *t->cur);
    t->cur[t->ncur++] = (struct cursor){.chunks = t->ix + i, .n = j - i, .key = t->ix[i].first_seq};
    i = j;
  }
  t->heap = ps_xcalloc(t->ncur + 1, sizeof *t->heap);
  for (size_t i = 0; i < t->ncur; i++)
    t->heap[t->nheap++] = i;
  for (size_t i = t->nheap / 2 + 1; i-- > 0;)
    heap_down(t, i);
}

/* A lazily read packed trace: the index comes from its chunk-header stream and the records are
 * merged while the job unpacks (chunk_ix.offset is then the chunk's number in file order). 1
 * when streaming, 0 when the trace must be unpacked first (done here), <0 error (printed). */
static int merge_begin_packed(struct ps_trace *t)
{
  t->job = ps_pack_job_start(t->zfd, t->fd, t->path);
  struct ps_pack_index pi;
  ps_pack_index_read(t->zfd, &pi);
  if (!pi.streamable) {
    ps_pack_index_free(&pi);
    int err = raw_complete(t);
    return err ? err : 0;
  }
  t->ix = ps_xmalloc((pi.n ? pi.n : 1) * sizeof *t->ix);
  for (size_t i = 0; i < pi.n; i++)
    t->ix[i] = (struct chunk_ix){i, pi.c[i].first_seq, pi.c[i].tid, pi.c[i].payload_len};
  t->nix = pi.n;
  ps_pack_index_free(&pi);
  t->streaming = 1;
  return 1;
}

int ps_trace_merge_begin(struct ps_trace *t)
{
  if (t->zfd >= 0) {
    int s = merge_begin_packed(t);
    if (s < 0)
      return s;
    if (s) {
      merge_cursors(t);
      return 0;
    }
  }
  size_t cap = 0;
  uint64_t off = t->hdr.header_len;
  for (;;) {
    struct ps_trace_chunk c;
    int ok = chunk_header_at(t, &off, &c);
    if (ok < 0)
      return ok;
    if (ok == 0)
      break;
    if (t->nix == cap) {
      cap = cap ? cap * 2 : 256;
      t->ix = ps_xrealloc(t->ix, cap * sizeof *t->ix);
    }
    t->ix[t->nix++] = (struct chunk_ix){off, c.first_seq, c.tid, c.payload_len};
    off += sizeof c + c.payload_len;
  }
  merge_cursors(t);
  return 0;
}

static int stream_disagrees(struct ps_trace *t, uint64_t k)
{
  ps_error("%s is corrupt: chunk %llu of its packed chunk index disagrees with its unpacked "
           "bytes; the file was damaged after it was written", t->path, (unsigned long long)k);
  return -EINVAL;
}

/* Streaming: waits for the chunk numbered ix->offset and returns its raw offset in *off. 1 ok,
 * 0 when the raw bytes end (in the reader's eyes) before that chunk: the raw scan would not have
 * indexed it, so it is skipped (stream_end checks the count and warns as the scan would). */
static int stream_chunk(struct ps_trace *t, const struct chunk_ix *ix, uint64_t *off)
{
  struct ps_pack_chunk pc;
  int ok = ps_pack_job_chunk(t->job, (size_t)ix->offset, &pc);
  if (ok <= 0)
    return ok;
  if (pc.tid != ix->tid || pc.first_seq != ix->first_seq || pc.payload_len != ix->len)
    return stream_disagrees(t, ix->offset);
  *off = pc.offset;
  return 1;
}

/* Streaming, at the end of the merge: the unpacking must have ended well with the same chunks;
 * when its scan stopped early (bytes that are not a chunk), the reader's own scan of the now
 * complete raw file must find exactly the chunks that were merged, and warns as it always does. */
static int stream_end(struct ps_trace *t)
{
  struct ps_pack_job_end e;
  int err = ps_pack_job_wait(t->job, &e);
  t->streaming = 0;
  if (err)
    return err;
  ps_pack_job_free(t->job);
  t->job = NULL;
  close(t->zfd);
  t->zfd = -1;
  t->file_size = e.raw_len;
  if (e.truncated)
    warn_zst_cut(t);
  if (e.nchunks > t->nix)
    return stream_disagrees(t, t->nix);
  if (e.nchunks < t->nix || e.scan_ended) {
    size_t n = 0;
    uint64_t off = t->hdr.header_len;
    struct ps_trace_chunk c;
    int ok;
    while ((ok = chunk_header_at(t, &off, &c)) == 1) {
      n++;
      off += sizeof c + c.payload_len;
    }
    if (ok < 0)
      return ok;
    if (n != e.nchunks)
      return stream_disagrees(t, n);
  }
  return 0;
}

/* Makes c->rec the cursor's next record, loading chunks as needed. 1 ok, 0 exhausted, <0 err. */
static int cursor_advance(struct ps_trace *t, struct cursor *c)
{
  for (;;) {
    if (!c->loaded) {
      if (c->next == c->n) {
        ps_chunk_release(&c->v);
        return 0;
      }
      struct chunk_ix *ix = &c->chunks[c->next++];
      struct ps_trace_chunk h;
      uint64_t off = ix->offset;
      int err = 0;
      if (t->streaming) {
        int ok = stream_chunk(t, ix, &off);
        if (ok == 0)
          continue; /* not a chunk in the raw bytes */
        err = ok < 0 ? ok : 0;
      }
      if (!err)
        err = read_at(t->fd, &h, sizeof h, off);
      if (!err)
        err = load_chunk(t, off, &h, &c->v);
      if (err)
        return err;
      c->loaded = 1;
    }
    int ok = ps_chunk_next(t, &c->v, &c->rec);
    if (ok < 0)
      return ok;
    if (ok) {
      c->has_rec = 1;
      c->key = c->rec.seq;
      return 1;
    }
    c->loaded = 0;
  }
}

int ps_trace_merge_next(struct ps_trace *t, struct ps_rec *r)
{
  const struct ps_rec *ref;
  int ok = ps_trace_merge_next_ref(t, &ref);
  if (ok == 1)
    *r = *ref;
  return ok;
}

static int merge_next_slow(struct ps_trace *t, const struct ps_rec **r);

/* The hot path: the record returned last time is consumed and the same cursor's next record is
 * a compact one that still comes first (records of one thread come in runs); everything else
 * goes through merge_next_slow. No call, so no registers saved, per record. */
int ps_trace_merge_next_ref(struct ps_trace *t, const struct ps_rec **r)
{
  if (__builtin_expect(t->pending && t->nheap, 1)) {
    struct cursor *c = &t->cur[t->heap[0]];
    struct ps_chunk_view *v = &c->v;
    if (c->loaded && v->left && v->p < v->end && chunk_next_compact(v, &c->rec)) {
      c->key = c->rec.seq;
      if ((t->nheap > 1 && t->cur[t->heap[1]].key < c->key) ||
          (t->nheap > 2 && t->cur[t->heap[2]].key < c->key)) {
        heap_down(t, 0); /* a child now comes first: the general path from here */
        t->pending = 0;
        return merge_next_slow(t, r);
      }
      *r = &c->rec;
      return 1;
    }
  }
  return merge_next_slow(t, r);
}

static __attribute__((noinline)) int merge_next_slow(struct ps_trace *t, const struct ps_rec **r)
{
  if (t->pending && t->nheap) {
    /* the record returned last time is consumed only now, so its pointers stayed valid */
    struct cursor *c = &t->cur[t->heap[0]];
    c->has_rec = 0;
    t->pending = 0;
    int ok = cursor_advance(t, c);
    if (ok < 0)
      return ok;
    if (ok == 0) {
      t->heap[0] = t->heap[--t->nheap];
      heap_down(t, 0);
    } else if ((t->nheap > 1 && t->cur[t->heap[1]].key < c->key) ||
               (t->nheap > 2 && t->cur[t->heap[2]].key < c->key)) {
      heap_down(t, 0); /* only when a child now comes first */
    }
  }
  while (t->nheap) {
    struct cursor *c = &t->cur[t->heap[0]];
    if (!c->has_rec) {
      int ok = cursor_advance(t, c);
      if (ok < 0)
        return ok;
      if (ok == 0)
        t->heap[0] = t->heap[--t->nheap];
      heap_down(t, 0);
      continue;
    }
    *r = &c->rec;
    t->pending = 1;
    return 1;
  }
  return t->streaming ? stream_end(t) : 0;
}

/* ---- finding traces ---- */

int ps_trace_name_ok(const char *dir, const char *name)
{
  size_t l = strlen(name);
  if (l > 4 && !strcmp(name + l - 4, ".pst"))
    return 1;
  if (l <= 8 || strcmp(name + l - 8, ".pst.zst"))
    return 0;
  /* alloc.1.pst.zst next to alloc.1.pst (profile --keep-raw): the raw trace is the one read */
  char *raw = ps_xasprintf("%s/%.*s", dir, (int)(l - 4), name);
  int dup = access(raw, F_OK) == 0;
  free(raw);
  return !dup;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ps_trace_find(const char *dir, const char *prefix, char ***paths, size_t *n)
{
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    ps_error("cannot read the folder %s: %s", dir, strerror(e));
    return -e;
  }
  size_t pl = strlen(prefix);
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l > pl + 5 && !strncmp(de->d_name, prefix, pl) && de->d_name[pl] == '.' &&
        ps_trace_name_ok(dir, de->d_name)) {
      *paths = ps_xrealloc(*paths, (*n + 1) * sizeof **paths);
      (*paths)[(*n)++] = ps_xasprintf("%s/%s", dir, de->d_name);
    }
  }
  closedir(d);
  if (*n)
    qsort(*paths, *n, sizeof **paths, str_cmp);
  return 0;
}

int ps_trace_expand(char *const *args, size_t nargs, const char *prefix, char ***paths, size_t *n)
{
  *paths = NULL;
  *n = 0;
  for (size_t i = 0; i < nargs; i++) {
    struct stat st;
    if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      int err = ps_trace_find(args[i], prefix, paths, n);
      if (err)
        return err;
    } else {
      *paths = ps_xrealloc(*paths, (*n + 1) * sizeof **paths);
      (*paths)[(*n)++] = ps_xstrdup(args[i]);
    }
  }
  return 0;
}

void ps_trace_paths_free(char **paths, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}
