/* pg-config.c - the shared PostgreSQL run parameters (see pg-config.h). Read once from the
 * environment; a malformed variable is ignored in favour of the default, never a crash.
 */
#include "pg-config.h"

#include <stdlib.h>
#include <string.h>

static struct pg_config cfg;
static int ready;

static long env_long(const char *name, long def, long min, long max)
{
  const char *v = getenv(name);
  if (!v || !*v)
    return def;
  char *end;
  long x = strtol(v, &end, 10);
  return *end || x < min || x > max ? def : x;
}

struct pg_config *pg_config(void)
{
  if (!ready) {
    cfg.batch_size = (size_t)env_long("PERFSWEEP_PG_BATCH_SIZE", 1000, 1, 100000000);
    cfg.workers = (int)env_long("PERFSWEEP_PG_WORKERS", 2, 1, 256);
    cfg.retries = (int)env_long("PERFSWEEP_PG_RETRIES", 0, 0, 100);
    cfg.slow_ms = (double)env_long("PERFSWEEP_PG_SLOW_MS", 100, 0, 86400000);
    cfg.fault_after = -1;
    const char *f = getenv("PERFSWEEP_PG_FAULT");
    char *end;
    if (f && strncmp(f, "terminate-after:", 16) == 0) {
      long n = strtol(f + 16, &end, 10);
      if (!*end && n >= 0)
        cfg.fault_after = n;
    } else if (f && strncmp(f, "delay-ms:", 9) == 0) {
      long n = strtol(f + 9, &end, 10);
      if (!*end && n >= 0 && n <= 60000)
        cfg.delay_ms = n;
    }
    ready = 1;
  }
  return &cfg;
}

void pg_config_set_run(size_t batch_size, int workers, int retries)
{
  struct pg_config *c = pg_config();
  if (batch_size)
    c->batch_size = batch_size;
  if (workers > 0)
    c->workers = workers;
  if (retries > c->retries)
    c->retries = retries;
}
