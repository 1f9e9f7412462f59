/* test-trace-pack.c - the packed form of traces (harness/trace-pack.h): packing then unpacking
 * gives back the raw bytes exactly, for real traces of the probes (alloc-truth scenarios, the CPU
 * probe) and for synthetic edge cases (empty, truncated, unknown record types, huge values,
 * non-canonical numbers, padding, garbage); a packed stream cut anywhere unpacks to a prefix of
 * the raw bytes; damaged packed data is refused, never turned into different bytes; the packer's
 * per-record check refuses a packed record whose bytes do not read back as written; the record
 * parser's shortcuts accept exactly what its general rules accept.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "test-trace-build.h"
#include "trace-pack-model.h"
#include "trace-pack.h"
#include "util.h"

struct mem {
  uint8_t *p;
  size_t len, cap;
};

static int mem_sink(void *ctx, const void *buf, size_t len)
{
  struct mem *m = ctx;
  if (m->len + len > m->cap) {
    m->cap = (m->len + len) * 2 + 64;
    m->p = ps_xrealloc(m->p, m->cap);
  }
  memcpy(m->p + m->len, buf, len);
  m->len += len;
  return 0;
}

/* Unpacks packed[0..len) fed in pieces of `piece` bytes. Returns the unpacker's result. */
static int unpack(const uint8_t *packed, size_t len, size_t piece, struct mem *out, int *trunc)
{
  struct ps_unpack *u = ps_unpack_new(mem_sink, out);
  int err = 0;
  for (size_t off = 0; off < len && !err; off += piece)
    err = ps_unpack_feed(u, packed + off, len - off < piece ? len - off : piece);
  int ferr = ps_unpack_finish(u, trunc);
  ps_unpack_free(u);
  return err ? err : ferr;
}

/* Packs raw (checked by the packer both ways), unpacks it in pieces, asserts byte equality.
 * Returns the packed length. */
static size_t round_trip(const uint8_t *raw, size_t len, const char *what)
{
  struct mem packed = {0}, back = {0}, full = {0};
  cr_assert_eq(ps_trace_pack(raw, len, 1, mem_sink, &packed), 0, "packing %s", what);
  /* the full check (a second thread unpacks and compares) agrees, on the same bytes */
  cr_assert_eq(ps_trace_pack(raw, len, 2, mem_sink, &full), 0, "packing %s, full check", what);
  cr_assert(full.len == packed.len && !memcmp(full.p, packed.p, packed.len),
            "%s: the same packed bytes whatever the check", what);
  free(full.p);
  cr_assert(ps_trace_is_packed(packed.p, packed.len), "%s: the packed stream has its magic", what);
  int trunc = 1;
  cr_assert_eq(unpack(packed.p, packed.len, 4093, &back, &trunc), 0, "unpacking %s", what);
  cr_expect_eq(trunc, 0, "%s: a whole packed stream is not truncated", what);
  cr_assert_eq(back.len, len, "%s: %zu raw bytes back, %zu packed", what, back.len, len);
  cr_assert(len == 0 || !memcmp(back.p, raw, len), "%s: the bytes differ after the round trip",
            what);
  size_t n = packed.len;
  free(packed.p);
  free(back.p);
  return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
  char *data;
  cr_assert_eq(ps_read_file(path, &data, len), 0, "reading %s", path);
  return (uint8_t *)data;
}

/* Skips the test when a program or library it needs is not built. */
static void need(const char *path)
{
  if (access(path, X_OK) && access(path, R_OK))
    cr_skip_test("%s is not built", path);
}

/* Round-trips every trace file (name starting with prefix) in dir; returns how many. */
static int round_trip_dir(const char *dir, const char *prefix, size_t *total_raw,
                          size_t *total_packed)
{
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "%s", dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, strlen(prefix)))
      continue;
    char *p = ps_xasprintf("%s/%s", dir, e->d_name);
    size_t len;
    uint8_t *raw = slurp(p, &len);
    size_t pl = round_trip(raw, len, p);
    if (total_raw)
      *total_raw += len;
    if (total_packed)
      *total_packed += pl;
    free(raw);
    free(p);
    n++;
  }
  closedir(d);
  return n;
}

static char dir[64];

