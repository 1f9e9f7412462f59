/* trace-pack-stream.c - a packed trace read in pieces (see trace-pack-stream.h): its header from
 * the first block, its chunk index from the chunk-header stream, and the unpacking in a thread
 * that publishes each raw chunk as soon as it is written. It never decides what the raw bytes
 * are: the unpacker (trace-pack-read.c) does, hash-checked per block; this file only frames.
 */
#include "trace-pack-stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../probes/common/trace-format.h"
#include "trace-pack-model.h"
#include "trace-pack.h"
#include "util.h"

/* ---- zstd input, shared by the three readers ---- */

typedef int (*zs_cb)(void *ctx, const uint8_t *p, size_t n); /* >0 stop, <0 error */

/* Decompresses the zstd stream of fd from offset 0 (pread) into cb, piece by piece. Returns 0,
 * the callback's value when it stopped the loop, -EINVAL for damaged zstd data or a negative
 * errno for a read error (printed only when path is not NULL). *truncated: 1 when the input
 * ended inside a frame (everything decodable was handed over). */
static int zs_run(int fd, const char *path, zs_cb cb, void *ctx, int *truncated)
{
  ZSTD_DCtx *dc = ZSTD_createDCtx();
  size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
  uint8_t *in = ps_xmalloc(in_cap), *out = ps_xmalloc(out_cap);
  size_t last = 0;
  off_t off = 0;
  int ret = 0;
  *truncated = 0;
  for (;;) {
    ssize_t n = pread(fd, in, in_cap, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ret = -errno;
      if (path)
        ps_error("cannot read %s: %s", path, strerror(-ret));
      break;
    }
    off += n;
    /* at the end of the input: what the decoder still holds for a partial frame */
    ZSTD_inBuffer ib = {in, (size_t)n, 0};
    int flushing = n == 0;
    if (flushing && last == 0)
      break;
    do {
      ZSTD_outBuffer ob = {out, out_cap, 0};
      last = ZSTD_decompressStream(dc, &ob, &ib);
      if (ZSTD_isError(last)) {
        if (path)
          ps_error("%s is corrupt: %s in its zstd data; the file was damaged after it was "
                   "written", path, ZSTD_getErrorName(last));
        ret = -EINVAL;
        break;
      }
      if (ob.pos && (ret = cb(ctx, out, ob.pos)))
        break;
      if (flushing && (ob.pos == 0 || last == 0))
        break;
    } while (ib.pos < ib.size || flushing);
    if (ret || flushing)
      break;
  }
  if (!ret && last != 0)
    *truncated = 1;
  free(in);
  free(out);
  ZSTD_freeDCtx(dc);
  return ret;
}

/* ---- packed framing: magic, version, block headers ---- */

struct frame {
  struct pk_buf in;
  size_t off;      /* parsed up to here */
  int state;       /* 0 magic, 1 blocks, 2 end seen, 3 not followable */
  size_t nblocks;  /* whole blocks seen */
};

/* Appends input and drops what was parsed. */
static void frame_feed(struct frame *f, const uint8_t *p, size_t n)
{
  if (f->off && f->off * 2 >= f->in.len) {
    memmove(f->in.p, f->in.p + f->off, f->in.len - f->off);
    f->in.len -= f->off;
    f->off = 0;
  }
  pk_put_bytes(&f->in, p, n);
}

static int frame_varint(struct frame *f, size_t *off, uint64_t *v)
{
  const uint8_t *p = f->in.p + *off, *end = f->in.p + f->in.len;
  if (!ps_get_varint(&p, end, v)) {
    *off = (size_t)(p - f->in.p);
    return 1;
  }
  return end - (f->in.p + *off) >= PS_VARINT_MAX ? -1 : 0;
}

/* The next whole block: 1 with its header and streams (rd), 0 when more input is needed (or the
 * end marker was read: state 2), -1 when the framing cannot be followed (state 3). */
