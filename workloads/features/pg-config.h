/* pg-config.h - the run parameters the PostgreSQL source and sink share: batch size, workers
 * (one connection each), retries for transient errors, the slow-statement threshold and a
 * test-only fault. The source records what `run` passed it, so the sink batches the same way;
 * environment variables fill what the command line cannot carry (docs/postgres.md).
 */
#ifndef PERFSWEEP_PG_CONFIG_H
#define PERFSWEEP_PG_CONFIG_H

#include <stddef.h>

struct pg_config {
  size_t batch_size;   /* entities per batch / rows per page (--batch-size of a postgres source,
                        * else PERFSWEEP_PG_BATCH_SIZE, default 1000) */
  int workers;         /* connections (--workers of a postgres source, else PERFSWEEP_PG_WORKERS,
                        * default 2) */
  int retries;         /* reconnect-and-retry attempts per batch (--retries / PERFSWEEP_PG_RETRIES) */
  double slow_ms;      /* statements at least this slow are reported (PERFSWEEP_PG_SLOW_MS, 100) */
  long fault_after;    /* test aid (PERFSWEEP_PG_FAULT=terminate-after:N): the sink's connection
                        * is terminated by the server after N committed batches; -1 off */
  long delay_ms;       /* test aid (PERFSWEEP_PG_FAULT=delay-ms:N): the sink waits N ms after
                        * each committed batch, so a test can act in the middle of a run */
};

/* The current configuration (defaults and environment applied on first use). Never NULL. */
struct pg_config *pg_config(void);
/* Records the batch size and workers of the run (called by the postgres source). */
void pg_config_set_run(size_t batch_size, int workers, int retries);

#endif
