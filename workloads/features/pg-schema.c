/* pg-schema.c - DDL of the perfsweep-features PostgreSQL schema. The feature tables are
 * generated from the engine's field lists (fx_table_desc), so they cannot drift from the rows
 * the engine computes: every feature is a bigint, the key is (shop_id, <entity>_id).
 */
#include "pg-schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tables of docs/features.md ("Normalized tables"), column for column, so its SQL runs
 * unchanged; dataset also records where the data came from. Keys come after the COPY. */
static const char *const normalized_ddl =
    "DROP TABLE IF EXISTS events, order_items, orders, customers, collection_products,"
    " collections, products, shops, dataset CASCADE;\n"
    "CREATE TABLE dataset (reference_time bigint NOT NULL, origin text NOT NULL,"
    " loaded_at timestamptz NOT NULL DEFAULT now());\n"
    "CREATE TABLE shops (id bigint NOT NULL);\n"
    "CREATE TABLE products (id bigint NOT NULL, shop_id bigint NOT NULL,"
    " price_cents bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL);\n"
    "CREATE TABLE collections (id bigint NOT NULL, shop_id bigint NOT NULL,"
    " updated_at bigint NOT NULL);\n"
    "CREATE TABLE collection_products (collection_id bigint NOT NULL,"
    " product_id bigint NOT NULL);\n"
    "CREATE TABLE customers (id bigint NOT NULL, shop_id bigint NOT NULL,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL);\n"
    "CREATE TABLE orders (id bigint NOT NULL, shop_id bigint NOT NULL,"
    " customer_id bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,"
    " financial_status text NOT NULL CHECK (financial_status IN ('pending', 'authorized',"
    " 'paid', 'partially_paid', 'partially_refunded', 'refunded', 'voided')),"
    " cancelled_at bigint);\n"
    "CREATE TABLE order_items (order_id bigint NOT NULL, line_no int NOT NULL,"
    " product_id bigint NOT NULL, quantity bigint NOT NULL CHECK (quantity > 0),"
    " price_cents bigint NOT NULL CHECK (price_cents >= 0));\n"
    "CREATE TABLE events (id bigint NOT NULL, shop_id bigint NOT NULL,"
    " customer_id bigint NOT NULL, product_id bigint NOT NULL,"
    " kind text NOT NULL CHECK (kind IN ('view', 'cart_add')), occurred_at bigint NOT NULL);\n";

/* Primary and foreign keys as docs/features.md declares them, plus the (shop_id, id) indexes
 * the keyset pages walk and the indexes of the foreign keys the SQL joins on. */
static const char *const index_ddl =
    "ALTER TABLE shops ADD PRIMARY KEY (id);\n"
    "ALTER TABLE products ADD PRIMARY KEY (id);\n"
    "ALTER TABLE collections ADD PRIMARY KEY (id);\n"
    "ALTER TABLE collection_products ADD PRIMARY KEY (collection_id, product_id);\n"
    "ALTER TABLE customers ADD PRIMARY KEY (id);\n"
    "ALTER TABLE orders ADD PRIMARY KEY (id);\n"
    "ALTER TABLE order_items ADD PRIMARY KEY (order_id, line_no);\n"
    "ALTER TABLE events ADD PRIMARY KEY (id);\n"
    "ALTER TABLE products ADD FOREIGN KEY (shop_id) REFERENCES shops;\n"
    "ALTER TABLE collections ADD FOREIGN KEY (shop_id) REFERENCES shops;\n"
    "ALTER TABLE collection_products ADD FOREIGN KEY (collection_id) REFERENCES collections,"
    " ADD FOREIGN KEY (product_id) REFERENCES products;\n"
    "ALTER TABLE customers ADD FOREIGN KEY (shop_id) REFERENCES shops;\n"
    "ALTER TABLE orders ADD FOREIGN KEY (shop_id) REFERENCES shops,"
    " ADD FOREIGN KEY (customer_id) REFERENCES customers;\n"
    "ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders,"
    " ADD FOREIGN KEY (product_id) REFERENCES products;\n"
    "ALTER TABLE events ADD FOREIGN KEY (shop_id) REFERENCES shops,"
    " ADD FOREIGN KEY (customer_id) REFERENCES customers,"
    " ADD FOREIGN KEY (product_id) REFERENCES products;\n"
    "CREATE UNIQUE INDEX products_shop_id ON products (shop_id, id);\n"
    "CREATE UNIQUE INDEX collections_shop_id ON collections (shop_id, id);\n"
    "CREATE UNIQUE INDEX customers_shop_id ON customers (shop_id, id);\n"
    "CREATE UNIQUE INDEX orders_shop_id ON orders (shop_id, id);\n"
    "CREATE UNIQUE INDEX events_shop_id ON events (shop_id, id);\n"
    "CREATE INDEX collection_products_product ON collection_products (product_id);\n"
    "CREATE INDEX orders_customer ON orders (customer_id);\n"
    "CREATE INDEX order_items_product ON order_items (product_id);\n"
    "CREATE INDEX events_product ON events (product_id);\n"
    "CREATE INDEX events_customer ON events (customer_id);\n"
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
