/* util.c - messages, checked allocation, atomic writes and paths for the harness.
 * Never used by the probes (they must not call malloc or stdio).
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *progname = "perfsweep";

void ps_set_progname(const char *name) { progname = name; }
const char *ps_progname(void) { return progname; }

static void vmessage(const char *kind, const char *fmt, va_list ap)
{
  fflush(stdout);
  fprintf(stderr, "%s: %s: ", progname, kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void ps_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmessage("error", fmt, ap);
  va_end(ap);
}

void ps_warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmessage("warning", fmt, ap);
  va_end(ap);
}

noreturn void ps_die(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmessage("error", fmt, ap);
  va_end(ap);
  exit(code);
}

static void *oom(size_t n)
{
  ps_die(PS_EXIT_ENVIRONMENT, "out of memory allocating %zu bytes", n);
}

void *ps_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  return p ? p : oom(n);
}

void *ps_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  return p ? p : oom(n * size);
}

void *ps_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  return q ? q : oom(n);
}

char *ps_xstrdup(const char *s)
{
  char *p = strdup(s);
  return p ? p : oom(strlen(s) + 1);
}

char *ps_xasprintf(const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  return n < 0 ? oom(0) : s;
}

int ps_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int ps_write_file_replace(const char *path, const void *data, size_t len, int sync)
{
  /* a temporary name of this writer alone (pid and a per-process count), so threads and
   * processes replacing the same file at once never write into each other's temporary file */
  static unsigned long count;
  char *tmp = ps_xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
                           __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  int err = 0;
  if (fd < 0) {
    err = -errno;
    free(tmp);
    return err;
  }
  err = ps_write_all(fd, data, len);
  if (!err && sync && fsync(fd) < 0)
    err = -errno;
  if (close(fd) < 0 && !err)
    err = -errno;
  if (!err && rename(tmp, path) < 0)
    err = -errno;
  if (err)
    unlink(tmp);
  free(tmp);
  return err;
}

int ps_write_file_atomic(const char *path, const void *data, size_t len)
{
  return ps_write_file_replace(path, data, len, 1);
}

int ps_read_file(const char *path, char **data, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t cap = 65536, n = 0;
  char *buf = ps_xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap)
      buf = ps_xrealloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int err = -errno;
      close(fd);
      free(buf);
      return err;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *data = buf;
  if (len)
    *len = n;
  return 0;
}

/* mkdir -p: the directory itself first (one call when only it is missing), its parents only
 * when it has none. */
static int mkdir_p(char *buf, unsigned mode)
{
  if (mkdir(buf, mode) == 0)
    return 0;
  if (errno == ENOENT) {
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) {
      *slash = '\0';
      int e = mkdir_p(buf, mode);
      *slash = '/';
      if (e)
        return e;
      if (mkdir(buf, mode) == 0)
        return 0;
    }
  }
  if (errno != EEXIST)
    return -errno;
  struct stat st;
  if (stat(buf, &st) < 0)
    return -errno;
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int ps_mkdir_p(const char *path, unsigned mode)
{
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof(buf))
    return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  while (n > 1 && buf[n - 1] == '/') /* "a/b/" is "a/b" */
    buf[--n] = '\0';
  return mkdir_p(buf, mode);
}

char *ps_exe_dir(void)
{
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n < 0)
    return ps_xstrdup(".");
  buf[n] = '\0';
  return ps_xstrdup(dirname(buf));
}

int ps_use_color(FILE *stream)
{
  const char *nc = getenv("NO_COLOR");
  if (nc && *nc)
    return 0;
  return isatty(fileno(stream));
}
