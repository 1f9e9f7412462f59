/* test-trace-compress.c - traces compressed with zstd after the run: raw -> .pst.zst -> the
 * reader yields the very same records, the raw file is replaced atomically (or kept with
 * keep_raw, then found once), a truncated .zst is read up to its last whole record with a warning,
 * and the packing of a mapped trace does not keep it all resident.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "test-trace-build.h"
#include "trace-compress.h"
#include "trace-pack.h"
#include "trace-reader.h"
#include "util.h"

static char dir[64];
static char raw[128], zst[160];

static void setup(void)
{
  strcpy(dir, "/tmp/ps-tzst-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(raw, sizeof raw, "%s/alloc.42.pst", dir);
  snprintf(zst, sizeof zst, "%s.zst", raw);
}

static void teardown(void)
{
  char *cmd = ps_xasprintf("rm -rf %s", dir);
  (void)!system(cmd);
  free(cmd);
}

TestSuite(trace_compress, .init = setup, .fini = teardown);

/* A trace of nchunks chunks over 2 threads with pseudo-random sizes and pointers (so that zstd
 * cannot squeeze it into one tiny block); gap (glen bytes) is written after chunk gap_at when
 * gap is not NULL (padding, garbage: what the reader must skip or stop at). */
static void write_trace_gap(const char *p, int nchunks, int gap_at, const void *gap, size_t glen)
{
  FILE *f = fopen(p, "wb");
  cr_assert_not_null(f, "cannot create %s", p);
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  static struct tchunk c;
  uint64_t seq = 0, x = 88172645463325252ull;
  tc_start(&c, seq);
  tc_stack(&c, seq++, 1, 0x401000);
  for (int k = 0; k < nchunks; k++) {
    if (k)
      tc_start(&c, seq);
    while (c.len < 60000) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      if (x & 1)
        tc_alloc(&c, seq++, x % 5000 + 1, 0x10000000 + (x >> 20) % 0x1000000 * 16, 1);
      else
        tc_free(&c, seq++, 0x10000000 + (x >> 24) % 0x1000000 * 16);
    }
    tc_write(f, &c, 1 + (uint32_t)(k & 1), 0);
    if (gap && k == gap_at)
      fwrite(gap, 1, glen, f);
  }
  fclose(f);
}

static void write_trace(const char *p, int nchunks) { write_trace_gap(p, nchunks, -1, NULL, 0); }

/* Reads every record of p in merged order into a malloc'd array. */
static struct ps_rec *read_all(const char *p, size_t *n, int *truncated)
{
  struct ps_trace *t;
  cr_assert_eq(ps_trace_open(p, &t), 0, "the reader opens %s", p);
  cr_assert_eq(ps_trace_merge_begin(t), 0, "index of %s", p);
  struct ps_rec *v = NULL, r;
  size_t cap = 0;
  *n = 0;
  int ok;
  while ((ok = ps_trace_merge_next(t, &r)) == 1) {
    if (*n == cap)
      v = ps_xrealloc(v, (cap = cap ? 2 * cap : 1024) * sizeof *v);
    r.ips = NULL; /* points into the reader */
    v[(*n)++] = r;
  }
  cr_assert_eq(ok, 0, "reading %s ends without error", p);
  *truncated = ps_trace_truncated(t);
  ps_trace_close(t);
  return v;
}

static int same(const struct ps_rec *a, const struct ps_rec *b)
{
  return a->type == b->type && a->fn == b->fn && a->seq == b->seq && a->tid == b->tid &&
         a->size == b->size && a->ptr == b->ptr && a->stack == b->stack && a->id == b->id;
}

Test(trace_compress, round_trip_yields_identical_records)
{
  write_trace(raw, 6);
  size_t n0, n1;
  int tr0, tr1;
  struct ps_rec *a = read_all(raw, &n0, &tr0);
  cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 0), 0, "compressing %s", raw);
  cr_expect_neq(access(raw, F_OK), 0, "the raw trace is removed after compression");
  struct stat st;
  cr_assert_eq(stat(zst, &st), 0, "%s exists", zst);
  struct ps_rec *b = read_all(zst, &n1, &tr1);
  cr_expect_eq(tr1, 0, "a whole .zst is not reported truncated");
  cr_assert_eq(n0, n1, "same record count raw %zu vs zst %zu", n0, n1);
  for (size_t i = 0; i < n0; i++)
    cr_assert(same(&a[i], &b[i]), "record %zu differs after the round trip", i);
  cr_expect_gt(n0, 1000, "the trace is not trivially small (%zu records)", n0);
  free(a);
  free(b);
}