static int frame_block(struct frame *f, uint64_t *raw_len, uint64_t *hash, struct pk_rd *rd)
{
  size_t off = f->off;
  uint64_t v;
  int r;
  if (f->state == 0) {
    if (f->in.len - off < 8)
      return 0;
    if (!ps_trace_is_packed(f->in.p + off, 8))
      return f->state = 3, -1;
    off += 8;
    if ((r = frame_varint(f, &off, &v)) <= 0)
      return r ? (f->state = 3, -1) : 0;
    if (v < PS_PACK_VERSION_MIN || v > PS_PACK_VERSION)
      return f->state = 3, -1;
    f->state = 1;
    f->off = off;
  }
  if (f->state != 1)
    return f->state == 2 ? 0 : -1;
  uint64_t slen[PK_NSTREAMS], sum = 0;
  if ((r = frame_varint(f, &off, raw_len)) <= 0)
    return r ? (f->state = 3, -1) : 0;
  if (*raw_len == 0) {
    if ((r = frame_varint(f, &off, &v)) <= 0)
      return r ? (f->state = 3, -1) : 0;
    f->state = 2;
    f->off = off;
    return 0;
  }
  if (f->in.len - off < 8)
    return 0;
  *hash = 0;
  for (int i = 0; i < 8; i++)
    *hash |= (uint64_t)f->in.p[off + i] << (8 * i);
  off += 8;
  for (int i = 0; i < PK_NSTREAMS; i++) {
    if ((r = frame_varint(f, &off, &slen[i])) <= 0)
      return r ? (f->state = 3, -1) : 0;
    sum += slen[i];
    if (slen[i] > (256u << 20) || sum > (256u << 20))
      return f->state = 3, -1;
  }
  if (f->in.len - off < sum)
    return 0;
  const uint8_t *body = f->in.p + off;
  for (int i = 0; i < PK_NSTREAMS; i++) {
    rd[i] = (struct pk_rd){body, body + slen[i], 0};
    body += slen[i];
  }
  f->off = off + sum;
  f->nblocks++;
  return 1;
}

/* ---- the header: the first block alone ---- */

struct head_ctx {
  struct frame f;
  uint8_t *head;
  size_t len;
};

static int head_cb(void *ctx, const uint8_t *p, size_t n)
{
  struct head_ctx *h = ctx;
  frame_feed(&h->f, p, n);
  uint64_t raw_len, hash;
  struct pk_rd rd[PK_NSTREAMS];
  int r = frame_block(&h->f, &raw_len, &hash, rd);
  if (r == 0)
    return h->f.state == 2 ? 1 : 0;
  if (r < 0)
    return 1;
  /* exactly one verbatim piece of raw_len bytes, every other stream empty */
  int ok = rd[PK_OP].end - rd[PK_OP].p == 1 && *rd[PK_OP].p == PK_K_RAW &&
           (uint64_t)(rd[PK_RAW].end - rd[PK_RAW].p) == raw_len;
  for (int i = 0; ok && i < PK_NSTREAMS; i++)
    if (i != PK_OP && i != PK_RAW && i != PK_LEN && rd[i].p != rd[i].end)
      ok = 0;
  if (ok) {
    uint64_t l = pk_get_varint(&rd[PK_LEN]);
    ok = !rd[PK_LEN].bad && rd[PK_LEN].p == rd[PK_LEN].end && l == raw_len &&
         raw_len >= sizeof(struct ps_trace_header) && pk_hash(rd[PK_RAW].p, raw_len) == hash;
  }
  if (ok) {
    h->head = ps_xmalloc(raw_len);
    memcpy(h->head, rd[PK_RAW].p, raw_len);
    h->len = raw_len;
  }
  return 1;
}

int ps_pack_head(int zfd, uint8_t **head, size_t *len)
{
  struct head_ctx h = {0};
  int trunc;
  zs_run(zfd, NULL, head_cb, &h, &trunc);
  free(h.f.in.p);
  *head = h.head;
  *len = h.len;
  return h.head != NULL;
}

/* ---- the index: chunk headers of every whole block ---- */

struct index_ctx {
  struct frame f;
  struct ps_pack_index *ix;
  size_t cap;
  uint64_t prev_first_seq;
  int bad;
};

