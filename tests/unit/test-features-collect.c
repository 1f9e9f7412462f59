/* test-features-collect.c - the streaming collect stage: batches are the pages really read
 * (hand-counted fixture), records cut across read-chunk boundaries (the test hook
 * PERFSWEEP_FX_READ_CHUNK) parse exactly as a whole-file read does, memory and read(2) calls
 * do not grow per record, and unreadable JSON still names file and line.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit-codes.h"
#include "fx-collect.h"
#include "fx-normalize.h"
#include "fx-pager.h"

#define HAND PERFSWEEP_FIXTURES "/features/hand"
#define DIRTY PERFSWEEP_FIXTURES "/features/dirty"

static int stream(const char *dir, size_t batch, struct fx_dataset *ds, struct fx_stage *collect,
                  struct fx_stage *normalize, char *err, size_t errlen)
{
  struct fx_source_params p = {.batch_size = batch, .seed = 1, .workers = 1};
  *collect = (struct fx_stage){.name = "collect"};
  *normalize = (struct fx_stage){.name = "normalize"};
  return fx_collect_stream(dir, &p, ds, collect, normalize, err, errlen);
}

Test(features_collect, batches_are_the_pages_read)
{
  /* hand: shops 2, products 4, collections 3, customers 4, orders 6, events 7 records */
  static const struct { size_t batch; uint64_t pages; } cases[] = {
    {1, 26}, {2, 14}, {4, 8}, {100, 6}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct fx_dataset ds = {0};
    struct fx_stage c, n;
    char err[1024];
    cr_assert_eq(stream(HAND, cases[i].batch, &ds, &c, &n, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.batches, cases[i].pages, "batch %zu: %llu pages, want %llu", cases[i].batch,
                 (unsigned long long)c.batches, (unsigned long long)cases[i].pages);
    cr_expect_eq(n.batches, cases[i].pages, "normalize parses the same pages");
    cr_expect_eq(c.records_in, 26);
    cr_expect_eq(n.records_in, 26);
    cr_expect_gt(c.read_buffer_bytes, 0);
    fx_dataset_free(&ds);
  }
}

static void expect_same_rows(const struct fx_dataset *a, const struct fx_dataset *b,
                             const char *what)
{
  cr_assert_eq(a->records_in, b->records_in, "%s: records_in", what);
  cr_assert_eq(memcmp(&a->rejects, &b->rejects, sizeof a->rejects), 0, "%s: rejects", what);
  cr_assert_eq(a->newest, b->newest, "%s: newest", what);
  cr_assert_eq(a->n_shops, b->n_shops, "%s", what);
  cr_assert_eq(a->n_products, b->n_products, "%s", what);
  cr_assert_eq(a->n_collections, b->n_collections, "%s", what);
  cr_assert_eq(a->n_links, b->n_links, "%s", what);
  cr_assert_eq(a->n_customers, b->n_customers, "%s", what);
  cr_assert_eq(a->n_orders, b->n_orders, "%s", what);
  cr_assert_eq(a->n_items, b->n_items, "%s", what);
  cr_assert_eq(a->n_events, b->n_events, "%s", what);
  for (size_t i = 0; i < a->n_products; i++)
    cr_assert(a->products[i].id == b->products[i].id &&
              a->products[i].price_cents == b->products[i].price_cents, "%s: product %zu", what, i);
  for (size_t i = 0; i < a->n_orders; i++)
    cr_assert(a->orders[i].id == b->orders[i].id && a->orders[i].customer == b->orders[i].customer &&
              a->orders[i].created_at == b->orders[i].created_at, "%s: order %zu", what, i);
  for (size_t i = 0; i < a->n_items; i++)
    cr_assert(a->items[i].order == b->items[i].order &&
              a->items[i].product == b->items[i].product &&
              a->items[i].quantity == b->items[i].quantity &&
              a->items[i].price_cents == b->items[i].price_cents, "%s: item %zu", what, i);
  for (size_t i = 0; i < a->n_events; i++)
    cr_assert(a->events[i].id == b->events[i].id && a->events[i].product == b->events[i].product &&
              a->events[i].at == b->events[i].at, "%s: event %zu", what, i);
}

Test(features_collect, record_across_chunk_boundary_parses_as_whole_read)
{
  static const char *dirs[] = {HAND, DIRTY};
  static const char *chunks[] = {"1", "2", "3", "7", "64", "100000"};
  static const size_t batches[] = {1, 3, 1000};
  for (int d = 0; d < 2; d++) {
    struct fx_raw raw = {0};
    struct fx_dataset want = {0};
    char err[1024];
    cr_assert_eq(fx_collect_dir(dirs[d], &raw, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fx_normalize(&raw, &want, err, sizeof err), 0, "%s", err);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++)
      for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
        setenv("PERFSWEEP_FX_READ_CHUNK", chunks[c], 1);
        struct fx_dataset got = {0};
        struct fx_stage cs, ns;
        cr_assert_eq(stream(dirs[d], batches[b], &got, &cs, &ns, err, sizeof err), 0, "%s", err);
        char what[128];
        snprintf(what, sizeof what, "%s chunk %s batch %zu", dirs[d], chunks[c], batches[b]);
        expect_same_rows(&got, &want, what);
        fx_dataset_free(&got);
      }
    unsetenv("PERFSWEEP_FX_READ_CHUNK");
    fx_dataset_free(&want);
    fx_raw_free(&raw);
  }
}