/* Above PS_TRACE_SMALL_BYTES the packer hands its output to zstd in a thread of its own, in
 * batches of 1 MiB (trace-zsink.c): several batches, the records must come back the same. */
Test(trace_compress, big_trace_round_trip_through_the_zstd_thread)
{
  write_trace(raw, 60); /* 60 chunks of ~60 kB: 3.6 MB raw */
  struct stat st;
  cr_assert_eq(stat(raw, &st), 0);
  cr_assert_gt((size_t)st.st_size, 3 * (size_t)PS_TRACE_SMALL_BYTES, "a trace above the small size");
  size_t n0, n1;
  int tr0, tr1;
  struct ps_rec *a = read_all(raw, &n0, &tr0);
  cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 0), 0, "compressing %s", raw);
  cr_assert_eq(stat(zst, &st), 0, "%s exists", zst);
  cr_expect_gt((size_t)st.st_size, 1u << 20, "packed output of more than one 1 MiB batch");
  struct ps_rec *b = read_all(zst, &n1, &tr1);
  cr_expect_eq(tr1, 0);
  cr_assert_eq(n0, n1, "same record count raw %zu vs zst %zu", n0, n1);
  for (size_t i = 0; i < n0; i++)
    cr_assert(same(&a[i], &b[i]), "record %zu differs after the round trip", i);
  free(a);
  free(b);
}

/* The packed .zst is merged while a thread unpacks it (the chunk index comes from the packed
 * chunk headers): whatever lies between the chunks, the records and the truncation flag must be
 * those of the raw trace, whether the streaming path or the unpack-first fallback reads it. */
Test(trace_compress, streamed_merge_equals_raw_whatever_lies_between_chunks)
{
  static uint8_t zeros[5000];
  static const char garbage[] = "not a chunk";
  struct {
    const char *what;
    int at;
    const void *gap;
    size_t len;
    int truncated;
  } cases[] = {
      {"no gap", -1, NULL, 0, 0},
      {"zero padding mid-file", 7, zeros, sizeof zeros, 0},
      {"zero padding at the end", 19, zeros, sizeof zeros, 0},
      {"two zero bytes mid-file (the reader stops there)", 7, zeros, 2, 1},
      {"three zero bytes at the end (a torn chunk to the reader)", 19, zeros, 3, 1},
      {"garbage mid-file (the reader stops there)", 11, garbage, sizeof garbage, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    write_trace_gap(raw, 20, cases[i].at, cases[i].gap, cases[i].len);
    size_t n0, n1;
    int tr0, tr1;
    struct ps_rec *a = read_all(raw, &n0, &tr0);
    cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 1), 0, "compressing (%s)",
                 cases[i].what);
    struct ps_rec *b = read_all(zst, &n1, &tr1);
    cr_expect_eq(tr0, cases[i].truncated, "raw truncation flag (%s)", cases[i].what);
    cr_expect_eq(tr1, tr0, "same truncation flag from the .zst (%s)", cases[i].what);
    cr_assert_eq(n1, n0, "same record count (%s): raw %zu, zst %zu", cases[i].what, n0, n1);
    for (size_t k = 0; k < n0; k++)
      cr_assert(same(&a[k], &b[k]), "record %zu differs (%s)", k, cases[i].what);
    cr_expect_gt(n0, 1000, "not trivially small (%s)", cases[i].what);
    free(a);
    free(b);
    unlink(raw);
    unlink(zst);
  }
}

/* Opening a packed trace reads its header block only (the analysis opens each trace once for
 * its header, then again for its records); the records are unpacked when they are read. */