/* Reads the chunk headers of one block; 0, or -1 when the block does not frame as expected. */
static int index_block(struct index_ctx *x, uint64_t raw_len, struct pk_rd *rd)
{
  uint64_t chunk_bytes = 0, lens = 0;
  struct pk_rd *cs = &rd[PK_CHUNK];
  while (cs->p < cs->end) {
    uint64_t tid = pk_get_varint(cs), nrec = pk_get_varint(cs);
    uint64_t first = x->prev_first_seq + (uint64_t)ps_unzigzag(pk_get_varint(cs));
    pk_get_varint(cs); /* mono_ns delta */
    uint64_t plen = pk_get_varint(cs);
    if (cs->bad || tid > UINT32_MAX || nrec > UINT32_MAX || plen > PS_TRACE_MAX_PAYLOAD)
      return -1;
    x->prev_first_seq = first;
    if (x->ix->n == x->cap) {
      x->cap = x->cap ? 2 * x->cap : 1024;
      x->ix->c = ps_xrealloc(x->ix->c, x->cap * sizeof *x->ix->c);
    }
    x->ix->c[x->ix->n++] = (struct ps_pack_chunk){0, first, (uint32_t)tid, (uint32_t)nrec,
                                                   (uint32_t)plen};
    chunk_bytes += sizeof(struct ps_trace_chunk) + plen;
  }
  if (x->f.nblocks == 1) /* the header block (ps_pack_head checked it): no chunk */
    return x->ix->n ? -1 : 0;
  /* LEN holds verbatim lengths (their bytes in RAW) and zero runs (no bytes): the raw bytes of
   * the block are its chunks and zero runs only when nothing else is left */
  while (rd[PK_LEN].p < rd[PK_LEN].end)
    lens += pk_get_varint(&rd[PK_LEN]);
  uint64_t zeros = lens - (uint64_t)(rd[PK_RAW].end - rd[PK_RAW].p);
  if (rd[PK_LEN].bad || lens < (uint64_t)(rd[PK_RAW].end - rd[PK_RAW].p) ||
      chunk_bytes + zeros != raw_len)
    return -1;
  return 0;
}

static int index_cb(void *ctx, const uint8_t *p, size_t n)
{
  struct index_ctx *x = ctx;
  frame_feed(&x->f, p, n);
  for (;;) {
    uint64_t raw_len, hash;
    struct pk_rd rd[PK_NSTREAMS];
    int r = frame_block(&x->f, &raw_len, &hash, rd);
    if (r == 0)
      return 0;
    if (r < 0 || index_block(x, raw_len, rd)) {
      x->bad = 1;
      return 1;
    }
  }
}

void ps_pack_index_read(int zfd, struct ps_pack_index *ix)
{
  *ix = (struct ps_pack_index){0};
  struct index_ctx x = {.ix = ix};
  int trunc;
  int err = zs_run(zfd, NULL, index_cb, &x, &trunc);
  ix->streamable = !err && !x.bad && x.f.nblocks >= 1;
  free(x.f.in.p);
}

void ps_pack_index_free(struct ps_pack_index *ix)
{
  free(ix->c);
  ix->c = NULL;
  ix->n = 0;
}

/* ---- the unpacking thread ---- */

struct ps_pack_job {
  int zfd, out_fd;
  char *path;
  pthread_t th;
  int threaded;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  /* shared, under mu */
  struct ps_pack_chunk *c;
  size_t n, cap;
  int done, err, truncated, stop;
  uint64_t written;
  /* the thread's own scan state */
  uint64_t pos, zrun;
  int scan_end; /* the scan met bytes that are not a chunk: no chunk after them is published */
  size_t nblocks;
};

/* The reader's view of the raw bytes (trace-reader.c, chunk_header_at): zero runs of 4 bytes or
 * more are padding, anything else must be a whole chunk, and the scan ends at the first thing
 * that is not. A block always ends between units, so a chunk never straddles two blocks. */
static void job_scan(struct ps_pack_job *j, const uint8_t *b, uint64_t base, size_t len)
{
  uint64_t end = base + len;
  while (!j->scan_end && j->pos < end) {
    const uint8_t *p = b + (j->pos - base);
    size_t avail = (size_t)(end - j->pos);
    if (j->zrun || !*p) {
      size_t z = 0;
      while (z < avail && !p[z])
        z++;
      j->zrun += z;
      j->pos += z;
      if (z < avail) {
        j->scan_end = j->zrun < 4;
        j->zrun = 0;
      }
      continue;
    }
    struct ps_trace_chunk h;
    if (avail < sizeof h) {
      j->scan_end = 1;
      break;
    }
    memcpy(&h, p, sizeof h);
    if (h.magic != PS_CHUNK_MAGIC || h.payload_len > PS_TRACE_MAX_PAYLOAD ||
        h.payload_len > avail - sizeof h) {
      j->scan_end = 1;
      break;
    }
    pthread_mutex_lock(&j->mu);
    if (j->n == j->cap) {
      j->cap = j->cap ? 2 * j->cap : 1024;
      j->c = ps_xrealloc(j->c, j->cap * sizeof *j->c);
    }
    j->c[j->n++] = (struct ps_pack_chunk){j->pos, h.first_seq, h.tid, h.nrecords, h.payload_len};
    pthread_mutex_unlock(&j->mu);
    j->pos += sizeof h + h.payload_len;
  }
}