static void setup(void)
{
  strcpy(dir, "/tmp/ps-tpack-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
  char *cmd = ps_xasprintf("rm -rf %s", dir);
  (void)!system(cmd);
  free(cmd);
}

TestSuite(trace_pack, .init = setup, .fini = teardown, .timeout = 120);

Test(trace_pack, round_trip_of_alloc_truth_traces)
{
  need(PERFSWEEP_BIN_DIR "/alloc-truth");
  need(PERFSWEEP_LIB_DIR "/libperfsweep-alloc.so");
  static const char *scen[] = {"sites", "peak", "threads", "realloc", "aligned", "fork",
                               "dlopen", "mmap", "bench 30000"};
  size_t raw_bytes = 0, bench_raw = 0;
  for (size_t i = 0; i < PS_ARRAY_SIZE(scen); i++) {
    char *sub = ps_xasprintf("%s/s%zu", dir, i);
    char *cmd = ps_xasprintf("mkdir -p %s && cd %s && PERFSWEEP_TRACE_DIR=%s PERFSWEEP_ALLOC=exact "
                             "PERFSWEEP_ALLOC_MMAP=1 LD_PRELOAD=%s/libperfsweep-alloc.so "
                             "%s/alloc-truth %s >/dev/null 2>&1",
                             sub, sub, sub, PERFSWEEP_LIB_DIR, PERFSWEEP_BIN_DIR, scen[i]);
    (void)!system(cmd);
    int last = i + 1 == PS_ARRAY_SIZE(scen);
    int n = round_trip_dir(sub, "alloc.", last ? &bench_raw : &raw_bytes, NULL);
    cr_expect_gt(n, 0, "scenario %s wrote a trace", scen[i]);
    free(cmd);
    free(sub);
  }
  cr_expect_gt(bench_raw, 100000, "the bench trace is not trivially small");
}

Test(trace_pack, round_trip_of_cpu_traces)
{
  need(PERFSWEEP_BIN_DIR "/cpu-split-nofp");
  need(PERFSWEEP_LIB_DIR "/libperfsweep-cpu.so");
  char *cmd = ps_xasprintf("cd %s && PERFSWEEP_TRACE_DIR=%s PERFSWEEP_CPU=cpu-clock "
                           "LD_PRELOAD=%s/libperfsweep-cpu.so %s/cpu-split-nofp 20 >/dev/null 2>&1",
                           dir, dir, PERFSWEEP_LIB_DIR, PERFSWEEP_BIN_DIR);
  (void)!system(cmd);
  free(cmd);
  if (round_trip_dir(dir, "cpu.", NULL, NULL) == 0)
    cr_skip_test("the CPU probe wrote no trace here (perf events unavailable?)");
}

/* The point of packing: zstd of the packed form is far smaller than zstd of the raw bytes on an
 * allocation-heavy trace (sizes, not times: nothing here depends on the machine's speed). */
Test(trace_pack, packed_compresses_better_than_raw)
{
  need(PERFSWEEP_BIN_DIR "/alloc-truth");
  need(PERFSWEEP_LIB_DIR "/libperfsweep-alloc.so");
  char *cmd = ps_xasprintf("cd %s && PERFSWEEP_TRACE_DIR=%s PERFSWEEP_ALLOC=exact "
                           "LD_PRELOAD=%s/libperfsweep-alloc.so %s/alloc-truth bench 50000 "
                           ">/dev/null 2>&1", dir, dir, PERFSWEEP_LIB_DIR, PERFSWEEP_BIN_DIR);
  (void)!system(cmd);
  free(cmd);
  DIR *d = opendir(dir);
  struct dirent *e;
  char *path = NULL;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "alloc.", 6))
      path = ps_xasprintf("%s/%s", dir, e->d_name);
  closedir(d);
  cr_assert_not_null(path, "the bench wrote a trace");
  size_t len;
  uint8_t *raw = slurp(path, &len);
  struct mem packed = {0};
  cr_assert_eq(ps_trace_pack(raw, len, 0, mem_sink, &packed), 0);
  size_t cap = ZSTD_compressBound(len);
  void *z = ps_xmalloc(cap);
  size_t zraw = ZSTD_compress(z, cap, raw, len, 1);
  size_t zpacked = ZSTD_compress(z, cap, packed.p, packed.len, 1);
  cr_assert(!ZSTD_isError(zraw) && !ZSTD_isError(zpacked));
  cr_expect_lt(zpacked * 10, zraw * 6, "zstd -1: packed %zu B vs raw %zu B (raw trace %zu B)",
               zpacked, zraw, len);
  free(z);
  free(packed.p);
  free(raw);
  free(path);
}

