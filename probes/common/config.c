/* config.c - reads PERFSWEEP_* for the probes (see config.h). Never: malloc, stdio. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

uint64_t ps_config_u64(const char *s, uint64_t def)
{
  if (!s || !*s)
    return def;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > UINT64_MAX / 10 - 9)
      return def;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  return v;
}

static int pick(const char *s, const char *const *names, int n)
{
  if (!s)
    return 0;
  for (int i = 0; i < n; i++)
    if (!strcmp(s, names[i]))
      return i;
  return 0;
}

void ps_config_read(struct ps_probe_config *c)
{
  static const char *const alloc_names[] = {"off", "exact", "sample"};
  static const char *const cpu_names[] = {"off", "cpu-clock", "task-clock", "wall"};
  const char *dir = getenv("PERFSWEEP_TRACE_DIR");
  c->trace_dir = dir && *dir ? dir : NULL;
  c->alloc_mode = pick(getenv("PERFSWEEP_ALLOC"), alloc_names, 3);
  c->sample_bytes = ps_config_u64(getenv("PERFSWEEP_ALLOC_SAMPLE"), 524288);
  if (c->sample_bytes == 0)
    c->sample_bytes = 524288;
  c->alloc_mmap = ps_config_u64(getenv("PERFSWEEP_ALLOC_MMAP"), 0) == 1;
  c->cpu_mode = pick(getenv("PERFSWEEP_CPU"), cpu_names, 4);
  c->cpu_freq = (unsigned)ps_config_u64(getenv("PERFSWEEP_CPU_FREQ"), 999);
  if (c->cpu_freq == 0 || c->cpu_freq > 100000)
    c->cpu_freq = 999;
  c->cpu_signal = (int)ps_config_u64(getenv("PERFSWEEP_CPU_SIGNAL"), SIGPROF);
  if (c->cpu_signal <= 0 || c->cpu_signal >= 65)
    c->cpu_signal = SIGPROF;
  c->depth = (unsigned)ps_config_u64(getenv("PERFSWEEP_DEPTH"), 64);
  if (c->depth == 0)
    c->depth = 64;
  if (c->depth > 256)
    c->depth = 256;
}