/* The unpacker's sink: one whole block of raw bytes. */
static int job_sink(void *ctx, const void *buf, size_t len)
{
  struct ps_pack_job *j = ctx;
  if (__atomic_load_n(&j->stop, __ATOMIC_RELAXED))
    return -ECANCELED;
  const uint8_t *p = buf;
  uint64_t base = j->written;
  for (size_t done = 0; done < len;) {
    ssize_t n = pwrite(j->out_fd, p + done, len - done, (off_t)(base + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      ps_error("cannot decompress %s into a temporary file: %s (set TMPDIR to a folder with "
               "space)", j->path, strerror(e));
      return -e;
    }
    done += (size_t)n;
  }
  if (j->nblocks++ == 0)
    j->pos = len; /* the file header: the reader starts after it */
  else
    job_scan(j, p, base, len);
  pthread_mutex_lock(&j->mu);
  j->written = base + len;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return 0;
}

static int job_feed(void *ctx, const uint8_t *p, size_t n)
{
  struct ps_unpack *u = ((void **)ctx)[0];
  struct ps_pack_job *j = ((void **)ctx)[1];
  int err = ps_unpack_feed(u, p, n);
  if (err == -EINVAL)
    ps_error("%s is corrupt: %s in its packed data; the file was damaged after it was written",
             j->path, ps_unpack_error(u));
  return err;
}

static void *job_run(void *arg)
{
  struct ps_pack_job *j = arg;
  struct ps_unpack *u = ps_unpack_new(job_sink, j);
  void *ctx[2] = {u, j};
  int ztrunc = 0, utrunc = 0;
  int err = zs_run(j->zfd, j->path, job_feed, ctx, &ztrunc);
  int ferr = ps_unpack_finish(u, &utrunc);
  if (!err)
    err = ferr;
  ps_unpack_free(u);
  if (!err && j->zrun && j->zrun < 4)
    j->scan_end = 1; /* the reader calls 1..3 zero bytes at the end a torn chunk */
  pthread_mutex_lock(&j->mu);
  j->err = err;
  j->truncated = ztrunc || utrunc;
  j->done = 1;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return NULL;
}

struct ps_pack_job *ps_pack_job_start(int zfd, int out_fd, const char *path)
{
  struct ps_pack_job *j = ps_xcalloc(1, sizeof *j);
  j->zfd = zfd;
  j->out_fd = out_fd;
  j->path = ps_xstrdup(path);
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  j->threaded = pthread_create(&j->th, NULL, job_run, j) == 0;
  if (!j->threaded)
    job_run(j);
  return j;
}

int ps_pack_job_chunk(struct ps_pack_job *j, size_t k, struct ps_pack_chunk *c)
{
  pthread_mutex_lock(&j->mu);
  while (j->n <= k && !j->done)
    pthread_cond_wait(&j->cv, &j->mu);
  int ret = 1;
  if (j->n > k)
    *c = j->c[k];
  else
    ret = j->err ? j->err : 0;
  pthread_mutex_unlock(&j->mu);
  return ret;
}

int ps_pack_job_wait(struct ps_pack_job *j, struct ps_pack_job_end *e)
{
  pthread_mutex_lock(&j->mu);
  while (!j->done)
    pthread_cond_wait(&j->cv, &j->mu);
  *e = (struct ps_pack_job_end){j->written, j->truncated, j->n, j->scan_end};
  int err = j->err;
  pthread_mutex_unlock(&j->mu);
  return err;
}

void ps_pack_job_free(struct ps_pack_job *j)
{
  if (!j)
    return;
  __atomic_store_n(&j->stop, 1, __ATOMIC_RELAXED);
  if (j->threaded)
    pthread_join(j->th, NULL);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j->c);
  free(j->path);
  free(j);
}
