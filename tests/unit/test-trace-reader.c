/* test-trace-reader.c - the trace reader on synthetic traces: merge order across threads,
 * a torn tail read up to the last whole chunk, foreign files and versions refused, corrupt
 * records reported, trace discovery in a folder.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "test-tmp.h"
#include "test-trace-build.h"
#include "trace-reader.h"
#include "util.h"

static char path[256];

static FILE *new_trace(void)
{
  strcpy(path, "/tmp/ps-test-trace-XXXXXX");
  int fd = ps_test_mkstemp(path);
  cr_assert(fd >= 0, "mkstemp");
  FILE *f = fdopen(fd, "wb");
  cr_assert_not_null(f);
  return f;
}

static void cleanup(void) { unlink(path); }

TestSuite(trace, .fini = cleanup);

Test(trace, merge_orders_threads_by_seq)
{
  FILE *f = new_trace();
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  struct tchunk a, b;
  tc_start(&b, 1); /* thread 2's chunk lands first in the file */
  tc_alloc(&b, 1, 10, 0x1000, 1);
  tc_free(&b, 3, 0x2000);
  tc_write(f, &b, 2, 0);
  tc_start(&a, 0);
  tc_alloc(&a, 0, 20, 0x2000, 1);
  tc_alloc(&a, 2, 30, 0x3000, 1);
  tc_free(&a, 4, 0x1000);
  tc_write(f, &a, 1, 0);
  fclose(f);
  struct ps_trace *t;
  cr_assert_eq(ps_trace_open(path, &t), 0, "open a valid trace");
  cr_assert_eq(ps_trace_merge_begin(t), 0);
  struct ps_rec r;
  uint64_t want_seq[] = {0, 1, 2, 3, 4};
  uint32_t want_tid[] = {1, 2, 1, 2, 1};
  uint64_t want_ptr[] = {0x2000, 0x1000, 0x3000, 0x2000, 0x1000};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(ps_trace_merge_next(t, &r), 1, "record %d", i);
    cr_expect_eq(r.seq, want_seq[i], "record %d has seq %llu", i, (unsigned long long)r.seq);
    cr_expect_eq(r.tid, want_tid[i], "record %d from thread %u", i, r.tid);
    cr_expect_eq(r.ptr, want_ptr[i], "record %d ptr 0x%llx", i, (unsigned long long)r.ptr);
  }
  cr_expect_eq(ps_trace_merge_next(t, &r), 0, "end of trace");
  cr_expect_eq(ps_trace_truncated(t), 0, "not truncated");
  ps_trace_close(t);
}

Test(trace, torn_tail_read_up_to_last_chunk)
{
  FILE *f = new_trace();
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  struct tchunk a;
  tc_start(&a, 0);
  tc_alloc(&a, 0, 8, 0x100, 1);
  tc_write(f, &a, 1, 0);
  tc_start(&a, 1);
  tc_alloc(&a, 1, 8, 0x200, 1);
  tc_alloc(&a, 2, 8, 0x300, 1);
  tc_write(f, &a, 1, 3); /* killed mid-write */
  fclose(f);
  struct ps_trace *t;
  cr_assert_eq(ps_trace_open(path, &t), 0);
  cr_assert_eq(ps_trace_merge_begin(t), 0);
  struct ps_rec r;
  int n = 0;
  while (ps_trace_merge_next(t, &r) == 1)
    n++;
  cr_expect_eq(n, 1, "only the whole chunk's record is read, got %d", n);
  cr_expect_eq(ps_trace_truncated(t), 1, "the torn tail is reported");
  ps_trace_close(t);
}

Test(trace, foreign_version_refused)
{
  FILE *f = new_trace();
  tb_header(f, PS_TRACE_VERSION + 1, PS_TRACE_ALLOC, 1, 0);
  fclose(f);
  struct ps_trace *t = NULL;
  cr_expect_eq(ps_trace_open(path, &t), -EPROTONOSUPPORT, "a newer version is refused");
  cr_expect_null(t);
}

Test(trace, not_a_trace_refused)
{
  FILE *f = new_trace();
  fputs("this is not a perfsweep trace, just some text that is long enough for a header......\n", f);
  fclose(f);
  struct ps_trace *t = NULL;
  cr_expect_eq(ps_trace_open(path, &t), -EINVAL, "text is refused");
  cr_expect_eq(ps_trace_open("/nonexistent/alloc.1.pst", &t), -ENOENT, "a missing file");
}

Test(trace, corrupt_record_reported)
{
  FILE *f = new_trace();
  tb_header(f, PS_TRACE_VERSION, PS_TRACE_ALLOC, 1, 0);
  struct tchunk a;
  tc_start(&a, 0);
  tc_rec(&a, 15, 0, 0); /* no such record type */
  tc_write(f, &a, 1, 0);
  fclose(f);
  struct ps_trace *t;
  cr_assert_eq(ps_trace_open(path, &t), 0);
  cr_assert_eq(ps_trace_merge_begin(t), 0);
  struct ps_rec r;
  cr_expect_eq(ps_trace_merge_next(t, &r), -EINVAL, "an unknown record type is corruption");
  ps_trace_close(t);
}

Test(trace, varint_roundtrip)
{
  uint64_t vals[] = {0, 1, 127, 128, 300, 1ull << 32, UINT64_MAX};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    uint8_t buf[PS_VARINT_MAX];
    uint8_t *end = ps_put_varint(buf, vals[i]);
    const uint8_t *p = buf;
    uint64_t out;
    cr_assert_eq(ps_get_varint(&p, end, &out), 0);
    cr_expect_eq(out, vals[i], "varint %llu", (unsigned long long)vals[i]);
    p = buf;
    if (end - buf > 1)
      cr_expect_eq(ps_get_varint(&p, end - 1, &out), -1, "a cut varint is an error");
  }
  cr_expect_eq(ps_unzigzag(ps_zigzag(-5)), -5);
}

Test(trace, find_in_folder)
{
  char dir[] = "/tmp/ps-test-trace-dir-XXXXXX";
  ps_test_mkdtemp(dir);
  const char *names[] = {"alloc.2.pst", "alloc.10.pst", "cpu.2.pst", "other.txt"};
  for (int i = 0; i < 4; i++) {
    char *p = ps_xasprintf("%s/%s", dir, names[i]);
    FILE *f = fopen(p, "w");
    fclose(f);
    free(p);
  }
  char **paths = NULL;
  size_t n = 0;
  cr_assert_eq(ps_trace_find(dir, "alloc", &paths, &n), 0);
  cr_expect_eq(n, 2, "two alloc traces, got %zu", n);
  ps_trace_paths_free(paths, n);
}
