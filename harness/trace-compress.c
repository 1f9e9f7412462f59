/* trace-compress.c - compression of finished traces after the run (packed form, trace-pack.h,
 * in one zstd frame) and streaming decompression for the trace reader (see trace-compress.h).
 * Memory: libzstd's stream buffers and context, the packer's tables and block, and for a big
 * trace the packed bytes queued for the zstd thread (trace-zsink.h; at most the packed size).
 */
#include "trace-compress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "trace-pack.h"
#include "trace-zsink.h"
#include "util.h"

int ps_trace_is_zstd(const void *buf, size_t len)
{
  static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
  return len >= 4 && !memcmp(buf, magic, 4);
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

/* The packer's sink in the calling thread (trace-zsink.h: each stream its own zstd block). */
static int zsink_write(void *ctx, const void *buf, size_t len)
{
  return ps_zsink_push(ctx, buf, len, ps_zsink_mode(len));
}

/* A growing memory buffer as a pack sink (small traces). */
struct mem_sink {
  uint8_t *p;
  size_t len, cap;
};

static int mem_write(void *ctx, const void *buf, size_t len)
{
  struct mem_sink *m = ctx;
  if (m->len + len > m->cap) {
    m->cap = 2 * (m->len + len);
    m->p = ps_xrealloc(m->p, m->cap);
  }
  memcpy(m->p + m->len, buf, len);
  m->len += len;
  return 0;
}

/* Level for a trace of raw_len bytes: small traces (module and stack records, a few kB) get a
 * high level, which costs microseconds there; big ones the harness level (measured). */
static int level_for(size_t raw_len, int level)
{
  return raw_len <= PS_TRACE_SMALL_BYTES && level < PS_TRACE_ZSTD_SMALL_LEVEL
             ? PS_TRACE_ZSTD_SMALL_LEVEL
             : level;
}

/* Compresses raw[0..len), the trace's file mapped read-only, into fd: packed (trace-pack.h) when
 * the packer reproduces every byte, else (a packer bug, reported) the raw bytes as they are. 0 or
 * a negative errno. */
static int compress_bytes(const uint8_t *raw, size_t len, int fd, int level, const char *path)
{
  struct ps_zsink z = {ZSTD_createCCtx(), fd, NULL, ZSTD_CStreamOutSize(), path};
  z.out = ps_xmalloc(z.cap);
  ZSTD_CCtx_setParameter(z.cc, ZSTD_c_compressionLevel, level_for(len, level));
  ZSTD_CCtx_setParameter(z.cc, ZSTD_c_checksumFlag, 1);
  int err;
  if (len <= PS_TRACE_SMALL_BYTES) {
    /* packed in memory first: with its size known, zstd sizes its tables to it (a high level on
     * a few kB then costs microseconds, not the tables of a big window) */
    struct mem_sink ms = {NULL, 0, 0};
    err = ps_trace_pack(raw, len, 1, mem_write, &ms);
    if (!err) {
      ZSTD_CCtx_setPledgedSrcSize(z.cc, ms.len);
      err = ps_zsink_push(&z, ms.p, ms.len, ZSTD_e_continue);
    }
    free(ms.p);
  } else {
    /* zstd in a thread of its own while the packer goes on (the same bytes) */
    struct ps_zsink_async *a = ps_zsink_async_start(&z);
    if (a) {
      err = ps_trace_pack_mapped(raw, len, ps_zsink_async_write, a);
      int aerr = ps_zsink_async_finish(a, err != 0);
      if (!err)
        err = aerr;
    } else {
      err = ps_trace_pack_mapped(raw, len, zsink_write, &z);
    }
  }
  if (err == -EPROTO) {
    ps_warn("packing %s did not reproduce it byte for byte (a perfsweep bug: please report it); "
            "storing it compressed without packing", path);
    ZSTD_CCtx_reset(z.cc, ZSTD_reset_session_only);
    err = ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
    if (err)
      ps_error("cannot rewrite %s.zst: %s", path, strerror(-err));
    else
      err = ps_zsink_push(&z, raw, len, ZSTD_e_continue);
  }
  if (!err)
    err = ps_zsink_push(&z, NULL, 0, ZSTD_e_end);
  ZSTD_freeCCtx(z.cc);
  free(z.out);
  return err;
}

int ps_trace_compress(const char *raw_path, int level, int keep_raw)
{
  int in_fd = open(raw_path, O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) {
    int e = errno;
    ps_error("cannot open trace %s to compress it: %s", raw_path, strerror(e));
    return -e;
  }
  struct stat st;
  if (fstat(in_fd, &st) < 0) {
    int e = errno;
    ps_error("cannot read trace %s to compress it: %s", raw_path, strerror(e));
    close(in_fd);
    return -e;
  }
  size_t len = (size_t)st.st_size;
  const uint8_t *raw = (const uint8_t *)"";
  void *map = NULL;
  if (len) {
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, in_fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      ps_error("cannot map trace %s to compress it: %s", raw_path, strerror(e));
      close(in_fd);
      return -e;
    }
    madvise(map, len, MADV_SEQUENTIAL);
    raw = map;
  }
  char *dst = ps_xasprintf("%s.zst", raw_path);
  char *tmp = ps_xasprintf("%s.zst.tmp.%d", raw_path, (int)getpid());
  int out_fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = 0;
  if (out_fd < 0) {
    err = -errno;
    ps_error("cannot create %s: %s; the raw trace %s is kept", tmp, strerror(-err), raw_path);
  } else {
    err = compress_bytes(raw, len, out_fd, level, raw_path);
    if (close(out_fd) < 0 && !err) {
      err = -errno;
      ps_error("cannot write %s: %s", tmp, strerror(-err));
    }
    if (!err && rename(tmp, dst) < 0) {
      err = -errno;
      ps_error("cannot rename %s to %s: %s", tmp, dst, strerror(-err));
    }
    if (err)
      unlink(tmp);
    else if (!keep_raw && unlink(raw_path) < 0)
      ps_warn("cannot remove %s after compressing it: %s", raw_path, strerror(errno));
  }
  if (map)
    munmap(map, len);
  close(in_fd);
  free(tmp);
  free(dst);
  return err;
}