Test(trace_compress, open_reads_the_header_only_and_close_stops_early)
{
  write_trace(raw, 40);
  cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 1), 0);
  struct ps_trace *t, *u;
  cr_assert_eq(ps_trace_open(raw, &t), 0);
  cr_assert_eq(ps_trace_open(zst, &u), 0);
  cr_expect_eq(memcmp(ps_trace_header(t), ps_trace_header(u), sizeof(struct ps_trace_header)), 0,
               "the same header from the .zst");
  cr_expect_str_eq(ps_trace_exe(u), ps_trace_exe(t));
  ps_trace_close(u);
  /* a merge abandoned half way: closing stops the unpacking thread */
  cr_assert_eq(ps_trace_open(zst, &u), 0);
  cr_assert_eq(ps_trace_merge_begin(u), 0);
  struct ps_rec r;
  for (int i = 0; i < 100; i++)
    cr_assert_eq(ps_trace_merge_next(u, &r), 1);
  ps_trace_close(u);
  ps_trace_close(t);
}

static int mem_sink(void *ctx, const void *buf, size_t len)
{
  struct { uint8_t *p; size_t len, cap; } *m = ctx;
  if (m->len + len > m->cap)
    m->p = ps_xrealloc(m->p, m->cap = 2 * (m->len + len));
  memcpy(m->p + m->len, buf, len);
  m->len += len;
  return 0;
}

/* Packed data damaged after the first blocks (a valid zstd frame around it): the merge, which
 * reads the first blocks while later ones are unpacked, must end in an error, never in fewer or
 * different records reported as a success. */
Test(trace_compress, damaged_packed_block_is_an_error_while_streaming)
{
  write_trace(raw, 40); /* 2.4 MB: 3 packed blocks */
  FILE *f = fopen(raw, "rb");
  cr_assert_not_null(f);
  static uint8_t buf[4 << 20];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  struct { uint8_t *p; size_t len, cap; } m = {0};
  cr_assert_eq(ps_trace_pack(buf, len, 1, mem_sink, &m), 0);
  for (int at = 0; at < 3; at++) {
    uint8_t *copy = ps_xmalloc(m.len);
    memcpy(copy, m.p, m.len);
    copy[m.len * (5 + at) / 8] ^= 0x5a; /* somewhere in the later blocks' streams */
    size_t cap = ZSTD_compressBound(m.len);
    uint8_t *z = ps_xmalloc(cap);
    size_t zl = ZSTD_compress(z, cap, copy, m.len, 1);
    cr_assert(!ZSTD_isError(zl));
    FILE *o = fopen(zst, "wb");
    cr_assert_not_null(o);
    fwrite(z, 1, zl, o);
    fclose(o);
    struct ps_trace *t;
    cr_assert_eq(ps_trace_open(zst, &t), 0, "the header block is intact");
    int ok = ps_trace_merge_begin(t);
    size_t n = 0;
    struct ps_rec r;
    while (ok == 0 && (ok = ps_trace_merge_next(t, &r)) == 1)
      n++, ok = 0;
    cr_expect_lt(ok, 0, "damage at %d/8 of the packed stream is an error (after %zu records)",
                 5 + at, n);
    ps_trace_close(t);
    free(z);
    free(copy);
  }
  free(m.p);
}

Test(trace_compress, keep_raw_found_once)
{
  write_trace(raw, 1);
  cr_assert_eq(ps_trace_compress(raw, 3, 1), 0);
  cr_expect_eq(access(raw, F_OK), 0, "keep_raw keeps %s", raw);
  cr_expect_eq(access(zst, F_OK), 0, "and writes %s", zst);
  char **paths = NULL;
  size_t n = 0;
  cr_assert_eq(ps_trace_find(dir, "alloc", &paths, &n), 0);
  cr_expect_eq(n, 1, "the raw and the .zst copy are one trace, found %zu", n);
  ps_trace_paths_free(paths, n);
  unlink(raw);
  paths = NULL;
  n = 0;
  cr_assert_eq(ps_trace_find(dir, "alloc", &paths, &n), 0);
  cr_assert_eq(n, 1, "the .zst alone is found, found %zu", n);
  cr_expect_str_eq(paths[0], zst);
  ps_trace_paths_free(paths, n);
}