/* ---- synthetic traces ---- */

/* Compact records as the probe writes them (seq delta in the type byte, aptr pointers). */
static void tc_cseq(struct tchunk *c, unsigned type, uint64_t seq)
{
  uint64_t d = seq - c->seq;
  c->buf[c->len++] = (uint8_t)(type | (d < 15 ? d : 15) << 4);
  if (d >= 15)
    tc_u(c, d);
  c->seq = seq;
  c->nrec++;
}

static void tc_aptr(struct tchunk *c, uint64_t p)
{
  tc_u(c, ps_aptr_encode(p - c->last_ptr));
  c->last_ptr = p;
}

static void tc_malloc_c(struct tchunk *c, uint64_t seq, uint64_t size, uint64_t ptr, uint64_t st)
{
  tc_cseq(c, PS_REC_MALLOC_C, seq);
  tc_u(c, size);
  tc_aptr(c, ptr);
  tc_u(c, st);
}

static void tc_free_c(struct tchunk *c, uint64_t seq, uint64_t ptr)
{
  tc_cseq(c, PS_REC_FREE_C, seq);
  tc_aptr(c, ptr);
}

/* Builds a small alloc trace: header, 4 chunks over 2 threads, full and compact records, some
 * blocks freed in the other thread, seq gaps. */
static uint8_t *synthetic(size_t *len)
{
  char *p = ps_xasprintf("%s/alloc.1.pst", dir);
  FILE *f = fopen(p, "wb");
  cr_assert_not_null(f);
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  static struct tchunk c;
  uint64_t seq = 1;
  for (int k = 0; k < 4; k++) {
    tc_start(&c, seq);
    if (!k)
      tc_stack(&c, seq++, 1, 0x401000);
    for (int i = 0; i < 200; i++) {
      uint64_t a = 0x5000000 + (uint64_t)(k * 200 + i) * 48, sz = 16 + (uint64_t)(i % 7) * 8;
      if (k == 1)
        tc_alloc(&c, seq++, sz, a, 1);
      else
        tc_malloc_c(&c, seq += 1 + (uint64_t)(i % 3 == 2) * 20, sz, a, 1 + (uint64_t)(i % 2));
      if (i % 3)
        tc_free_c(&c, seq++, a - (i % 5 == 1 ? 48 : 0));
      else if (k == 3)
        tc_free_c(&c, seq++, 0x5000000 + (uint64_t)i * 48); /* a block of chunk 0 */
    }
    tc_write(f, &c, 100 + (uint32_t)(k & 1), 0);
  }
  fclose(f);
  uint8_t *raw = slurp(p, len);
  free(p);
  return raw;
}

Test(trace_pack, empty_and_tiny_inputs)
{
  round_trip((const uint8_t *)"", 0, "an empty trace");
  round_trip((const uint8_t *)"P", 1, "one byte");
  round_trip((const uint8_t *)"PSTRACE", 8, "a bare magic");
  size_t len;
  uint8_t *raw = synthetic(&len);
  round_trip(raw, ((const struct ps_trace_header *)raw)->header_len, "the header alone");
  free(raw);
}

/* The model's harder paths: 300 live blocks of one (size, stack) freed in a random order (ranks
 * beyond 1 from both ends and beyond the 64 limit: literal frees of live blocks), an address
 * allocated twice without a free between, more frees of one size class than its recently-freed
 * list holds, reused in another order, across two threads. */
Test(trace_pack, deep_lists_reuse_and_duplicates)
{
  char *p = ps_xasprintf("%s/alloc.2.pst", dir);
  FILE *f = fopen(p, "wb");
  cr_assert_not_null(f);
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  static struct tchunk c;
  uint64_t seq = 1, x = 0x9e3779b97f4a7c15ull;
  uint64_t addr[300];
  int live[300];
  tc_start(&c, seq);
  for (int i = 0; i < 300; i++) {
    addr[i] = 0x7f0000001000ull + (uint64_t)i * 64;
    live[i] = 1;
    tc_malloc_c(&c, seq++, 40, addr[i], 3);
  }
  tc_malloc_c(&c, seq++, 40, addr[7], 3); /* a duplicate: addr[7] is live already */
  tc_write(f, &c, 11, 0);
  tc_start(&c, seq);
  for (int n = 0; n < 300; n++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int i = (int)(x % 300);
    while (!live[i])
      i = (i + 1) % 300;
    live[i] = 0;
    tc_free_c(&c, seq++, addr[i]);
  }
  for (int i = 299; i >= 0; i -= 3) /* reuse of the freed addresses, not in LIFO order */
    tc_malloc_c(&c, seq += 2, 40, addr[i], 3);
  tc_write(f, &c, 12, 0);
  fclose(f);
  size_t len;
  uint8_t *raw = slurp(p, &len);
  round_trip(raw, len, "deep lists, reuse and duplicates");
  free(raw);
  free(p);
}

