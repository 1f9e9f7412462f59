/* flamegraph.c - placeholder until the flame graph writer lands. */
#include "flamegraph.h"

#include <errno.h>

int flamegraph_write_svg(const char *folded_path, const char *svg_path, const struct flame_opts *o)
{
  return -ENOSYS;
}

int flamegraph_write_diff_svg(const char *base_folded, const char *new_folded,
                              const char *svg_path, const struct flame_opts *o)
{
  return -ENOSYS;
}