Test(trace_compress, truncated_zst_read_up_to_last_whole_record)
{
  write_trace(raw, 60); /* 3.6 MB: a cut keeps whole packed blocks (1 MiB of raw bytes each) */
  size_t n0, n1;
  int tr0, tr1;
  struct ps_rec *a = read_all(raw, &n0, &tr0);
  cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 0), 0);
  struct stat st;
  cr_assert_eq(stat(zst, &st), 0);
  cr_assert_eq(truncate(zst, st.st_size * 2 / 3), 0, "cut %s", zst);
  struct ps_rec *b = read_all(zst, &n1, &tr1);
  cr_expect_eq(tr1, 1, "the cut .zst is reported truncated");
  cr_expect_gt(n1, 0, "records before the cut are read");
  cr_expect_lt(n1, n0, "records after the cut are gone (%zu of %zu)", n1, n0);
  /* both in seq order, and what is read from the cut file is a subset of the original records */
  for (size_t i = 0, j = 0; i < n1; i++, j++) {
    while (j < n0 && a[j].seq < b[i].seq)
      j++;
    cr_assert(j < n0 && same(&a[j], &b[i]),
              "record seq %llu read from the cut file is one of the original records",
              (unsigned long long)b[i].seq);
  }
  free(a);
  free(b);
}

Test(trace_compress, corrupt_zst_refused)
{
  write_trace(raw, 2);
  cr_assert_eq(ps_trace_compress(raw, PS_TRACE_ZSTD_LEVEL, 0), 0);
  FILE *f = fopen(zst, "r+b");
  cr_assert_not_null(f);
  fseek(f, 40, SEEK_SET);
  for (int i = 0; i < 64; i++)
    fputc(0xff, f);
  fclose(f);
  struct ps_trace *t = NULL;
  cr_expect_lt(ps_trace_open(zst, &t), 0, "damaged zstd data is an error, not garbage records");
  ps_trace_close(t);
}

Test(trace_compress, missing_raw_is_an_error)
{
  cr_expect_eq(ps_trace_compress(raw, 1, 0), -ENOENT, "no trace to compress");
  cr_expect_neq(access(zst, F_OK), 0, "no .zst appears");
}

/* Resident kB of the mapping that starts at addr (/proc/self/smaps), or -1. */
static long mapping_rss_kb(const void *addr)
{
  FILE *f = fopen("/proc/self/smaps", "r");
  cr_assert_not_null(f);
  char line[512];
  int in = 0;
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
      in = lo == (uintptr_t)addr;
    else if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
      break;
  }
  fclose(f);
  return kb;
}

/* ps_trace_pack_mapped (what ps_trace_compress uses) writes the bytes ps_trace_pack writes, and
 * leaves the pages it is done with unmapped: a 16.8 MB trace, all resident before, less than half
 * of it after; read again, the mapping still holds the file's bytes. */
Test(trace_compress, mapped_packing_drops_the_pages_behind_it)
{
  write_trace(raw, 280); /* 280 chunks of ~60 kB: 16.8 MB, two steps of 8 MiB */
  int fd = open(raw, O_RDONLY);
  cr_assert_geq(fd, 0);
  struct stat st;
  cr_assert_eq(fstat(fd, &st), 0);
  size_t len = (size_t)st.st_size;
  const uint8_t *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  cr_assert_neq(map, MAP_FAILED);
  struct { uint8_t *p; size_t len, cap; } a = {0}, b = {0};
  cr_assert_eq(ps_trace_pack(map, len, 1, mem_sink, &a), 0);
  long before = mapping_rss_kb(map);
  cr_assert_gt(before * 1024, (long)(len * 9 / 10), "the whole trace resident after a plain "
               "packing (%ld kB of %zu bytes)", before, len);
  cr_assert_eq(ps_trace_pack_mapped(map, len, mem_sink, &b), 0);
  long after = mapping_rss_kb(map);
  cr_expect_lt(after * 1024, (long)(len / 2), "%ld kB of %zu bytes still resident", after, len);
  cr_assert_eq(a.len, b.len, "packed sizes %zu vs %zu", a.len, b.len);
  cr_assert_eq(memcmp(a.p, b.p, a.len), 0, "the packed bytes differ");
  uint8_t *copy = ps_xmalloc(len);
  cr_assert_eq(pread(fd, copy, len, 0), (ssize_t)len);
  cr_assert_eq(memcmp(copy, map, len), 0, "the mapping reads back the file's bytes");
  free(copy);
  free(a.p);
  free(b.p);
  munmap((void *)(uintptr_t)map, len);
  close(fd);
}
