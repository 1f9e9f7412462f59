/* trace-compress.c - zstd compression of finished traces after the run, and streaming
 * decompression for the trace reader (see trace-compress.h). Bounded memory: libzstd's
 * recommended stream buffers (about 128 KiB each) plus the compression context.
 */
#include "trace-compress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util.h"

int ps_trace_is_zstd(const void *buf, size_t len)
{
  static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
  return len >= 4 && !memcmp(buf, magic, 4);
}

static int write_all(int fd, const void *buf, size_t len)
{
  const uint8_t *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

/* Streams in_fd through the compression context into out_fd. 0 or a negative errno. */
static int compress_fd(ZSTD_CCtx *cc, int in_fd, int out_fd, const char *path)
{
  size_t in_cap = ZSTD_CStreamInSize(), out_cap = ZSTD_CStreamOutSize();
  uint8_t *in = ps_xmalloc(in_cap), *out = ps_xmalloc(out_cap);
  int err = 0;
  for (;;) {
    ssize_t n = read_some(in_fd, in, in_cap);
    if (n < 0) {
      err = (int)n;
      ps_error("cannot read %s: %s", path, strerror(-err));
      break;
    }
    ZSTD_EndDirective mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer ib = {in, (size_t)n, 0};
    size_t left;
    do {
      ZSTD_outBuffer ob = {out, out_cap, 0};
      left = ZSTD_compressStream2(cc, &ob, &ib, mode);
      if (ZSTD_isError(left)) {
        ps_error("cannot compress %s: %s", path, ZSTD_getErrorName(left));
        err = -EIO;
        break;
      }
      if ((err = write_all(out_fd, out, ob.pos))) {
        ps_error("cannot write %s.zst: %s (is the disk full?)", path, strerror(-err));
        break;
      }
    } while (!err && (mode == ZSTD_e_end ? left != 0 : ib.pos < ib.size));
    if (err || n == 0)
      break;
  }
  free(in);
  free(out);
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
  char *dst = ps_xasprintf("%s.zst", raw_path);
  char *tmp = ps_xasprintf("%s.zst.tmp.%d", raw_path, (int)getpid());
  int out_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = 0;
  if (out_fd < 0) {
    err = -errno;
    ps_error("cannot create %s: %s; the raw trace %s is kept", tmp, strerror(-err), raw_path);
  } else {
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    err = compress_fd(cc, in_fd, out_fd, raw_path);
    ZSTD_freeCCtx(cc);
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
  close(in_fd);
  free(tmp);
  free(dst);
  return err;
}

int ps_trace_compress_dir(const char *dir, int level, int keep_raw)
{
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    ps_error("cannot read the folder %s: %s", dir, strerror(e));
    return -e;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l > 4 && !strcmp(de->d_name + l - 4, ".pst") &&
        (!strncmp(de->d_name, "alloc.", 6) || !strncmp(de->d_name, "cpu.", 4))) {
      names = ps_xrealloc(names, (n + 1) * sizeof *names);
      names[n++] = ps_xasprintf("%s/%s", dir, de->d_name);
    }
  }
  closedir(d);
  int first = 0;
  for (size_t i = 0; i < n; i++) {
    int err = ps_trace_compress(names[i], level, keep_raw);
    if (err && !first)
      first = err;
    free(names[i]);
  }
  free(names);
  return first;
}

int ps_trace_decompress_fd(int in_fd, int out_fd, const char *path, int *truncated)
{
  *truncated = 0;
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
      if ((err = write_all(out_fd, out, ob.pos))) {
        ps_error("cannot decompress %s into a temporary file: %s (set TMPDIR to a folder "
                 "with space)", path, strerror(-err));
        break;
      }
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
      if ((err = write_all(out_fd, out, ob.pos)))
        break;
      if (last == 0)
        break;
    }
    *truncated = last != 0;
  }
  free(in);
  free(out);
  ZSTD_freeDCtx(dc);
  return err;
}
