/* trace-pack-model.c - the state the trace packer and unpacker share and update identically
 * (see trace-pack-model.h): stream buffers, the (size, stack) info table, live blocks per info,
 * recently freed addresses per thread and size class, and the raw record codec. Every table is
 * capped so a pathological trace costs bounded memory (it then packs less well, never wrongly).
 */
#include "trace-pack-model.h"

#include <stdlib.h>
#include <string.h>

#include "../probes/common/trace-format.h"
#include "util.h"

/* ---- buffers ---- */

void pk_buf_reserve(struct pk_buf *b, size_t n)
{
  if (b->len + n <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + n)
    cap *= 2;
  b->p = ps_xrealloc(b->p, cap);
  b->cap = cap;
}

void pk_put_bytes(struct pk_buf *b, const void *s, size_t n)
{
  pk_buf_reserve(b, n);
  if (n)
    memcpy(b->p + b->len, s, n);
  b->len += n;
}

const uint8_t *pk_get_bytes(struct pk_rd *r, size_t n)
{
  if ((size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *s = r->p;
  r->p += n;
  return s;
}

/* ---- hashing ---- */

uint64_t pk_hash(const uint8_t *p, size_t n)
{
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  while (n--)
    h = (h ^ *p++) * 0x100000001b3ull;
  return h ^ (h >> 32);
}

/* ---- model ---- */

void pk_model_init(struct pk_model *m)
{
  memset(m, 0, sizeof *m);
  m->imask = 1023;
  m->ihash = ps_xcalloc(m->imask + 1, sizeof *m->ihash);
  m->smask = 4095;
  m->slot = ps_xcalloc(m->smask + 1, sizeof *m->slot);
  m->freeblk = PK_NONE;
  m->seen = ps_xcalloc(PK_SEQ_WIN / 64, sizeof *m->seen);
}

void pk__seen_slide(struct pk_model *m, uint64_t x)
{
  /* x is beyond the window: it moves up so that x is in its middle; the words that enter it
   * (seqs never marked yet) are cleared */
  uint64_t nb = (x - PK_SEQ_WIN / 2) & ~(uint64_t)63;
  if (nb - m->seen_base >= PK_SEQ_WIN) {
    memset(m->seen, 0, PK_SEQ_WIN / 8);
  } else {
    for (uint64_t w = m->seen_base + PK_SEQ_WIN; w != nb + PK_SEQ_WIN; w += 64)
      m->seen[(w >> 6) & (PK_SEQ_WIN / 64 - 1)] = 0;
  }
  m->seen_base = nb;
}

void pk_model_free(struct pk_model *m)
{
  free(m->info);
  free(m->ihash);
  free(m->blk);
  free(m->slot);
  free(m->seen);
  for (uint32_t i = 0; i < m->nthr; i++)
    free(m->thr[i]);
  free(m->thr);
  memset(m, 0, sizeof *m);
}

void pk_model_thread(struct pk_model *m, uint32_t tid)
{
  if (m->cur && m->cur->tid == tid)
    return;
  for (uint32_t i = 0; i < m->nthr; i++)
    if (m->thr[i]->tid == tid) {
      m->cur = m->thr[i];
      return;
    }
  if (m->nthr == PK_MAX_THREADS) { /* beyond the cap, threads share the first entry */
    m->cur = m->thr[0];
    return;
  }
  m->thr = ps_xrealloc(m->thr, (m->nthr + 1) * sizeof *m->thr);
  struct pk_thread *t = ps_xcalloc(1, sizeof *t);
  t->tid = tid;
  m->thr[m->nthr++] = t;
  m->cur = t;
}

static void info_insert_slot(struct pk_model *m, uint32_t idx)
{
  const struct pk_info *in = &m->info[idx];
  uint32_t s = pk_mix(in->size * 0xff51afd7ed558ccdull + in->stack) & m->imask;
  while (m->ihash[s])
    s = (s + 1) & m->imask;
  m->ihash[s] = idx + 1;
}

uint32_t pk_info_add(struct pk_model *m, uint64_t size, uint64_t stack)
{
  if (m->ninfo == PK_MAX_INFOS)
    return PK_NONE;
  if (m->ninfo == m->capinfo) {
    m->capinfo = m->capinfo ? 2 * m->capinfo : 1024;
    m->info = ps_xrealloc(m->info, m->capinfo * sizeof *m->info);
  }
  uint32_t idx = m->ninfo++;
  m->info[idx] = (struct pk_info){size, stack, PK_NONE, PK_NONE, pk_class(size)};
  if (2 * m->ninfo > m->imask + 1) {
    free(m->ihash);
    m->imask = 2 * m->imask + 1;
    m->ihash = ps_xcalloc(m->imask + 1, sizeof *m->ihash);
    for (uint32_t i = 0; i < m->ninfo; i++)
      info_insert_slot(m, i);
  } else {
    info_insert_slot(m, idx);
  }
  return idx;
}

void pk__slots_grow(struct pk_model *m)
{
  struct pk_slot *old = m->slot;
  uint32_t omask = m->smask;
  m->smask = 2 * m->smask + 1;
  m->slot = ps_xcalloc(m->smask + 1, sizeof *m->slot);
  for (uint32_t i = 0; i <= omask; i++)
    if (old[i].blk)
      pk__slot_insert(m, old[i].ptr, old[i].blk - 1);
  free(old);
}

uint32_t pk__block_new(struct pk_model *m)
{
  if (m->nblk == m->capblk) {
    m->capblk = m->capblk ? 2 * m->capblk : 1024;
    m->blk = ps_xrealloc(m->blk, m->capblk * sizeof *m->blk);
  }
  return m->nblk++;
}

/* ---- raw records ---- */

#define GETV(x)                                                                                   \
  do {                                                                                            \
    if (ps_get_varint(&q, end, &(x)))                                                             \
      return 0;                                                                                   \
  } while (0)

static int skip_str(const uint8_t **qp, const uint8_t *end)
{
  uint64_t n;
  if (ps_get_varint(qp, end, &n) || n > (uint64_t)(end - *qp))
    return -1;
  *qp += n;
  return 0;
}

static int skip_ips(const uint8_t **qp, const uint8_t *end)
{
  uint64_t n, x;
  if (ps_get_varint(qp, end, &n) || n > (uint64_t)(end - *qp))
    return -1;
  for (uint64_t i = 0; i < n; i++)
    if (ps_get_varint(qp, end, &x))
      return -1;
  return 0;
}

size_t pk_other_apply(struct pk_model *m, const uint8_t *p, const uint8_t *end)
{
  const uint8_t *q = p;
  if (q >= end)
    return 0;
  unsigned type = *q++ & 15u;
  uint64_t d, x, size = 0, stack = 0, z1 = 0, z2 = 0;
  GETV(d);
  switch (type) {
  case PS_REC_MODULE:
    GETV(x);
    GETV(x);
    GETV(x);
    if (skip_str(&q, end) || skip_str(&q, end))
      return 0;
    break;
  case PS_REC_UNMODULE:
  case PS_REC_LOST:
  case PS_REC_TIME:
    GETV(x);
    break;
  case PS_REC_STACK:
    GETV(x);
    if (skip_ips(&q, end))
      return 0;
    break;
  case PS_REC_THREAD:
  case PS_REC_NOTE:
    GETV(x);
    if (skip_str(&q, end))
      return 0;
    break;
  case PS_REC_SAMPLE:
    GETV(x);
    GETV(x);
    if (x & PS_SAMPLE_F_INLINE) {
      if (skip_ips(&q, end))
        return 0;
    } else {
      GETV(x);
    }
    break;
  case PS_REC_ALLOC:
  case PS_REC_ALLOCS:
    GETV(size);
    GETV(z1);
    GETV(stack);
    break;
  case PS_REC_FREE:
    GETV(z1);
    break;
  case PS_REC_REALLOC:
    GETV(size);
    GETV(z1);
    GETV(z2);
    GETV(stack);
    break;
  default:
    return 0;
  }
  pk_seq_step(m, d);
  /* pointer effects, after the whole record parsed */
  if (type == PS_REC_ALLOC || type == PS_REC_ALLOCS) {
    m->last_ptr += (uint64_t)ps_unzigzag(z1);
    uint32_t in = pk_info_find(m, size, stack);
    if (in == PK_NONE)
      in = pk_info_add(m, size, stack);
    pk_on_malloc(m, in, size, m->last_ptr,
                 pk_lifo_find(m, pk_info_class(m, in, size), m->last_ptr));
  } else if (type == PS_REC_FREE) {
    m->last_ptr += (uint64_t)ps_unzigzag(z1);
    pk_on_free(m, m->last_ptr);
  } else if (type == PS_REC_REALLOC) {
    m->last_ptr += (uint64_t)ps_unzigzag(z1);
    if (m->last_ptr)
      pk_on_free(m, m->last_ptr);
    m->last_ptr += (uint64_t)ps_unzigzag(z2);
    uint32_t in = pk_info_find(m, size, stack);
    if (in == PK_NONE)
      in = pk_info_add(m, size, stack);
    pk_on_malloc(m, in, size, m->last_ptr,
                 pk_lifo_find(m, pk_info_class(m, in, size), m->last_ptr));
  }
  return (size_t)(q - p);
}
