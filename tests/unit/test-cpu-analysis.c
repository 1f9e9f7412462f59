/* test-cpu-analysis.c - cpu_analyze on synthetic traces written record by record with the
 * trace format's own encoders: counts, per-thread shares, lost and degraded samples, the engine
 * and its reason, self/total shares with recursion, the exports' files, and refusals of a foreign
 * or an allocation trace. Addresses have no module, so frames read "0x..." (known fallback). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu-analysis.h"
#include "probe-env.h"
#include "trace-format.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-cpu-analysis-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(cpu_analysis, .init = setup);

struct tw {
  uint8_t buf[65536];
  size_t n;          /* bytes in buf (file) */
  size_t chunk;      /* offset of the open chunk header */
  uint8_t *p;
  uint64_t seq, last_seq;
  uint32_t nrec;
};

static void tw_header(struct tw *w, uint16_t kind, uint32_t mode, uint64_t freq)
{
  struct ps_trace_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, PS_TRACE_MAGIC, 8);
  h.version = PS_TRACE_VERSION;
  h.kind = kind;
  h.header_len = sizeof h;
  h.pid = 4242;
  h.mode = mode;
  h.param = freq;
  h.depth = 64;
  memcpy(w->buf, &h, sizeof h);
  w->n = sizeof h;
}

static void tw_chunk(struct tw *w, uint32_t tid)
{
  w->chunk = w->n;
  w->n += sizeof(struct ps_trace_chunk);
  w->p = w->buf + w->n;
  w->nrec = 0;
  struct ps_trace_chunk c = {.magic = PS_CHUNK_MAGIC, .tid = tid, .first_seq = w->seq};
  memcpy(w->buf + w->chunk, &c, sizeof c);
  w->last_seq = w->seq;
}

static void tw_rec(struct tw *w, unsigned type)
{
  *w->p++ = (uint8_t)type;
  w->p = ps_put_varint(w->p, w->seq - w->last_seq);
  w->last_seq = w->seq++;
  w->nrec++;
}

static void tw_str(struct tw *w, const char *s)
{
  size_t n = strlen(s);
  w->p = ps_put_varint(w->p, n);
  memcpy(w->p, s, n);
  w->p += n;
}

static void tw_end_chunk(struct tw *w)
{
  struct ps_trace_chunk c; /* chunks are not aligned in the file: copy, never cast */
  memcpy(&c, w->buf + w->chunk, sizeof c);
  size_t end = (size_t)(w->p - w->buf);
  c.payload_len = (uint32_t)(end - w->chunk - sizeof c);
  c.nrecords = w->nrec;
  memcpy(w->buf + w->chunk, &c, sizeof c);
  w->n = end;
}

static void tw_stack(struct tw *w, uint64_t id, const uint64_t *ips, unsigned n)
{
  tw_rec(w, PS_REC_STACK);
  w->p = ps_put_varint(w->p, id);
  w->p = ps_put_varint(w->p, n);
  for (unsigned i = 0; i < n; i++)
    w->p = ps_put_varint(w->p, i ? ps_zigzag((int64_t)(ips[i] - ips[i - 1])) : ips[i]);
}

static void tw_sample(struct tw *w, uint64_t stack, unsigned flags, int times)
{
  for (int i = 0; i < times; i++) {
    tw_rec(w, PS_REC_SAMPLE);
    w->p = ps_put_varint(w->p, 1000 + w->seq);
    w->p = ps_put_varint(w->p, flags);
    w->p = ps_put_varint(w->p, stack);
  }
}

static char *tw_save(struct tw *w, const char *name)
{
  char *path = ps_xasprintf("%s/%s", dir, name);
  cr_assert_eq(ps_write_file_atomic(path, w->buf, w->n), 0);
  return path;
}

