/* pg-load.h - writes a normalized dataset (fx-rows.h) into PostgreSQL with COPY: the schema of
 * pg-schema.h, every table streamed in chunks, then keys, indexes and ANALYZE, all in one
 * transaction (a failed load leaves the previous dataset in place).
 */
#ifndef PERFSWEEP_PG_LOAD_H
#define PERFSWEEP_PG_LOAD_H

#include <stdint.h>

#include "fx-rows.h"
#include "pg-session.h"

enum pg_table {
  PG_T_DATASET, PG_T_SHOPS, PG_T_PRODUCTS, PG_T_COLLECTIONS, PG_T_COLLECTION_PRODUCTS,
  PG_T_CUSTOMERS, PG_T_ORDERS, PG_T_ORDER_ITEMS, PG_T_EVENTS, PG_T_COUNT
};
/* "shops", "products", ... */
extern const char *const pg_table_names[PG_T_COUNT];

struct pg_load_report {
  uint64_t rows[PG_T_COUNT];
  double seconds_copy, seconds_index;
};

/* Replaces the dataset in the database by ds (origin is recorded, e.g. "gen:tiny"). Returns 0,
 * or -1 with s->err set (the transaction is rolled back). */
int pg_load_dataset(struct pg_session *s, const struct fx_dataset *ds, const char *origin,
                    struct pg_load_report *rep);

#endif
