/* trace-pack-verify.c - the packer's full check (trace-pack-verify.h, ps_trace_pack verify 2,
 * used by the tests): a thread unpacks the packed pieces from a small bounded queue and compares
 * them with the raw trace. The raw bytes are only read; the queue is the only shared state.
 */
#include "trace-pack-verify.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "trace-pack.h"
#include "util.h"

#define PK_QUEUE 4 /* pieces in flight (a piece is one packed block, about 0.3-1 MiB) */

struct piece {
  void *p;
  size_t len;
};

struct pk_verify {
  const uint8_t *raw;
  size_t len, pos; /* raw bytes compared so far (the checking thread's) */
  struct ps_unpack *u;
  int threaded, mismatch, done, abandon;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t more, room;
  struct piece q[PK_QUEUE];
  unsigned head, n;
};

static int compare_sink(void *ctx, const void *buf, size_t len)
{
  struct pk_verify *v = ctx;
  if (len > v->len - v->pos || memcmp(v->raw + v->pos, buf, len))
    return -EPROTO;
  v->pos += len;
  return 0;
}

/* 1 when the piece does not unpack to the next raw bytes (or an earlier one did not). */
static int check_piece(struct pk_verify *v, const void *buf, size_t len, int failed)
{
  return failed || ps_unpack_feed(v->u, buf, len) != 0;
}

static void *run(void *arg)
{
  struct pk_verify *v = arg;
  int failed = 0;
  pthread_mutex_lock(&v->mu);
  for (;;) {
    while (!v->n && !v->done)
      pthread_cond_wait(&v->more, &v->mu);
    if (!v->n || v->abandon)
      break;
    struct piece pc = v->q[v->head];
    v->head = (v->head + 1) % PK_QUEUE;
    v->n--;
    pthread_cond_signal(&v->room);
    pthread_mutex_unlock(&v->mu);
    int bad = check_piece(v, pc.p, pc.len, failed);
    free(pc.p);
    pthread_mutex_lock(&v->mu);
    if (bad)
      failed = v->mismatch = 1;
  }
  pthread_mutex_unlock(&v->mu);
  return NULL;
}

struct pk_verify *pk_verify_start(const uint8_t *raw, size_t len)
{
  struct pk_verify *v = ps_xcalloc(1, sizeof *v);
  v->raw = raw;
  v->len = len;
  v->u = ps_unpack_new(compare_sink, v);
  pthread_mutex_init(&v->mu, NULL);
  pthread_cond_init(&v->more, NULL);
  pthread_cond_init(&v->room, NULL);
  v->threaded = pthread_create(&v->thread, NULL, run, v) == 0;
  return v;
}

int pk_verify_feed(struct pk_verify *v, const void *buf, size_t len)
{
  if (!v->threaded) {
    v->mismatch = check_piece(v, buf, len, v->mismatch);
    return v->mismatch ? -EPROTO : 0;
  }
  void *copy = ps_xmalloc(len ? len : 1);
  memcpy(copy, buf, len);
  pthread_mutex_lock(&v->mu);
  while (v->n == PK_QUEUE)
    pthread_cond_wait(&v->room, &v->mu);
  v->q[(v->head + v->n) % PK_QUEUE] = (struct piece){copy, len};
  v->n++;
  pthread_cond_signal(&v->more);
  int mismatch = v->mismatch;
  pthread_mutex_unlock(&v->mu);
  return mismatch ? -EPROTO : 0;
}

int pk_verify_finish(struct pk_verify *v, int abandon)
{
  if (v->threaded) {
    pthread_mutex_lock(&v->mu);
    v->done = 1;
    v->abandon = abandon;
    pthread_cond_signal(&v->more);
    pthread_mutex_unlock(&v->mu);
    pthread_join(v->thread, NULL);
    for (; v->n; v->n--, v->head = (v->head + 1) % PK_QUEUE)
      free(v->q[v->head].p);
  }
  int trunc = 1;
  int err = abandon ? -ECANCELED
            : v->mismatch || ps_unpack_finish(v->u, &trunc) || trunc || v->pos != v->len
                ? -EPROTO
                : 0;
  ps_unpack_free(v->u);
  pthread_mutex_destroy(&v->mu);
  pthread_cond_destroy(&v->more);
  pthread_cond_destroy(&v->room);
  free(v);
  return err;
}