/* Thread 100 "main": 60 samples of stack 1 and 20 of stack 2 (both with leaf 0x1000); thread 200
 * "worker": 20 samples of stack 3 (defined later, in a chunk of thread 100), 4 degraded leaf-only
 * samples, 5 lost. The engine note says the timer fallback ran and why. */
static char *synthetic_trace(const char *name)
{
  static struct tw w;
  memset(&w, 0, sizeof w);
  tw_header(&w, PS_TRACE_CPU, PS_CPU_CLOCK, 999);
  uint64_t s1[] = {0x1000, 0x2000, 0x3000}, s2[] = {0x1000, 0x1000, 0x2000},
           s3[] = {0x4000, 0x3000}, s4[] = {0x5000};
  tw_chunk(&w, 100);
  tw_rec(&w, PS_REC_THREAD);
  w.p = ps_put_varint(w.p, 100);
  tw_str(&w, "main");
  tw_rec(&w, PS_REC_NOTE);
  w.p = ps_put_varint(w.p, PS_NOTE_ENGINE);
  tw_str(&w, "timer_create:perf_event_open refused (EACCES/EPERM)");
  tw_stack(&w, 1, s1, 3);
  tw_sample(&w, 1, 0, 60);
  tw_stack(&w, 2, s2, 3);
  tw_sample(&w, 2, 0, 20);
  tw_end_chunk(&w);
  /* thread 2 uses stack 3 defined in a later chunk of thread 1: the reader must cope */
  tw_chunk(&w, 200);
  tw_rec(&w, PS_REC_THREAD);
  w.p = ps_put_varint(w.p, 200);
  tw_str(&w, "worker");
  tw_sample(&w, 3, 0, 20);
  tw_stack(&w, 4, s4, 1);
  tw_sample(&w, 4, PS_SAMPLE_F_DEGRADED | PS_SAMPLE_F_LEAF_ONLY, 4);
  tw_rec(&w, PS_REC_LOST);
  w.p = ps_put_varint(w.p, 5);
  tw_end_chunk(&w);
  tw_chunk(&w, 100);
  tw_stack(&w, 3, s3, 2);
  tw_end_chunk(&w);
  return tw_save(&w, name);
}

static const json_t *find_thread(const json_t *s, const char *name)
{
  size_t i;
  const json_t *t;
  json_array_foreach(json_object_get(s, "threads"), i, t) if (
      !strcmp(json_string_value(json_object_get(t, "name")), name)) return t;
  return NULL;
}

Test(cpu_analysis, counts_threads_lost_degraded_and_engine)
{
  char *path = synthetic_trace("cpu.4242.pst");
  json_t *s = NULL;
  char *out = ps_xasprintf("%s/out", dir);
  struct cpu_analysis_opts o = {.out_dir = out};
  cr_assert_eq(cpu_analyze(&path, 1, &o, &s), 0);
  cr_assert_eq(json_integer_value(json_object_get(s, "samples")), 104);
  cr_assert_eq(json_integer_value(json_object_get(s, "lost")), 5);
  cr_assert_eq(json_integer_value(json_object_get(s, "degraded")), 4);
  cr_assert_eq(json_integer_value(json_object_get(s, "frequency")), 999);
  cr_assert_str_eq(json_string_value(json_object_get(s, "engine")), "timer_create");
  cr_assert_str_eq(json_string_value(json_object_get(s, "engine_reason")),
                   "perf_event_open refused (EACCES/EPERM)");
  cr_assert_str_eq(json_string_value(json_object_get(s, "event")), "cpu-clock");
  const json_t *m = find_thread(s, "main"), *wk = find_thread(s, "worker");
  cr_assert(m && wk, "both named threads listed");
  cr_assert_eq(json_integer_value(json_object_get(m, "samples")), 80);
  cr_assert_eq(json_integer_value(json_object_get(wk, "samples")), 24);
  cr_assert_eq(json_integer_value(json_object_get(wk, "lost")), 5);
  cr_assert_float_eq(json_real_value(json_object_get(m, "share")), 80.0 / 104, 1e-9);
  /* top[0]: the leaf 0x1000 has self 80 (60 + 20), total 80 (recursion counted once) */
  const json_t *top0 = json_array_get(json_object_get(s, "top"), 0);
  cr_assert_eq(json_integer_value(json_object_get(top0, "self")), 80);
  cr_assert_eq(json_integer_value(json_object_get(top0, "total")), 80,
               "a leaf on two stacks: total = self = 80");
  const char *files[] = {"cpu.folded", "cpu.svg", "cpu.speedscope.json", "cpu.pb.gz"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(files); i++) {
    char *f = ps_xasprintf("%s/%s", out, files[i]);
    cr_assert_eq(access(f, R_OK), 0, "%s written", f);
    free(f);
  }
  cr_assert_not_null(json_object_get(s, "call_tree"));
  char *text = NULL;
  size_t len = 0;
  FILE *mf = open_memstream(&text, &len);
  cpu_print_summary(mf, s);
  fclose(mf);
  cr_assert_not_null(strstr(text, "104 samples"), "summary: %s", text);
  cr_assert_not_null(strstr(text, "worker"));
  free(text);
  json_decref(s);
  free(out);
  free(path);
}