Test(trace_pack, every_truncation_of_a_raw_trace)
{
  size_t len;
  uint8_t *raw = synthetic(&len);
  for (size_t cut = 0; cut <= len; cut += cut < 200 ? 1 : 37) {
    char what[64];
    snprintf(what, sizeof what, "the trace cut at %zu of %zu", cut, len);
    round_trip(raw, cut, what);
  }
  free(raw);
}

/* A chunk whose payload is given as bytes (the header written here). */
static size_t put_chunk(uint8_t *out, uint32_t tid, uint64_t first_seq, const uint8_t *payload,
                        uint32_t plen, uint32_t nrec)
{
  struct ps_trace_chunk c = {PS_CHUNK_MAGIC, plen, tid, nrec, first_seq, 1000};
  memcpy(out, &c, sizeof c);
  memcpy(out + sizeof c, payload, plen);
  return sizeof c + plen;
}

Test(trace_pack, unknown_types_huge_values_and_odd_bytes)
{
  size_t hl;
  uint8_t *head = synthetic(&hl);
  uint8_t *buf = ps_xmalloc(1 << 16);
  size_t len = ((const struct ps_trace_header *)head)->header_len;
  memcpy(buf, head, len);
  free(head);
  uint8_t pl[512];
  size_t n = 0;
  /* huge size and a pointer near the top of the address space (full ALLOC record), a compact
   * malloc right after it, a huge compact size, then a free of each */
  pl[n++] = PS_REC_ALLOC | PS_FN_CALLOC << 4;
  n = (size_t)(ps_put_varint(pl + n, 1) - pl);
  n = (size_t)(ps_put_varint(pl + n, UINT64_MAX) - pl);
  n = (size_t)(ps_put_varint(pl + n, ps_zigzag((int64_t)0xfffffffffffff000ull)) - pl);
  n = (size_t)(ps_put_varint(pl + n, 7) - pl);
  pl[n++] = PS_REC_MALLOC_C | 1 << 4;
  n = (size_t)(ps_put_varint(pl + n, 1ull << 62) - pl);
  n = (size_t)(ps_put_varint(pl + n, ps_aptr_encode(0x7000 - 0xfffffffffffff000ull)) - pl);
  n = (size_t)(ps_put_varint(pl + n, UINT32_MAX) - pl);
  pl[n++] = PS_REC_FREE_C | 14 << 4;
  n = (size_t)(ps_put_varint(pl + n, ps_aptr_encode(0xfffffffffffff000ull - 0x7000)) - pl);
  pl[n++] = PS_REC_FREE_C | 15 << 4; /* seq delta 2^40 in a varint */
  n = (size_t)(ps_put_varint(pl + n, 1ull << 40) - pl);
  n = (size_t)(ps_put_varint(pl + n, ps_aptr_encode(0x7000 - 0xfffffffffffff000ull)) - pl);
  len += put_chunk(buf + len, 7, 5, pl, (uint32_t)n, 4);
  /* non-canonical bytes: an overlong size varint (0x90 0x00), an odd aptr form of a multiple of
   * 16, a seq delta of 3 written as 15 + varint: all must come back as they were */
  n = 0;
  uint8_t odd[] = {PS_REC_MALLOC_C | 1 << 4, 0x90, 0x00, 0x02, 0x01};
  memcpy(pl + n, odd, sizeof odd);
  n += sizeof odd;
  pl[n++] = PS_REC_MALLOC_C | 1 << 4;
  pl[n++] = 32;
  n = (size_t)(ps_put_varint(pl + n, ps_zigzag(4096) << 1 | 1) - pl);
  pl[n++] = 1;
  pl[n++] = PS_REC_FREE_C | 15 << 4;
  pl[n++] = 3;
  pl[n++] = 0;
  len += put_chunk(buf + len, 8, 100, pl, (uint32_t)n, 3);
  /* an unknown record type in the middle of a chunk: the rest of it is kept verbatim */
  n = 0;
  pl[n++] = PS_REC_MALLOC_C | 1 << 4;
  pl[n++] = 48;
  pl[n++] = 0x40;
  pl[n++] = 1;
  pl[n++] = 15 | 3 << 4; /* type 15: not known */
  for (int i = 0; i < 20; i++)
    pl[n++] = (uint8_t)(i * 37);
  len += put_chunk(buf + len, 7, 200, pl, (uint32_t)n, 2);
  /* zero padding, a chunk, garbage, a chunk magic without a whole chunk */
  memset(buf + len, 0, 4096);
  len += 4096;
  n = 0;
  pl[n++] = PS_REC_TIME;
  pl[n++] = 1;
  n = (size_t)(ps_put_varint(pl + n, 123456789) - pl);
  len += put_chunk(buf + len, 7, 300, pl, (uint32_t)n, 1);
  memcpy(buf + len, "garbage CHNK here", 17);
  len += 17;
  uint32_t magic = PS_CHUNK_MAGIC;
  memcpy(buf + len, &magic, 4);
  len += 4;
  memset(buf + len, 0xee, 12);
  len += 12;
  round_trip(buf, len, "the odd synthetic trace");
  /* and every prefix of it */
  for (size_t cut = 0; cut < len; cut += 13)
    round_trip(buf, cut, "a prefix of the odd synthetic trace");
  free(buf);
}

