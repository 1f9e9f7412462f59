/* test-alloc-order.c - the event order of allocation traces (docs/trace-format.md, "Order"): run
 * ground-truth programs under the tracer and read their records merged by seq (`perfsweep analyze
 * --dump`): every thread's seqs increase, and every address alternates allocation, free,
 * allocation... in the merged order, also when 8 threads pass blocks to each other (a free in
 * another thread than the allocation, addresses reused across threads). And the file order: a
 * thread that starts others writes out its records first, so chunks come roughly in seq order.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-tmp.h"

#include "trace-format.h"

#define BIN PERFSWEEP_BIN_DIR
#define LIB PERFSWEEP_LIB_DIR

static char tmpdir[256];

static void make_tmp(void)
{
  strcpy(tmpdir, "/tmp/ps-test-alloc-order-XXXXXX");
  ps_test_mkdtemp(tmpdir); /* removed at exit, also after a skip */
}

static void rm_tmp(void) { ps_test_rm_tree(tmpdir); }

TestSuite(alloc_order, .init = make_tmp, .fini = rm_tmp, .timeout = 120);

/* address -> live (open addressing, never removes) */
struct addr_map {
  uint64_t *key;
  unsigned char *live;
  size_t cap;
};

static unsigned char *addr_state(struct addr_map *m, uint64_t a, int *fresh)
{
  size_t i = (size_t)((a >> 4) * 0x9e3779b97f4a7c15ull >> 40) & (m->cap - 1);
  while (m->key[i] && m->key[i] != a)
    i = (i + 1) & (m->cap - 1);
  *fresh = m->key[i] == 0;
  m->key[i] = a;
  return &m->live[i];
}

struct order_stats {
  long records, allocs, frees, bad_order, early_free, double_alloc;
};

/* Traces `alloc-truth ARGS` and checks the merged order of its trace. */
static struct order_stats check_order(const char *args)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/t && PERFSWEEP_TRACE_DIR=%s/t PERFSWEEP_ALLOC=exact "
           "LD_PRELOAD=%s/libperfsweep-alloc.so %s/alloc-truth %s >/dev/null",
           tmpdir, tmpdir, LIB, BIN, args);
  cr_assert_eq(system(cmd), 0, "'%s' failed", cmd);
  snprintf(cmd, sizeof cmd, "%s/perfsweep analyze --dump %s/t/alloc.*.pst", BIN, tmpdir);
  FILE *f = popen(cmd, "r");
  cr_assert_not_null(f, "popen %s", cmd);
  struct addr_map m = {calloc(1 << 20, 8), calloc(1 << 20, 1), 1 << 20};
  uint64_t last_seq[64] = {0};
  uint32_t tids[64] = {0};
  struct order_stats st = {0};
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    uint64_t seq;
    unsigned tid, type;
    if (sscanf(line, "%" SCNu64 " tid=%u type=%u", &seq, &tid, &type) != 3)
      continue;
    st.records++;
    size_t t = 0;
    while (t < 63 && tids[t] && tids[t] != tid)
      t++;
    if (tids[t] == tid && seq <= last_seq[t])
      st.bad_order++;
    tids[t] = tid;
    last_seq[t] = seq;
    uint64_t ptr = 0, old = 0;
    const char *pp = strstr(line, " ptr=0x"), *po = strstr(line, " old=0x");
    if (pp)
      ptr = strtoull(pp + 7, NULL, 16);
    if (po)
      old = strtoull(po + 7, NULL, 16);
    int fresh;
    if ((type == PS_REC_FREE || (type == PS_REC_REALLOC && old)) && (type == PS_REC_FREE ? ptr : old)) {
      unsigned char *s = addr_state(&m, type == PS_REC_FREE ? ptr : old, &fresh);
      st.frees++;
      if (!*s && !fresh)
        st.early_free++; /* a free before the allocation of its block */
      *s = 0;
    }
    if ((type == PS_REC_ALLOC || type == PS_REC_REALLOC) && ptr) {
      unsigned char *s = addr_state(&m, ptr, &fresh);
      st.allocs++;
      if (*s)
        st.double_alloc++; /* an allocation at an address still live */
      *s = 1;
    }
  }
  int rc = pclose(f);
  cr_assert_eq(rc, 0, "'%s' failed", cmd);
  free(m.key);
  free(m.live);
  return st;
}

