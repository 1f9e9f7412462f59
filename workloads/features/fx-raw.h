/* fx-raw.h - raw input as collected: one JSON-lines text per table (the shop platform's REST
 * export) plus the dataset manifest (dataset.json: scale, seed, reference time, counts).
 * The generator produces it in memory; the jsonl source reads it from a folder.
 */
#ifndef PERFSWEEP_FX_RAW_H
#define PERFSWEEP_FX_RAW_H

#include "fx-buf.h"

/* Tables in dependency order: a table only references the ones before it. */
enum fx_raw_table {
  FX_RAW_SHOPS, FX_RAW_PRODUCTS, FX_RAW_COLLECTIONS, FX_RAW_CUSTOMERS, FX_RAW_ORDERS,
  FX_RAW_EVENTS, FX_RAW_COUNT
};

/* "shops", "products", ...; the file of table t is "<name>.jsonl". */
extern const char *const fx_raw_names[FX_RAW_COUNT];
#define FX_MANIFEST_FILE "dataset.json"

struct fx_raw {
  struct fx_buf table[FX_RAW_COUNT];
  struct fx_buf manifest;
  char origin[512]; /* the folder, or "gen:SCALE", for messages */
};

/* Frees every buffer; accepts a zeroed struct. */
void fx_raw_free(struct fx_raw *r);

#endif