Test(trace_pack, random_bytes_round_trip)
{
  uint8_t buf[20000];
  uint64_t x = 0x1234567;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (uint8_t)x;
  }
  round_trip(buf, sizeof buf, "random bytes");
  /* random records inside a valid chunk */
  size_t hl;
  uint8_t *head = synthetic(&hl);
  size_t h0 = ((const struct ps_trace_header *)head)->header_len;
  uint8_t *t = ps_xmalloc(h0 + 32 + sizeof buf);
  memcpy(t, head, h0);
  free(head);
  for (int k = 0; k < 40; k++) {
    for (size_t i = 0; i < 600; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[i] = (uint8_t)(k & 1 ? (x & 0xf0) | (13 + (x & 1)) : x);
    }
    size_t len = h0 + put_chunk(t + h0, 9, 1, buf, 600, 100);
    round_trip(t, len, "random records in a chunk");
  }
  free(t);
}

Test(trace_pack, cut_packed_stream_gives_a_prefix)
{
  size_t len;
  uint8_t *raw = synthetic(&len);
  struct mem packed = {0};
  cr_assert_eq(ps_trace_pack(raw, len, 1, mem_sink, &packed), 0);
  for (size_t cut = 0; cut < packed.len; cut++) {
    struct mem back = {0};
    int trunc = 0;
    cr_assert_eq(unpack(packed.p, cut, 100, &back, &trunc), 0, "a cut at %zu is not corrupt",
                 cut);
    cr_assert_eq(trunc, 1, "a cut at %zu of %zu is reported", cut, packed.len);
    cr_assert_leq(back.len, len);
    cr_assert(!back.len || !memcmp(back.p, raw, back.len), "cut at %zu: a prefix of the raw",
              cut);
    free(back.p);
  }
  free(packed.p);
  free(raw);
}

Test(trace_pack, damaged_packed_data_refused)
{
  size_t len;
  uint8_t *raw = synthetic(&len);
  struct mem packed = {0};
  cr_assert_eq(ps_trace_pack(raw, len, 1, mem_sink, &packed), 0);
  int refused = 0, total = 0;
  for (size_t i = 9; i < packed.len; i += 7) {
    packed.p[i] ^= 0x5a;
    struct mem back = {0};
    int trunc = 0;
    int err = unpack(packed.p, packed.len, 512, &back, &trunc);
    /* either an error, or (a change in a length making it look cut) a truncated prefix: never
     * different bytes presented as the whole trace */
    if (!err && !trunc)
      cr_assert(back.len == len && !memcmp(back.p, raw, len), "damage at %zu went unnoticed", i);
    refused += err != 0;
    total++;
    packed.p[i] ^= 0x5a;
    free(back.p);
  }
  cr_expect_gt(refused, total / 2, "most damage is reported as corrupt (%d of %d)", refused,
               total);
  free(packed.p);
  free(raw);
}