Test(alloc_order, threads_passing_blocks_merge_in_order)
{
  for (int run = 0; run < 3; run++) {
    struct order_stats st = check_order("threads");
    cr_expect_geq(st.allocs, 8000, "8 threads x 1000 blocks traced (run %d)", run);
    cr_expect_eq(st.bad_order, 0, "a thread's seqs always increase (run %d)", run);
    cr_expect_eq(st.early_free, 0, "no free merged before its allocation (run %d)", run);
    cr_expect_eq(st.double_alloc, 0, "no address allocated again before its free (run %d)", run);
    rm_tmp();
    make_tmp();
  }
}

Test(alloc_order, two_busy_threads_merge_in_order)
{
  struct order_stats st = check_order("bench 50000");
  cr_expect_geq(st.allocs, 100000, "2 x 50000 allocations traced");
  cr_expect_eq(st.bad_order, 0, "a thread's seqs always increase");
  cr_expect_eq(st.early_free, 0, "no free merged before its allocation");
  cr_expect_eq(st.double_alloc, 0, "no address allocated again before its free");
}

Test(alloc_order, realloc_chains_merge_in_order)
{
  struct order_stats st = check_order("realloc");
  cr_expect_gt(st.records, 0, "records traced");
  cr_expect_eq(st.bad_order, 0, "a thread's seqs always increase");
  cr_expect_eq(st.early_free, 0, "no free merged before its allocation");
  cr_expect_eq(st.double_alloc, 0, "no address allocated again before its free (reallocarray's "
               "inner realloc is not recorded twice)");
}

/* The main thread of `alloc-truth bench` allocates, starts two workers and waits for them. Its
 * first records (the lowest seqs) used to stay in its buffer until exit, the last chunk of the
 * file; a reader unpacking a packed trace in file order had to unpack it all before it could
 * merge the first record. pthread_create and pthread_join now write the caller's buffer out. */
Test(alloc_order, first_seqs_come_first_in_the_file)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/t && PERFSWEEP_TRACE_DIR=%s/t PERFSWEEP_ALLOC=exact "
           "LD_PRELOAD=%s/libperfsweep-alloc.so %s/alloc-truth bench 50000 >/dev/null",
           tmpdir, tmpdir, LIB, BIN);
  cr_assert_eq(system(cmd), 0, "'%s' failed", cmd);
  char pat[512];
  snprintf(pat, sizeof pat, "%s/t/alloc.*.pst", tmpdir);
  glob_t g;
  cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no trace %s", pat);
  FILE *f = fopen(g.gl_pathv[0], "rb");
  cr_assert_not_null(f);
  struct ps_trace_header h;
  cr_assert_eq(fread(&h, sizeof h, 1, f), 1);
  cr_assert_eq(fseek(f, h.header_len, SEEK_SET), 0);
  long n = 0, min_at = -1;
  uint64_t min_seq = UINT64_MAX;
  struct ps_trace_chunk c;
  while (fread(&c.magic, 4, 1, f) == 1) {
    if (c.magic == 0) /* zero padding between write regions */
      continue;
    cr_assert_eq(c.magic, PS_CHUNK_MAGIC, "a chunk header at offset %ld", ftell(f) - 4);
    cr_assert_eq(fread((char *)&c + 4, sizeof c - 4, 1, f), 1);
    if (c.first_seq < min_seq) {
      min_seq = c.first_seq;
      min_at = n;
    }
    n++;
    cr_assert_eq(fseek(f, c.payload_len, SEEK_CUR), 0);
  }
  fclose(f);
  globfree(&g);
  cr_assert_gt(n, 10, "2 x 50000 allocations fill many chunks (%ld)", n);
  cr_expect_eq(min_at, 0, "the chunk of the first seqs is chunk %ld of %ld, not the first", min_at,
               n);
}
