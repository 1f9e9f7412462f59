/* pg-schema.h - the PostgreSQL schema of perfsweep-features (docs/postgres.md): the normalized
 * tables (shops, products, collections, collection_products, customers, orders, order_items,
 * events, plus dataset for the reference time), the feature tables with their keys, and the
 * watermarks table. Column names follow fx-rows.h and docs/features.md.
 */
#ifndef PERFSWEEP_PG_SCHEMA_H
#define PERFSWEEP_PG_SCHEMA_H

#include "fx-rows.h"
#include "pg-session.h"

/* Drops and recreates the normalized tables (no secondary indexes yet: load first, then
 * pg_schema_index). Returns 0 or -1 (s->err set). Inside the caller's transaction. */
int pg_schema_create_tables(struct pg_session *s);
/* Primary keys, indexes ((shop_id, product_id), ...) and ANALYZE after the load. */
int pg_schema_index(struct pg_session *s);
/* Creates the feature tables and the watermarks table when missing (IF NOT EXISTS), so a
 * sink can write into a database that was loaded earlier. Returns 0 or -1. */
int pg_schema_ensure_features(struct pg_session *s);
/* Empties the feature tables and the watermarks (a freshly loaded dataset has none). */
int pg_schema_reset_features(struct pg_session *s);
/* Checks that the normalized tables exist; 0, or -1 with a sentence telling to run load. */
int pg_schema_check_loaded(struct pg_session *s);

/* The keyset key of a feature kind: "product_id", "customer_id", "collection_id". */
const char *pg_schema_entity_key(enum fx_kind kind);

#endif
