/* trace-zsink.c - zstd output of trace compression, synchronous or in a thread of its own (see
 * trace-zsink.h). The thread overlaps zstd with the packer: on the 10 M-allocation bench zstd is
 * about an eighth of the compression's instructions.
 */
#include "trace-zsink.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int ps_zsink_push(struct ps_zsink *z, const void *buf, size_t len, ZSTD_EndDirective mode)
{
  ZSTD_inBuffer ib = {buf, len, 0};
  size_t left;
  do {
    ZSTD_outBuffer ob = {z->out, z->cap, 0};
    left = ZSTD_compressStream2(z->cc, &ob, &ib, mode);
    if (ZSTD_isError(left)) {
      ps_error("cannot compress %s: %s", z->path, ZSTD_getErrorName(left));
      return -EIO;
    }
    int err = ps_write_all(z->fd, z->out, ob.pos);
    if (err) {
      ps_error("cannot write %s.zst: %s (is the disk full?)", z->path, strerror(-err));
      return err;
    }
  } while (ib.pos < ib.size || (mode != ZSTD_e_continue && left != 0));
  return 0;
}

/* ---- in a thread ---- */


struct batch {
  struct batch *next;
  uint8_t *p;
  size_t len, cap;
  size_t *ends; /* end offset of each piece */
  size_t n, ncap;
};

struct ps_zsink_async {
  struct ps_zsink *z;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct batch *fill;          /* the batch the packer fills */
  struct batch *head, **tail;  /* handed over, in order, not yet pushed */
  struct batch *spare;         /* pushed batches, for reuse */
  int queued;                  /* batches in head..tail */
  int busy;                    /* the thread is pushing a batch */
  int done;                    /* no batch will follow */
  int err;                     /* the thread's first error */
};

static int push_batch(struct ps_zsink *z, const struct batch *b)
{
  size_t at = 0;
  for (size_t i = 0; i < b->n; i++) {
    size_t len = b->ends[i] - at;
    int err = ps_zsink_push(z, b->p + at, len, ps_zsink_mode(len));
    if (err)
      return err;
    at = b->ends[i];
  }
  return 0;
}

static void *zsink_thread(void *arg)
{
  struct ps_zsink_async *a = arg;
  /* the lowest priority, for this thread only (Linux: a thread id is a PRIO_PROCESS who): it
   * takes a core only when neither the packer nor the analysis beside it wants one, and the
   * packer waits for it only when PS_ZSINK_MAX_QUEUED batches are waiting) */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->head && !a->done)
      pthread_cond_wait(&a->cv, &a->mu);
    struct batch *b = a->head;
    if (!b)
      break;
    a->head = b->next;
    if (!a->head)
      a->tail = &a->head;
    a->queued--;
    a->busy = 1;
    int failed = a->err;
    pthread_mutex_unlock(&a->mu);
    int err = failed ? 0 : push_batch(a->z, b);
    pthread_mutex_lock(&a->mu);
    a->busy = 0;
    if (err && !a->err)
      a->err = err;
    b->len = b->n = 0;
    b->next = a->spare;
    a->spare = b;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

struct ps_zsink_async *ps_zsink_async_start(struct ps_zsink *z)
{
  struct ps_zsink_async *a = ps_xcalloc(1, sizeof *a);
  a->z = z;
  a->tail = &a->head;
  a->fill = ps_xcalloc(1, sizeof *a->fill);
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  if (pthread_create(&a->th, NULL, zsink_thread, a)) {
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a->fill);
    free(a);
    return NULL;
  }
  return a;
}

/* Queues the filled batch for the thread and takes a spare (or new) one. Returns the thread's
 * first error. */
static int hand_over(struct ps_zsink_async *a)
{
  pthread_mutex_lock(&a->mu);
  while (a->queued >= PS_ZSINK_MAX_QUEUED && !a->err)
    pthread_cond_wait(&a->cv, &a->mu);
  int err = a->err;
  if (!err && a->fill->n) {
    a->queued++;
    a->fill->next = NULL;
    *a->tail = a->fill;
    a->tail = &a->fill->next;
    a->fill = a->spare;
    if (a->fill) {
      a->spare = a->fill->next;
      a->fill->next = NULL;
    }
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  if (!a->fill)
    a->fill = ps_xcalloc(1, sizeof *a->fill);
  return err;
}

int ps_zsink_async_write(void *ctx, const void *buf, size_t len)
{
  struct ps_zsink_async *a = ctx;
  struct batch *b = a->fill;
  if (b->len + len > b->cap) {
    b->cap = b->len + len > PS_ZSINK_BATCH_BYTES ? b->len + len : PS_ZSINK_BATCH_BYTES;
    b->p = ps_xrealloc(b->p, b->cap);
  }
  if (b->n == b->ncap) {
    b->ncap = b->ncap ? 2 * b->ncap : 256;
    b->ends = ps_xrealloc(b->ends, b->ncap * sizeof *b->ends);
  }
  memcpy(b->p + b->len, buf, len);
  b->len += len;
  b->ends[b->n++] = b->len;
  return b->len >= PS_ZSINK_BATCH_BYTES ? hand_over(a) : 0;
}

static void free_batches(struct batch *b)
{
  while (b) {
    struct batch *next = b->next;
    free(b->p);
    free(b->ends);
    free(b);
    b = next;
  }
}

int ps_zsink_async_finish(struct ps_zsink_async *a, int discard)
{
  int err = 0;
  pthread_mutex_lock(&a->mu);
  if (discard) { /* drop what is queued; wait for the batch being pushed */
    if (a->head) {
      *a->tail = a->spare;
      a->spare = a->head;
      a->head = NULL;
      a->tail = &a->head;
      a->queued = 0;
    }
  } else if (a->fill->n) {
    pthread_mutex_unlock(&a->mu);
    err = hand_over(a);
    pthread_mutex_lock(&a->mu);
  }
  a->done = 1;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->th, NULL);
  if (!err)
    err = a->err;
  free_batches(a->head);
  free_batches(a->spare);
  free_batches(a->fill);
  pthread_cond_destroy(&a->cv);
  pthread_mutex_destroy(&a->mu);
  free(a);
  return err;
}
