/* export-write.c - atomic, unsynced writes of derived outputs (see export-write.h). An fsync per
 * export cost 1-15 ms of waiting each on a busy disk: most of `perfsweep analyze`'s wall time
 * beyond its CPU time. Never used for traces or results.json (they keep ps_write_file_atomic).
 */
#include "export-write.h"

#include "util.h"

int ps_export_write(const char *path, const void *data, size_t len)
{
  return ps_write_file_replace(path, data, len, 0);
}