Test(trace_pack, unknown_version_refused)
{
  uint8_t s[] = {'P', 'S', 'T', 'P', 'A', 'C', 'K', 0, 99};
  struct mem back = {0};
  int trunc = 0;
  struct ps_unpack *u = ps_unpack_new(mem_sink, &back);
  cr_expect_eq(ps_unpack_feed(u, s, sizeof s), -EINVAL);
  cr_expect(strstr(ps_unpack_error(u), "version 99") != NULL, "names the version: %s",
            ps_unpack_error(u));
  cr_expect_eq(ps_unpack_finish(u, &trunc), -EINVAL);
  ps_unpack_free(u);
  free(back.p);
}

/* Packs raw as the older packed version `version` (both checks) and asserts that today's
 * unpacker gives back the raw bytes. Returns the packed length. */
static size_t round_trip_version(const uint8_t *raw, size_t len, unsigned version,
                                 const char *what)
{
  struct mem packed = {0}, full = {0}, back = {0};
  cr_assert_eq(pk_pack_version(raw, len, 1, version, mem_sink, &packed), 0, "packing %s as v%u",
               what, version);
  cr_assert_eq(pk_pack_version(raw, len, 2, version, mem_sink, &full), 0, "%s v%u, full check",
               what, version);
  cr_assert(full.len == packed.len && !memcmp(full.p, packed.p, packed.len));
  cr_assert(packed.len > 8 && packed.p[8] == version, "%s: the stream says version %u", what,
            version);
  int trunc = 1;
  cr_assert_eq(unpack(packed.p, packed.len, 1000, &back, &trunc), 0, "unpacking %s v%u", what,
               version);
  cr_expect_eq(trunc, 0);
  cr_assert(back.len == len && (!len || !memcmp(back.p, raw, len)), "%s v%u: bytes differ", what,
            version);
  size_t n = packed.len;
  free(packed.p);
  free(full.p);
  free(back.p);
  return n;
}

/* Two threads whose events interleave (as on a quiet machine: seq deltas other than 1), with
 * the seq cases version 5's gap coding must escape: a seq taken twice (in one chunk and across
 * threads), a seq going backwards, a gap beyond PK_SEQ_GAP_MAX, seqs beyond the remembered
 * window and back below it, a seq near 2^64 wrapping, verbatim records between. */
static uint8_t *interleaved(size_t *len)
{
  char *p = ps_xasprintf("%s/alloc.3.pst", dir);
  FILE *f = fopen(p, "wb");
  cr_assert_not_null(f);
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  static struct tchunk a, b;
  uint64_t seq = 10, x = 0x2545f4914f6cdd1dull;
  for (int k = 0; k < 6; k++) {
    tc_start(&a, seq);
    tc_start(&b, seq);
    if (!k)
      tc_stack(&a, seq++, 1, 0x401000);
    for (int i = 0; i < 400; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      struct tchunk *c = x & 1 ? &a : &b;
      uint64_t ad = 0x6000000 + (uint64_t)(x >> 40 & 255) * 64 + (c == &b) * 0x100000;
      tc_malloc_c(c, seq++, 24 + (x >> 20 & 7) * 16, ad, 1);
      if (x & 2)
        tc_free_c(c, seq++, ad);
    }
    tc_free_c(&a, a.seq, 0x6000000);            /* the same seq twice in a chunk */
    tc_free_c(&b, a.seq, 0x6000040);            /* a seq the other thread took */
    tc_malloc_c(&a, a.seq - 5, 40, 0x6000080, 1); /* backwards */
    if (k == 2)
      tc_malloc_c(&a, seq += 70000, 40, 0x60000c0, 1); /* a gap beyond PK_SEQ_GAP_MAX */
    if (k == 3)
      tc_malloc_c(&b, seq += 5000000, 40, 0x6000100, 1); /* beyond the window */
    if (k == 4) {
      tc_free_c(&a, seq - 4000000, 0x6000100); /* below the window now */
      tc_alloc(&a, seq + 1, 56, 0x6000140, 1);  /* a verbatim-parsed full record */
    }
    if (k == 5)
      tc_malloc_c(&b, UINT64_MAX - 1, 40, 0x6000180, 1), tc_free_c(&b, 3, 0x6000180);
    tc_write(f, &a, 7, 0);
    tc_write(f, &b, 8, 0);
    seq += 3;
  }
  fclose(f);
  uint8_t *raw = slurp(p, len);
  free(p);
  return raw;
}

