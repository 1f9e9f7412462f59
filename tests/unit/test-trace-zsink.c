/* test-trace-zsink.c - zstd in a thread of its own (trace-zsink.c) writes byte for byte the frame
 * the synchronous sink writes, through many batches, a long queue and the reuse of its batches;
 * the queue is bounded (the writer waits for the thread); a discarded run stops cleanly.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-zsink.h"
#include "util.h"

/* Compressible pieces of 100..8099 bytes, deterministic: n pieces into buf (caller frees). */
static uint8_t *pieces(size_t n, size_t **len_out, size_t *total)
{
  size_t *len = ps_xmalloc(n * sizeof *len), sum = 0;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    len[i] = 100 + x % 8000;
    sum += len[i];
  }
  uint8_t *buf = ps_xmalloc(sum);
  for (size_t i = 0; i < sum; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (uint8_t)("perfsweep"[i % 9] + (x & 3));
  }
  *len_out = len;
  *total = sum;
  return buf;
}

/* The frame written by either sink into a temporary file; returns its bytes (caller frees). */
static uint8_t *frame(int async, int discard, const uint8_t *buf, const size_t *len, size_t n,
                      size_t *size)
{
  FILE *f = tmpfile();
  cr_assert_not_null(f);
  struct ps_zsink z = {ZSTD_createCCtx(), fileno(f), NULL, ZSTD_CStreamOutSize(), "test"};
  z.out = ps_xmalloc(z.cap);
  ZSTD_CCtx_setParameter(z.cc, ZSTD_c_compressionLevel, 1);
  struct ps_zsink_async *a = async ? ps_zsink_async_start(&z) : NULL;
  cr_assert(!async || a, "the zstd thread starts");
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    int err = a ? ps_zsink_async_write(a, buf + at, len[i])
                : ps_zsink_push(&z, buf + at, len[i], ps_zsink_mode(len[i]));
    cr_assert_eq(err, 0, "piece %zu", i);
    at += len[i];
  }
  if (a)
    cr_assert_eq(ps_zsink_async_finish(a, discard), 0);
  if (!discard)
    cr_assert_eq(ps_zsink_push(&z, NULL, 0, ZSTD_e_end), 0);
  ZSTD_freeCCtx(z.cc);
  free(z.out);
  long end = ftell(f);
  cr_assert_geq(end, 0);
  uint8_t *out = ps_xmalloc((size_t)end + 1);
  rewind(f);
  *size = fread(out, 1, (size_t)end, f);
  fclose(f);
  return out;
}

Test(trace_zsink, thread_writes_the_same_frame_as_the_caller)
{
  size_t *len, total, n = 3000; /* ~12 MB in ~12 batches: the queue grows and batches are reused */
  uint8_t *buf = pieces(n, &len, &total);
  size_t s1, s2;
  uint8_t *sync = frame(0, 0, buf, len, n, &s1);
  uint8_t *async = frame(1, 0, buf, len, n, &s2);
  cr_assert_gt(total, 8u << 20, "more than 8 batches of input");
  cr_assert_eq(s1, s2, "frame sizes %zu vs %zu", s1, s2);
  cr_assert_eq(memcmp(sync, async, s1), 0, "the frames differ");
  free(sync);
  free(async);
  free(buf);
  free(len);
}

Test(trace_zsink, discarded_run_stops_cleanly)
{
  size_t *len, total, n = 2000;
  uint8_t *buf = pieces(n, &len, &total);
  size_t s;
  uint8_t *out = frame(1, 1, buf, len, n, &s);
  free(out);
  free(buf);
  free(len);
}

/* Drains a pipe into memory until EOF. */
struct drain {
  int fd;
  uint8_t *p;
  size_t len, cap;
};

static void *drain_run(void *arg)
{
  struct drain *d = arg;
  for (;;) {
    if (d->len + 65536 > d->cap)
      d->p = ps_xrealloc(d->p, d->cap = 2 * (d->len + 65536));
    ssize_t r = read(d->fd, d->p + d->len, 65536);
    if (r <= 0)
      break;
    d->len += (size_t)r;
  }
  return NULL;
}

/* A sink writing into a new pipe pfd (level 1, like the trace compressor). */
static struct ps_zsink pipe_sink(int pfd[2])
{
  cr_assert_eq(pipe(pfd), 0);
  struct ps_zsink z = {ZSTD_createCCtx(), pfd[1], NULL, ZSTD_CStreamOutSize(), "test"};
  z.out = ps_xmalloc(z.cap);
  ZSTD_CCtx_setParameter(z.cc, ZSTD_c_compressionLevel, 1);
  return z;
}

/* Ends the frame of a (into z's pipe pfd, drained into d by thread dt) and checks that it is the
 * want_len bytes of want; frees z's context and what d read. */
static void end_piped(struct ps_zsink *z, struct ps_zsink_async *a, int pfd[2], pthread_t dt,
                      struct drain *d, const uint8_t *want, size_t want_len)
{
  cr_assert_eq(ps_zsink_async_finish(a, 0), 0);
  cr_assert_eq(ps_zsink_push(z, NULL, 0, ZSTD_e_end), 0);
  close(pfd[1]);
  pthread_join(dt, NULL);
  close(pfd[0]);
  cr_assert_eq(d->len, want_len, "frame sizes %zu vs %zu", d->len, want_len);
  cr_assert_eq(memcmp(d->p, want, want_len), 0, "the frames differ");
  ZSTD_freeCCtx(z->cc);
  free(z->out);
  free(d->p);
}