Test(cpu_analysis, refuses_an_allocation_trace_and_garbage)
{
  static struct tw w;
  memset(&w, 0, sizeof w);
  tw_header(&w, PS_TRACE_ALLOC, 1, 0);
  char *alloc = tw_save(&w, "alloc.1.pst");
  json_t *s = NULL;
  cr_assert_eq(cpu_analyze(&alloc, 1, NULL, &s), -EINVAL);
  cr_assert_null(s);
  char *junk = ps_xasprintf("%s/junk.pst", dir);
  cr_assert_eq(ps_write_file_atomic(junk, "hello, not a trace at all", 25), 0);
  cr_assert_lt(cpu_analyze(&junk, 1, NULL, &s), 0);
  char *none = ps_xasprintf("%s/missing.pst", dir);
  cr_assert_lt(cpu_analyze(&none, 1, NULL, &s), 0);
  cr_assert_eq(cpu_analyze(NULL, 0, NULL, &s), -ENOENT);
  free(alloc);
  free(junk);
  free(none);
}

Test(cpu_analysis, diff_against_a_base_lists_share_changes_and_writes_the_diff_graph)
{
  char *path = synthetic_trace("cpu.4243.pst");
  char *base = ps_xasprintf("%s/base.folded", dir);
  const char *text = "main;gone 30\nmain;also_gone 10\n";
  cr_assert_eq(ps_write_file_atomic(base, text, strlen(text)), 0);
  char *out = ps_xasprintf("%s/outdiff", dir);
  struct cpu_analysis_opts o = {.out_dir = out, .diff_base = base};
  json_t *s = NULL;
  cr_assert_eq(cpu_analyze(&path, 1, &o, &s), 0);
  const json_t *diff = json_object_get(s, "diff");
  cr_assert(json_array_size(diff) >= 2, "diff rows expected");
  int seen = 0;
  size_t i;
  const json_t *row;
  json_array_foreach(diff, i, row)
  {
    if (!strcmp(json_string_value(json_object_get(row, "function")), "gone")) {
      seen = 1;
      cr_assert_float_eq(json_real_value(json_object_get(row, "self_delta")), -0.75, 1e-9,
                         "gone had 30 of 40 base samples and none now");
    }
  }
  cr_assert(seen, "a function that disappeared is listed");
  char *svg = ps_xasprintf("%s/cpu-diff.svg", out);
  cr_assert_eq(access(svg, R_OK), 0, "differential flame graph written");
  json_decref(s);
  /* a base folder without cpu.folded is refused with a message */
  o.diff_base = dir;
  cr_assert_lt(cpu_analyze(&path, 1, &o, &s), 0);
  free(svg);
  free(out);
  free(base);
  free(path);
}
