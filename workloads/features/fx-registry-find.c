/* fx-registry-find.c - lookup of sources and sinks by the scheme of a "scheme:arg" spec, and
 * the atomic file writer the file sinks share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit-codes.h"
#include "fx-sink.h"
#include "fx-source.h"

static int scheme_is(const char *spec, const char *scheme, const char **arg)
{
  size_t n = strlen(scheme);
  if (strncmp(spec, scheme, n) != 0 || (spec[n] != ':' && spec[n] != '\0'))
    return 0;
  *arg = spec[n] ? spec + n + 1 : "";
  return 1;
}

const struct fx_source_ops *fx_source_find(const char *spec, const char **arg)
{
  for (int i = 0; fx_sources[i]; i++)
    if (scheme_is(spec, fx_sources[i]->scheme, arg))
      return fx_sources[i];
  return NULL;
}

const struct fx_sink_ops *fx_sink_find(const char *spec, const char **arg)
{
  for (int i = 0; fx_sinks[i]; i++)
    if (scheme_is(spec, fx_sinks[i]->scheme, arg))
      return fx_sinks[i];
  return NULL;
}

static int mkdirs(const char *dir)
{
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int fx_sink_write_file(const char *dir, const char *name, const char *data, size_t len,
                       char *err, size_t errlen)
{
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (mkdirs(dir) != 0) {
    snprintf(err, errlen, "%s: cannot create the folder (%s); choose a writable folder", dir,
             strerror(errno));
    return PS_EXIT_IO;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t off = 0;
  while (fd >= 0 && off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  if (fd < 0 || off < len || close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    snprintf(err, errlen, "%s: cannot write (%s); check permissions and free space", path,
             strerror(e));
    return PS_EXIT_IO;
  }
  return 0;
}
