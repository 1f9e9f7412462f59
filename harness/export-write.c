/* export-write.c - atomic, unsynced writes of derived outputs (see export-write.h). An fsync per
 * export cost 1-15 ms of waiting each on a busy disk: most of `perfsweep analyze`'s wall time
 * beyond its CPU time. Never used for traces or results.json (they keep ps_write_file_atomic).
 */
#include "export-write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

int ps_export_write(const char *path, const void *data, size_t len)
{
  char *tmp = ps_xasprintf("%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = -errno;
    free(tmp);
    return err;
  }
  int err = 0;
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      err = -errno;
      break;
    }
    p += w;
    len -= (size_t)w;
  }
  if (close(fd) < 0 && !err)
    err = -errno;
  if (!err && rename(tmp, path) < 0)
    err = -errno;
  if (err)
    unlink(tmp);
  free(tmp);
  return err;
}