/* The thread's output goes to a pipe nobody reads until every piece is handed over: the thread
 * blocks on it, so the queue grows to many batches and the spare ones are reused after. */
Test(trace_zsink, long_queue_writes_the_same_frame)
{
  size_t *len, total, n = 3000;
  uint8_t *buf = pieces(n, &len, &total);
  /* the reference: the same pieces and the first one again at the end */
  size_t s1, n1 = n + 1;
  size_t *len1 = ps_xmalloc(n1 * sizeof *len1);
  memcpy(len1, len, n * sizeof *len);
  len1[n] = len[0];
  uint8_t *buf1 = ps_xmalloc(total + len[0]);
  memcpy(buf1, buf, total);
  memcpy(buf1 + total, buf, len[0]);
  uint8_t *sync = frame(0, 0, buf1, len1, n1, &s1);
  cr_assert_gt(s1, 256u << 10, "more output than a pipe holds");
  int pfd[2];
  struct ps_zsink z = pipe_sink(pfd);
  struct ps_zsink_async *a = ps_zsink_async_start(&z);
  cr_assert_not_null(a);
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(ps_zsink_async_write(a, buf + at, len[i]), 0, "piece %zu", i);
    at += len[i];
  }
  struct drain d = {pfd[0], NULL, 0, 0};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, drain_run, &d), 0);
  /* let the thread push the queue (its batches become spares) before the last hand-over takes
   * one of them: wait until the output stops growing (no timing is asserted) */
  size_t seen = (size_t)-1;
  for (int i = 0; i < 200 && __atomic_load_n(&d.len, __ATOMIC_RELAXED) != seen; i++) {
    seen = __atomic_load_n(&d.len, __ATOMIC_RELAXED);
    usleep(20000);
  }
  cr_assert_eq(ps_zsink_async_write(a, buf, len[0]), 0, "one more piece after the drain");
  end_piped(&z, a, pfd, th, &d, sync, s1);
  free(sync);
  free(buf1);
  free(len1);
  free(buf);
  free(len);
}

/* Hands every piece to the zstd thread from a thread of its own, counting the bytes accepted. */
struct feeder {
  struct ps_zsink_async *a;
  const uint8_t *buf;
  const size_t *len;
  size_t n, accepted;
  int done;
};

static void *feed_run(void *arg)
{
  struct feeder *f = arg;
  size_t at = 0;
  for (size_t i = 0; i < f->n; i++) {
    cr_assert_eq(ps_zsink_async_write(f->a, f->buf + at, f->len[i]), 0, "piece %zu", i);
    at += f->len[i];
    __atomic_store_n(&f->accepted, at, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* The thread's output goes to a pipe nobody reads yet: the writer must stop after about
 * PS_ZSINK_MAX_QUEUED batches instead of queueing the whole input (48 MB) in memory. Then the
 * pipe is drained, and the frame is still the synchronous one. No time is asserted: the test
 * waits until the writer is done (a failure) or has not moved for a while. */
Test(trace_zsink, queue_is_bounded_and_the_writer_waits, .timeout = 120)
{
  size_t *len, total, n = 12000;
  uint8_t *buf = pieces(n, &len, &total);
  size_t bound = (PS_ZSINK_MAX_QUEUED + 3) * (size_t)PS_ZSINK_BATCH_BYTES; /* + being pushed,
                                                                            * filling, a piece */
  cr_assert_gt(total, bound + (8u << 20), "input well beyond the bound");
  size_t s1;
  uint8_t *sync = frame(0, 0, buf, len, n, &s1);
  int pfd[2];
  struct ps_zsink z = pipe_sink(pfd);
  struct feeder f = {ps_zsink_async_start(&z), buf, len, n, 0, 0};
  cr_assert_not_null(f.a);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, feed_run, &f), 0);
  size_t seen = (size_t)-1;
  int still = 0;
  while (!__atomic_load_n(&f.done, __ATOMIC_ACQUIRE) && still < 10) {
    size_t now = __atomic_load_n(&f.accepted, __ATOMIC_RELAXED);
    still = now == seen ? still + 1 : 0;
    seen = now;
    usleep(20000);
  }
  cr_assert_not(__atomic_load_n(&f.done, __ATOMIC_ACQUIRE),
                "the writer queued all %zu bytes while the output was blocked", total);
  cr_assert_leq(seen, bound, "%zu bytes accepted while the output was blocked (bound %zu)", seen,
                bound);
  struct drain d = {pfd[0], NULL, 0, 0};
  pthread_t dt;
  cr_assert_eq(pthread_create(&dt, NULL, drain_run, &d), 0);
  pthread_join(th, NULL);
  cr_assert_eq(f.accepted, total);
  end_piped(&z, f.a, pfd, dt, &d, sync, s1);
  free(sync);
  free(buf);
  free(len);
}