/* The alloc.*.pst and cpu.*.pst of dir (malloc'd paths). 0 or a negative errno (printed). */
static int list_raw(const char *dir, char ***names, size_t *n)
{
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    ps_error("cannot read the folder %s: %s", dir, strerror(e));
    return -e;
  }
  *names = NULL;
  *n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l > 4 && !strcmp(de->d_name + l - 4, ".pst") &&
        (!strncmp(de->d_name, "alloc.", 6) || !strncmp(de->d_name, "cpu.", 4))) {
      *names = ps_xrealloc(*names, (*n + 1) * sizeof **names);
      (*names)[(*n)++] = ps_xasprintf("%s/%s", dir, de->d_name);
    }
  }
  closedir(d);
  return 0;
}

int ps_trace_compress_dir(const char *dir, int level, int keep_raw)
{
  char **names;
  size_t n;
  int first = list_raw(dir, &names, &n);
  for (size_t i = 0; i < n; i++) {
    int err = ps_trace_compress(names[i], level, keep_raw);
    if (err && !first)
      first = err;
    free(names[i]);
  }
  free(names);
  return first;
}

struct ps_trace_compress_job {
  char **names;
  int *errs;
  size_t n;
  int level, list_err;
  pthread_t thread;
};

static void *job_run(void *arg)
{
  struct ps_trace_compress_job *j = arg;
  for (size_t i = 0; i < j->n; i++)
    j->errs[i] = ps_trace_compress(j->names[i], j->level, 1);
  return NULL;
}

struct ps_trace_compress_job *ps_trace_compress_dir_start(const char *dir, int level)
{
  struct ps_trace_compress_job *j = ps_xcalloc(1, sizeof *j);
  j->level = level;
  j->list_err = list_raw(dir, &j->names, &j->n);
  j->errs = ps_xcalloc(j->n ? j->n : 1, sizeof *j->errs);
  if (pthread_create(&j->thread, NULL, job_run, j)) {
    for (size_t i = 0; i < j->n; i++)
      free(j->names[i]);
    free(j->names);
    free(j->errs);
    free(j);
    return NULL;
  }
  return j;
}

int ps_trace_compress_dir_finish(struct ps_trace_compress_job *j, int keep_raw)
{
  pthread_join(j->thread, NULL);
  int first = j->list_err;
  for (size_t i = 0; i < j->n; i++) {
    if (j->errs[i] && !first)
      first = j->errs[i];
    if (!j->errs[i] && !keep_raw && unlink(j->names[i]) < 0)
      ps_warn("cannot remove %s after compressing it: %s", j->names[i], strerror(errno));
    free(j->names[i]);
  }
  free(j->names);
  free(j->errs);
  free(j);
  return first;
}