Test(features_collect, truncated_json_names_file_and_line_when_streamed)
{
  static const char *chunks[] = {"1", "5", "100000"};
  for (size_t c = 0; c < 3; c++) {
    setenv("PERFSWEEP_FX_READ_CHUNK", chunks[c], 1);
    struct fx_dataset ds = {0};
    struct fx_stage cs, ns;
    char err[1024];
    cr_assert_eq(stream(PERFSWEEP_FIXTURES "/features/truncated", 2, &ds, &cs, &ns, err,
                        sizeof err), PS_EXIT_USAGE);
    cr_assert(strstr(err, "truncated/orders.jsonl:6:") != NULL, "chunk %s: %s", chunks[c], err);
    cr_assert(strstr(err, "truncated") != NULL, "%s", err);
    fx_dataset_free(&ds);
  }
  unsetenv("PERFSWEEP_FX_READ_CHUNK");
}

/* A file of text in a temporary folder, opened for reading. */
static int temp_file(const char *text, size_t len)
{
  char path[] = "/tmp/ps-test-pager-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  unlink(path);
  cr_assert_eq(write(fd, text, len), (ssize_t)len);
  cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

Test(features_collect, pager_cuts_at_the_bth_record_and_keeps_blank_lines)
{
  static const char text[] = "{\"a\":1}\n\n{\"b\":22}\n{\"c\":333}\n\n\n{\"d\":4}";
  for (size_t chunk = 1; chunk <= sizeof text; chunk++) {
    char cs[16];
    snprintf(cs, sizeof cs, "%zu", chunk);
    setenv("PERFSWEEP_FX_READ_CHUNK", cs, 1);
    int fd = temp_file(text, sizeof text - 1);
    struct fx_pager p = {0};
    struct fx_page pg;
    fx_pager_start(&p, fd);
    cr_assert_eq(fx_pager_next(&p, 2, &pg), 1);
    cr_assert_eq(pg.records, 2);
    cr_assert_eq(pg.len, strlen("{\"a\":1}\n\n{\"b\":22}\n"), "chunk %zu", chunk);
    cr_assert_eq(memcmp(pg.text, "{\"a\":1}\n\n{\"b\":22}\n", pg.len), 0, "chunk %zu", chunk);
    cr_assert_eq(fx_pager_next(&p, 2, &pg), 1);
    cr_assert_eq(pg.records, 2, "chunk %zu", chunk);
    cr_assert_eq(pg.len, strlen("{\"c\":333}\n\n\n{\"d\":4}"), "chunk %zu", chunk);
    cr_assert_eq(memcmp(pg.text, "{\"c\":333}\n\n\n{\"d\":4}", pg.len), 0);
    cr_assert_eq(fx_pager_next(&p, 2, &pg), 0, "end of file");
    fx_pager_free(&p);
    close(fd);
  }
  unsetenv("PERFSWEEP_FX_READ_CHUNK");
}

Test(features_collect, pages_of_one_record_read_in_chunks_with_bounded_memory)
{
  enum { LINES = 20000, LINE = 43 };
  char *text = malloc((size_t)LINES * LINE + 1);
  cr_assert_not_null(text);
  for (int i = 0; i < LINES; i++)
    snprintf(text + (size_t)i * LINE, LINE + 1, "{\"id\":%08d,\"pad\":\"%018d\"}\n", i, i);
  int fd = temp_file(text, (size_t)LINES * LINE);
  setenv("PERFSWEEP_FX_READ_CHUNK", "4096", 1);
  struct fx_pager p = {0};
  struct fx_page pg;
  fx_pager_start(&p, fd);
  uint64_t pages = 0;
  while (fx_pager_next(&p, 1, &pg) == 1) {
    cr_assert_eq(pg.records, 1);
    cr_assert_eq(pg.len, LINE);
    cr_assert_eq(memcmp(pg.text, text + pages * LINE, LINE), 0, "page %llu",
                 (unsigned long long)pages);
    pages++;
  }
  cr_assert_eq(pages, LINES);
  uint64_t chunks = (uint64_t)LINES * LINE / 4096 + 1;
  cr_assert_leq(p.reads, chunks + 1, "%llu read(2) calls for %llu chunks: one per chunk",
                (unsigned long long)p.reads, (unsigned long long)chunks);
  cr_assert_leq(p.cap, 2 * 4096, "the read buffer must not grow with the file: %zu", p.cap);
  fx_pager_free(&p);
  close(fd);
  free(text);
  unsetenv("PERFSWEEP_FX_READ_CHUNK");
}