Test(trace_pack, seq_gaps_of_interleaved_threads_round_trip)
{
  size_t len;
  uint8_t *raw = interleaved(&len);
  size_t v5 = round_trip(raw, len, "interleaved threads");
  size_t v4 = round_trip_version(raw, len, 4, "interleaved threads");
  cr_expect_lt(v5, v4, "the second thread's seqs fill the first one's gaps: v5 %zu B, v4 %zu B",
               v5, v4);
  for (size_t cut = 0; cut <= len; cut += 101) /* and cut anywhere */
    round_trip(raw, cut, "interleaved threads, cut");
  free(raw);
}

/* Traces packed by the previous version (4, before the seq gaps) stay readable. */
Test(trace_pack, version_4_still_unpacked)
{
  size_t len;
  uint8_t *raw = synthetic(&len);
  round_trip_version(raw, len, 4, "the synthetic trace");
  round_trip_version(raw, len / 2, 4, "half the synthetic trace");
  free(raw);
  round_trip_version((const uint8_t *)"", 0, 4, "an empty trace");
  need(PERFSWEEP_BIN_DIR "/alloc-truth");
  need(PERFSWEEP_LIB_DIR "/libperfsweep-alloc.so");
  char *cmd = ps_xasprintf("cd %s && PERFSWEEP_TRACE_DIR=%s PERFSWEEP_ALLOC=exact "
                           "LD_PRELOAD=%s/libperfsweep-alloc.so %s/alloc-truth bench 20000 "
                           ">/dev/null 2>&1", dir, dir, PERFSWEEP_LIB_DIR, PERFSWEEP_BIN_DIR);
  (void)!system(cmd);
  free(cmd);
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "alloc.", 6)) {
      char *p = ps_xasprintf("%s/%s", dir, e->d_name);
      raw = slurp(p, &len);
      round_trip_version(raw, len, 4, p);
      free(raw);
      free(p);
      n++;
    }
  closedir(d);
  cr_expect_gt(n, 0, "the bench wrote a trace");
}

/* ---- the per-record check and the record parser ---- */

/* A wrong byte in any stream a packed record is read from is caught by the per-record check
 * (verify 1): the packer returns -EPROTO and the caller stores the trace unpacked. */
Test(trace_pack, check_refuses_a_record_that_does_not_read_back)
{
  size_t len;
  uint8_t *raw = synthetic(&len);
  static const int must[] = {PK_OP, PK_MOP, PK_FOP, PK_SEQ, PK_ILO, PK_IHI, PK_FLO, PK_FHI,
                             PK_AFN};
  int caught = 0;
  for (int i = 0; i < PK_NSTREAMS; i++) {
    struct mem packed = {0};
    pk_check_fault = i;
    int err = ps_trace_pack(raw, len, 1, mem_sink, &packed);
    int used = pk_check_fault < 0; /* the check read a byte of that stream */
    pk_check_fault = -1;
    free(packed.p);
    for (size_t j = 0; j < sizeof must / sizeof *must; j++)
      if (must[j] == i)
        cr_expect(used, "the synthetic trace's records read stream %d", i);
    if (used) {
      cr_expect_eq(err, -EPROTO, "a flipped byte in stream %d: the pack is refused", i);
      caught++;
    } else {
      cr_expect_eq(err, 0, "stream %d unused: the pack is fine", i);
    }
  }
  cr_expect_geq(caught, 9);
  struct mem packed = {0};
  cr_expect_eq(ps_trace_pack(raw, len, 1, mem_sink, &packed), 0, "no fault: packed");
  free(packed.p);
  free(raw);
}

static uint64_t xs(uint64_t *x)
{
  *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
  return *x;
}

/* pk_hot_parse's test of an aptr field is decoding and encoding it again. */
Test(trace_pack, aptr_fields_accepted_as_encode_of_decode)
{
  uint64_t x = 0x2545f4914f6cdd1dull;
  for (int i = 0; i < 2000000; i++) {
    uint64_t v;
    if (i < 70000)
      v = (uint64_t)i;
    else if (i < 80000)
      v = UINT64_MAX - (uint64_t)(i - 70000);
    else if (i < 81440) /* around every power of two from 2^56 (the 60-bit edges), both signs */
      v = ((uint64_t)1 << (56 + (i - 80000) / 180 % 8)) + (uint64_t)((i - 80000) % 90) - 45 +
          ((i - 80000) / 90 % 2 ? 1ull << 63 : 0);
    else if (i < 1000000)
      v = ps_aptr_encode(xs(&x) >> (i % 64)); /* what writers write */
    else
      v = xs(&x) >> (i % 64);
    uint64_t d, ref = ps_aptr_decode(v);
    int ok = pk__aptr_canon(v, &d), want = ps_aptr_encode(ref) == v;
    cr_assert_eq(ok, want, "aptr field %#llx: accepted %d, encode(decode) %d",
                 (unsigned long long)v, ok, want);
    if (ok)
      cr_assert_eq(d, ref, "aptr field %#llx decodes the same", (unsigned long long)v);
  }
}