/* Output side of the decompression: detects the packed form in the first bytes and routes
 * everything through the unpacker then, else writes the bytes as they are. */
struct dsink {
  int fd;
  int mode; /* 0 undecided, 1 plain, 2 packed */
  uint8_t head[8];
  size_t nhead;
  struct ps_unpack *u;
  const char *path;
};

static int fd_sink(void *ctx, const void *buf, size_t len)
{
  return ps_write_all(*(int *)ctx, buf, len);
}

static int dsink_pass(struct dsink *d, const void *buf, size_t len)
{
  int err = d->mode == 2 ? ps_unpack_feed(d->u, buf, len) : ps_write_all(d->fd, buf, len);
  if (err == -EINVAL && d->mode == 2)
    ps_error("%s is corrupt: %s in its packed data; the file was damaged after it was written",
             d->path, ps_unpack_error(d->u));
  else if (err)
    ps_error("cannot decompress %s into a temporary file: %s (set TMPDIR to a folder with "
             "space)", d->path, strerror(-err));
  return err;
}

static int dsink_write(struct dsink *d, const uint8_t *buf, size_t len)
{
  if (d->mode == 0) {
    size_t n = len < 8 - d->nhead ? len : 8 - d->nhead;
    memcpy(d->head + d->nhead, buf, n);
    d->nhead += n;
    buf += n;
    len -= n;
    if (d->nhead < 8)
      return 0;
    d->mode = ps_trace_is_packed(d->head, 8) ? 2 : 1;
    if (d->mode == 2)
      d->u = ps_unpack_new(fd_sink, &d->fd);
    int err = dsink_pass(d, d->head, 8);
    if (err)
      return err;
  }
  return len ? dsink_pass(d, buf, len) : 0;
}

/* At the end: the bytes of a stream shorter than a magic, the unpacker's verdict. */
static int dsink_end(struct dsink *d, int *truncated)
{
  int err = 0, trunc = 0;
  if (d->mode == 0 && d->nhead)
    err = dsink_pass(d, d->head, d->nhead);
  if (d->mode == 2)
    err = ps_unpack_finish(d->u, &trunc);
  if (trunc)
    *truncated = 1;
  ps_unpack_free(d->u);
  return err;
}

int ps_trace_decompress_fd(int in_fd, int out_fd, const char *path, int *truncated)
{
  *truncated = 0;
  struct dsink ds = {out_fd, 0, {0}, 0, NULL, path};
  ZSTD_DCtx *dc = ZSTD_createDCtx();
  size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
  uint8_t *in = ps_xmalloc(in_cap), *out = ps_xmalloc(out_cap);
  size_t last = 0; /* 0 when the last frame was complete */
  int err = 0;
  for (;;) {
    ssize_t n = read_some(in_fd, in, in_cap);
    if (n < 0) {
      err = (int)n;
      ps_error("cannot read %s: %s", path, strerror(-err));
      break;
    }
    if (n == 0)
      break;
    ZSTD_inBuffer ib = {in, (size_t)n, 0};
    while (ib.pos < ib.size) {
      ZSTD_outBuffer ob = {out, out_cap, 0};
      last = ZSTD_decompressStream(dc, &ob, &ib);
      if (ZSTD_isError(last)) {
        ps_error("%s is corrupt: %s in its zstd data; the file was damaged after it was "
                 "written", path, ZSTD_getErrorName(last));
        err = -EINVAL;
        break;
      }
      if ((err = dsink_write(&ds, out, ob.pos)))
        break;
    }
    if (err)
      break;
  }
  if (!err && last != 0) {
    /* flush what the decoder still holds for the partial frame */
    for (;;) {
      ZSTD_inBuffer ib = {in, 0, 0};
      ZSTD_outBuffer ob = {out, out_cap, 0};
      last = ZSTD_decompressStream(dc, &ob, &ib);
      if (ZSTD_isError(last) || ob.pos == 0)
        break;
      if ((err = dsink_write(&ds, out, ob.pos)))
        break;
      if (last == 0)
        break;
    }
    *truncated = last != 0;
  }
  int eerr = dsink_end(&ds, truncated);
  if (!err)
    err = eerr;
  free(in);
  free(out);
  ZSTD_freeDCtx(dc);
  return err;
}
