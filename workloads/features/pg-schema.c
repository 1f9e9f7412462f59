/* pg-schema.c - DDL of the perfsweep-features PostgreSQL schema. The feature tables are
 * generated from the engine's field lists (fx_table_desc), so they cannot drift from the rows
 * the engine computes: every feature is a bigint, the key is (shop_id, <entity>_id).
 */
#include "pg-schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const normalized_ddl =
    "DROP TABLE IF EXISTS events, order_items, orders, customers, collection_products,"
    " collections, products, shops, dataset CASCADE;\n"
    "CREATE TABLE dataset (reference_time bigint NOT NULL, origin text NOT NULL,"
    " loaded_at timestamptz NOT NULL DEFAULT now());\n"
    "CREATE TABLE shops (shop_id bigint NOT NULL);\n"
    "CREATE TABLE products (shop_id bigint NOT NULL, product_id bigint NOT NULL,"
    " price_cents bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL);\n"
    "CREATE TABLE collections (shop_id bigint NOT NULL, collection_id bigint NOT NULL,"
    " updated_at bigint NOT NULL);\n"
    "CREATE TABLE collection_products (shop_id bigint NOT NULL, collection_id bigint NOT NULL,"
    " product_id bigint NOT NULL);\n"
    "CREATE TABLE customers (shop_id bigint NOT NULL, customer_id bigint NOT NULL,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL);\n"
    "CREATE TABLE orders (shop_id bigint NOT NULL, order_id bigint NOT NULL,"
    " customer_id bigint NOT NULL, financial_status text NOT NULL, cancelled_at bigint,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL);\n"
    "CREATE TABLE order_items (shop_id bigint NOT NULL, order_id bigint NOT NULL,"
    " line_no integer NOT NULL, product_id bigint NOT NULL, quantity integer NOT NULL,"
    " price_cents bigint NOT NULL);\n"
    "CREATE TABLE events (shop_id bigint NOT NULL, event_id bigint NOT NULL,"
    " customer_id bigint NOT NULL, product_id bigint NOT NULL, kind text NOT NULL,"
    " occurred_at bigint NOT NULL);\n";

static const char *const index_ddl =
    "ALTER TABLE shops ADD PRIMARY KEY (shop_id);\n"
    "ALTER TABLE products ADD PRIMARY KEY (shop_id, product_id);\n"
    "ALTER TABLE collections ADD PRIMARY KEY (shop_id, collection_id);\n"
    "ALTER TABLE collection_products ADD PRIMARY KEY (shop_id, collection_id, product_id);\n"
    "ALTER TABLE customers ADD PRIMARY KEY (shop_id, customer_id);\n"
    "ALTER TABLE orders ADD PRIMARY KEY (shop_id, order_id);\n"
    "ALTER TABLE order_items ADD PRIMARY KEY (shop_id, order_id, line_no);\n"
    "ALTER TABLE events ADD PRIMARY KEY (shop_id, event_id);\n"
    "CREATE INDEX collection_products_product ON collection_products (shop_id, product_id);\n"
    "CREATE INDEX orders_customer ON orders (shop_id, customer_id);\n"
    "CREATE INDEX order_items_product ON order_items (shop_id, product_id);\n"
    "CREATE INDEX events_product ON events (shop_id, product_id);\n"
    "CREATE INDEX events_customer ON events (shop_id, customer_id);\n"
    "ANALYZE dataset, shops, products, collections, collection_products, customers, orders,"
    " order_items, events;\n";

const char *pg_schema_entity_key(enum fx_kind kind)
{
  return fx_table_desc(kind)->fields[1];
}

int pg_schema_create_tables(struct pg_session *s)
{
  return pg_session_command(s, PG_Q_DDL, normalized_ddl, 0, NULL);
}

int pg_schema_index(struct pg_session *s)
{
  return pg_session_command(s, PG_Q_DDL, index_ddl, 0, NULL);
}

int pg_schema_ensure_features(struct pg_session *s)
{
  char sql[4096];
  for (int k = 0; k < FX_KIND_COUNT; k++) {
    const struct fx_table_desc *d = fx_table_desc((enum fx_kind)k);
    int n = snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s (", d->table);
    for (size_t i = 0; i < d->n_fields; i++)
      n += snprintf(sql + n, sizeof sql - (size_t)n, "%s bigint NOT NULL, ", d->fields[i]);
    snprintf(sql + n, sizeof sql - (size_t)n, "PRIMARY KEY (%s, %s))", d->fields[0],
             d->fields[1]);
    if (pg_session_command(s, PG_Q_DDL, sql, 0, NULL))
      return -1;
  }
  return pg_session_command(
      s, PG_Q_DDL,
      "CREATE TABLE IF NOT EXISTS watermarks (kind text PRIMARY KEY, fingerprint text NOT NULL,"
      " last_shop_id bigint, last_entity_id bigint, rows_done bigint NOT NULL DEFAULT 0,"
      " complete boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now())",
      0, NULL);
}

int pg_schema_reset_features(struct pg_session *s)
{
  return pg_session_command(s, PG_Q_DDL,
                            "TRUNCATE product_features, user_features, collection_features,"
                            " watermarks",
                            0, NULL);
}

int pg_schema_check_loaded(struct pg_session *s)
{
  PGresult *r = pg_session_query(s, PG_Q_OTHER,
                                 "SELECT count(*) FROM pg_tables WHERE schemaname ="
                                 " current_schema() AND tablename IN ('dataset', 'shops',"
                                 " 'products', 'collections', 'collection_products',"
                                 " 'customers', 'orders', 'order_items', 'events')",
                                 0, NULL);
  if (!r)
    return -1;
  int n = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (n != 9) {
    snprintf(s->err, sizeof s->err,
             "the database has no perfsweep-features dataset (%d of 9 tables); load one first "
             "with: perfsweep-features load --dsn DSN --from gen:tiny",
             n);
    return -1;
  }
  return 0;
}