/* The rules of pk_hot_parse written plainly: fields read with ps_get_varint, each must be what
 * ps_put_varint writes for its value, the pointer what the record's own coding writes. */
static size_t ref_parse(const uint8_t *p, const uint8_t *end, uint64_t last_ptr, struct pk_hot *h)
{
  const uint8_t *q = p;
  uint64_t v[4];
  int nf = 0;
  if (q >= end)
    return 0;
  unsigned tb = *q++, type = tb & 15;
  int compact = type == PS_REC_MALLOC_C || type == PS_REC_FREE_C;
  int alloc = type == PS_REC_MALLOC_C || type == PS_REC_ALLOC || type == PS_REC_ALLOCS;
  int fields = 1 + 2 * alloc + !(compact && tb >> 4 < 15); /* [seq] [size] ptr [stack] */
  for (; nf < fields; nf++) {
    const uint8_t *s = q;
    uint8_t tmp[PS_VARINT_MAX];
    if (ps_get_varint(&q, end, &v[nf]))
      return 0;
    size_t n = (size_t)(ps_put_varint(tmp, v[nf]) - tmp);
    if (n != (size_t)(q - s) || memcmp(tmp, s, n)) /* not in shortest form */
      return 0;
  }
  int k = 0;
  h->type = type;
  h->fn = compact ? 0 : tb >> 4;
  h->seq_delta = compact && tb >> 4 < 15 ? tb >> 4 : v[k++];
  if (compact && tb >> 4 == 15 && h->seq_delta < 15)
    return 0;
  h->size = alloc ? v[k++] : 0;
  uint64_t z = v[k++], d = pk_lit_decode(type, z);
  if (pk_lit_encode(type, d) != z)
    return 0;
  h->ptr = last_ptr + d;
  h->stack = alloc ? v[k++] : 0;
  return (size_t)(q - p);
}

/* Random compact and full records, shortest and overlong varints, cut anywhere: pk_hot_parse
 * (with its shortcut for compact records of short fields) agrees with ref_parse. */
Test(trace_pack, hot_records_parsed_by_the_plain_rules)
{
  static const unsigned types[] = {PS_REC_MALLOC_C, PS_REC_FREE_C, PS_REC_ALLOC, PS_REC_ALLOCS,
                                   PS_REC_FREE};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 400000; i++) {
    uint8_t buf[64];
    size_t n = 0;
    unsigned type = types[xs(&x) % 5];
    buf[n++] = (uint8_t)(type | (xs(&x) % 16) << 4);
    for (int f = 0; f < 4; f++) {
      uint64_t r = xs(&x), v = r >> (r % 64);
      if (f == 1 && r % 3 == 0) /* a pointer field as writers write it, mostly */
        v = pk_lit_encode(type, (r % 5 ? r >> 40 : r) * 16 + (r % 7 == 0));
      n = (size_t)(ps_put_varint(buf + n, v) - buf);
      if (r % 11 == 0) { /* overlong: one more byte that adds nothing */
        buf[n - 1] |= 0x80;
        buf[n++] = 0;
      }
    }
    size_t cut = xs(&x) % 3 ? sizeof buf : 1 + xs(&x) % n;
    struct pk_hot a = {0}, b = {0};
    uint64_t last = xs(&x);
    size_t na = pk_hot_parse(buf, buf + cut, last, &a), nb = ref_parse(buf, buf + cut, last, &b);
    cr_assert_eq(na, nb, "record %d (type %u, %zu of %zu bytes): length %zu, plainly %zu", i,
                 type, cut, n, na, nb);
    if (na)
      cr_assert(a.type == b.type && a.fn == b.fn && a.seq_delta == b.seq_delta &&
                    a.size == b.size && a.ptr == b.ptr && a.stack == b.stack,
                "record %d: the same values", i);
  }
}
