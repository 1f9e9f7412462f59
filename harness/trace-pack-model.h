/* trace-pack-model.h - what the packer and the unpacker share: the stream and op layout, and the
 * model both sides update identically after every record (the (size, stack) info table, the live
 * blocks per info, the recently freed addresses per thread and size class). The packer encodes a
 * record against the model before updating it; the unpacker decodes against the same state, so
 * any change here changes the packed format (bump PS_PACK_VERSION).
 */
#ifndef PERFSWEEP_TRACE_PACK_MODEL_H
#define PERFSWEEP_TRACE_PACK_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../probes/common/trace-format.h"

/* Streams of a block, in this order in the block. */
enum pk_stream {
  PK_OP,    /* one kind byte (enum pk_kind) per unit or record */
  PK_MOP,   /* one detail byte per malloc: seq code | new info << 2 | pointer mode << 3 */
  PK_FOP,   /* one detail byte per free: seq code | free mode << 2 */
  PK_SEQ,   /* seq deltas not inline in a detail byte (varint) */
  PK_ILO,   /* malloc info id, low byte */
  PK_IHI,   /* malloc info id >> 8 (varint) */
  PK_NEW,   /* malloc of a new info: size, stack id (varints) */
  PK_FLO,   /* free: info id of the freed block, low byte */
  PK_FHI,   /* free: info id >> 8 (varint) */
  PK_FRANK, /* free: rank - 2 of the block from its end of the info's live list (varint) */
  PK_PCODE, /* malloc: index - 3 in the thread's recently freed list of the size class */
  PK_PLIT,  /* literal pointers: aptr encoding against the chunk's running pointer (varint) */
  PK_LEN,   /* lengths of verbatim pieces (varint) */
  PK_RAW,   /* verbatim bytes */
  PK_CHUNK, /* chunk headers: tid, nrecords, first_seq delta, mono_ns delta, payload_len */
  PK_AFN,   /* full ALLOC/ALLOCS/FREE records: type << 4 | fn (one byte) */
  PK_NSTREAMS
};

/* unit and record kinds (PK_OP) */
enum pk_kind {
  PK_K_MALLOC = 0, /* a MALLOC_C record; details in PK_MOP */
  PK_K_FREE = 1,   /* a FREE_C record; details in PK_FOP */
  PK_K_VERB = 2,   /* another known record, verbatim (PK_LEN, PK_RAW) */
  PK_K_REST = 3,   /* the rest of the chunk payload, verbatim (PK_LEN, PK_RAW) */
  PK_K_CHUNK = 4,  /* a chunk header (PK_CHUNK); its records follow */
  PK_K_ZERO = 5,   /* a run of zero bytes between chunks (PK_LEN) */
  PK_K_RAW = 6,    /* bytes outside chunks (file header, torn tail), verbatim (PK_LEN, PK_RAW) */
  PK_K_ALLOCF = 7, /* an ALLOC or ALLOCS record (calloc, memalign...): PK_AFN, then as PK_K_MALLOC */
  PK_K_FREEF = 8,  /* a FREE record (free, munmap): PK_AFN, then as PK_K_FREE */
};

/* seq code (low 2 bits of a detail byte). Version 4: the seq delta 0, 1 or 2; 3: the delta in
 * PK_SEQ. Version 5: the gap g (how many seqs no earlier record took lie between the record's
 * first possible seq and its seq) 0, 1 or 2; 3: v in PK_SEQ, v > 0: g = v + 2, v = 0: an escape,
 * the raw delta follows in PK_SEQ (a seq already taken, a gap of PK_SEQ_GAP_MAX or more). */
#define PK_SEQ_INLINE 3
#define PK_SEQ_GAP_MAX (1u << 16)
#define PK_SEQ_WIN (1u << 22) /* seqs remembered as taken (a ring of bits, 512 KiB) */

/* malloc pointer modes: entry 0, 1, 2 of the thread's recently freed list of the size class,
 * entry 3 + PK_PCODE, the thread's bump address, a literal (PK_PLIT) */
enum pk_malloc_mode {
  PK_PM_LIFO0 = 0, PK_PM_LIFO1, PK_PM_LIFO2, PK_PM_LIFOK, PK_PM_BUMP, PK_PM_LIT
};
/* free modes: a literal pointer, or the block at rank 0 / 1 / 2 + PK_FRANK from the head
 * (newest) or the tail (oldest) of its info's live list (info in PK_FLO, PK_FHI) */
enum pk_free_mode {
  PK_FM_LIT = 0, PK_FM_HEAD0, PK_FM_TAIL0, PK_FM_HEAD1, PK_FM_TAIL1, PK_FM_HEADK, PK_FM_TAILK
};

#define PK_NONE UINT32_MAX
#define PK_CLASSES 64      /* glibc chunk sizes 32..1040 (the tcache range) */
#define PK_LIFO 16         /* recently freed addresses kept per thread and class */
#define PK_RANK_MAX 64     /* a free farther than this from both ends of its list is literal */
#define PK_MAX_INFOS (1u << 20)  /* caps: memory stays ~150 MB at most (both sides) */
#define PK_MAX_BLOCKS (1u << 21)
#define PK_MAX_THREADS 4096

struct pk_buf {
  uint8_t *p;
  size_t len, cap;
};

struct pk_rd {
  const uint8_t *p, *end;
  int bad; /* set when a read ran past the end or a varint was overlong */
};

struct pk_info {
  uint64_t size, stack;
  uint32_t head, tail; /* live blocks of this info, newest first */
  int32_t cls;         /* pk_class(size) */
};

struct pk_block {
  uint64_t ptr;
  uint32_t info, prev, next; /* prev: newer, next: older */
};

struct pk_slot {
  uint64_t ptr;
  uint32_t blk; /* block index + 1; 0: empty */
};

struct pk_thread {
  uint32_t tid;
  uint64_t bump;                         /* address after the thread's last malloc'd chunk */
  uint8_t lhead[PK_CLASSES], nlifo[PK_CLASSES]; /* ring: entry i at (lhead + i) % PK_LIFO */
  uint64_t lifo[PK_CLASSES][PK_LIFO];    /* entry 0: the most recently freed */
};

struct pk_model {
  struct pk_info *info;
  uint32_t ninfo, capinfo;
  uint32_t *ihash; /* info index + 1, open addressing */
  uint32_t imask;
  struct pk_block *blk;
  uint32_t nblk, capblk, freeblk, nlive;
  struct pk_slot *slot; /* live blocks by address: linear probing, backward-shift deletion */
  uint32_t smask;
  struct pk_thread **thr;
  uint32_t nthr;
  struct pk_thread *cur;      /* the thread of the current chunk */
  uint64_t last_ptr;          /* the chunk's running pointer (as in the raw format) */
  uint64_t prev_first_seq, prev_mono;
  /* seq gaps (version 5): the seqs of the records seen so far (all threads), in a ring of bits
   * covering [seen_base, seen_base + PK_SEQ_WIN); seq_p: the chunk's first_seq, then the seq of
   * its previous record (a record's seq is seq_p + its delta); seq_q: the first seq the next
   * record may have (first_seq for the chunk's first record, else seq_p + 1) */
  int gapseq;
  uint64_t *seen, seen_base, seq_p, seq_q;
};

/* ---- buffers ---- */

/* ps_put_varint with the 1-3 byte cases unrolled (the same bytes). */
static inline uint8_t *pk_varint(uint8_t *p, uint64_t v)
{
  if (v < 0x80) {
    *p = (uint8_t)v;
    return p + 1;
  }
  if (v < 0x4000) {
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)(v >> 7);
    return p + 2;
  }
  if (v < 0x200000) {
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)(v >> 7 | 0x80);
    p[2] = (uint8_t)(v >> 14);
    return p + 3;
  }
  return ps_put_varint(p, v);
}

void pk_buf_reserve(struct pk_buf *b, size_t n);
/* Unchecked writes: the caller reserved the room (pk_buf_reserve). */
static inline void pk_put_byte(struct pk_buf *b, uint8_t v) { b->p[b->len++] = v; }
static inline void pk_put_varint(struct pk_buf *b, uint64_t v)
{
  b->len = (size_t)(pk_varint(b->p + b->len, v) - b->p);
}
void pk_put_bytes(struct pk_buf *b, const void *s, size_t n);
static inline uint8_t pk_get_byte(struct pk_rd *r)
{
  if (__builtin_expect(r->p < r->end, 1))
    return *r->p++;
  r->bad = 1;
  return 0;
}
/* A varint of r that ends before end (r->end, or further when the bytes are known readable). */
static inline uint64_t pk_get_varint_to(struct pk_rd *r, const uint8_t *end)
{
  const uint8_t *q = r->p;
  if (__builtin_expect(end - q >= 2, 1)) { /* 1 and 2 bytes unrolled (the same values) */
    if (q[0] < 0x80) {
      r->p = q + 1;
      return q[0];
    }
    if (q[1] < 0x80) {
      r->p = q + 2;
      return (q[0] & 0x7fu) | (uint64_t)q[1] << 7;
    }
  }
  uint64_t v = 0;
  if (__builtin_expect(ps_get_varint(&r->p, end, &v), 0))
    r->bad = 1;
  return v;
}
static inline uint64_t pk_get_varint(struct pk_rd *r) { return pk_get_varint_to(r, r->end); }
const uint8_t *pk_get_bytes(struct pk_rd *r, size_t n);

/* ---- model ---- */
void pk_model_init(struct pk_model *m);
void pk_model_free(struct pk_model *m);
/* Makes the thread of tid current (created on first use). */
void pk_model_thread(struct pk_model *m, uint32_t tid);
/* Adds a new info; PK_NONE when the table is full. */
uint32_t pk_info_add(struct pk_model *m, uint64_t size, uint64_t stack);
/* Out of line: the rare paths of the inline updates below. */
uint32_t pk__block_new(struct pk_model *m);
void pk__slots_grow(struct pk_model *m);

static inline uint32_t pk_mix(uint64_t x)
{
  x ^= x >> 31;
  x *= 0x9e3779b97f4a7c15ull;
  return (uint32_t)(x >> 32);
}

static inline uint32_t pk_info_find(const struct pk_model *m, uint64_t size, uint64_t stack)
{
  for (uint32_t s = pk_mix(size * 0xff51afd7ed558ccdull + stack) & m->imask;;
       s = (s + 1) & m->imask) {
    uint32_t v = m->ihash[s];
    if (!v)
      return PK_NONE;
    const struct pk_info *in = &m->info[v - 1];
    if (in->size == size && in->stack == stack)
      return v - 1;
  }
}

/* Rank of block b in its info's list: sets *from_tail, returns the rank or PK_NONE beyond
 * PK_RANK_MAX from both ends. */
static inline uint32_t pk_live_rank(const struct pk_model *m, uint32_t b, int *from_tail)
{
  const struct pk_info *in = &m->info[m->blk[b].info];
  uint32_t h = in->head, t = in->tail;
  for (uint32_t r = 0; r <= PK_RANK_MAX && h != PK_NONE; r++) {
    if (h == b) {
      *from_tail = 0;
      return r;
    }
    if (t == b) {
      *from_tail = 1;
      return r;
    }
    h = m->blk[h].next;
    t = m->blk[t].prev;
  }
  return PK_NONE;
}

/* The block at rank from the head (newest) or tail of info's list, or PK_NONE. */
static inline uint32_t pk_live_nth(const struct pk_model *m, uint32_t info, uint32_t rank,
                                   int from_tail)
{
  if (info >= m->ninfo)
    return PK_NONE;
  uint32_t b = from_tail ? m->info[info].tail : m->info[info].head;
  for (uint32_t r = 0; r < rank && b != PK_NONE; r++)
    b = from_tail ? m->blk[b].prev : m->blk[b].next;
  return b;
}

/* The slot holding ptr, or the empty slot where ptr would go. */
static inline uint32_t pk_slot_probe(const struct pk_model *m, uint64_t ptr)
{
  uint32_t s = pk_mix(ptr) & m->smask;
  while (m->slot[s].blk && m->slot[s].ptr != ptr)
    s = (s + 1) & m->smask;
  return s;
}

/* Slot of the live block at ptr, or PK_NONE. */
static inline uint32_t pk_slot_find(const struct pk_model *m, uint64_t ptr)
{
  for (uint32_t s = pk_mix(ptr) & m->smask;; s = (s + 1) & m->smask) {
    if (!m->slot[s].blk)
      return PK_NONE;
    if (m->slot[s].ptr == ptr)
      return s;
  }
}

/* Size class of a size: glibc's chunk size (size + 8 rounded up to 16, at least 32) / 16 - 2,
 * or -1 beyond the tcache range. */
static inline int pk_class(uint64_t size)
{
  return size <= PK_CLASSES * 16 + 8 ? (size <= 24 ? 0 : (int)((size + 7) >> 4) - 1) : -1;
}

/* Size class of an allocation of info (PK_NONE: untracked) and size. */
static inline int pk_info_class(const struct pk_model *m, uint32_t info, uint64_t size)
{
  return info != PK_NONE ? m->info[info].cls : pk_class(size);
}

/* Index of ptr in the current thread's list for class c, or -1. */
static inline int pk_lifo_find(const struct pk_model *m, int c, uint64_t ptr)
{
  if (c < 0)
    return -1;
  const struct pk_thread *t = m->cur;
  for (unsigned i = 0, n = t->nlifo[c], h = t->lhead[c]; i < n; i++)
    if (t->lifo[c][(h + i) % PK_LIFO] == ptr)
      return (int)i;
  return -1;
}

/* The pointer at index k of the current thread's list for class c, or 0 when absent. */
static inline uint64_t pk_lifo_get(const struct pk_model *m, int c, int k)
{
  if (c < 0 || k < 0 || k >= m->cur->nlifo[c])
    return 0;
  return m->cur->lifo[c][(m->cur->lhead[c] + (unsigned)k) % PK_LIFO];
}

static inline void pk__list_unlink(struct pk_model *m, uint32_t b)
{
  struct pk_block *k = &m->blk[b];
  struct pk_info *in = &m->info[k->info];
  if (k->prev != PK_NONE)
    m->blk[k->prev].next = k->next;
  else
    in->head = k->next;
  if (k->next != PK_NONE)
    m->blk[k->next].prev = k->prev;
  else
    in->tail = k->prev;
}

static inline void pk__list_push(struct pk_model *m, uint32_t b, uint32_t info)
{
  struct pk_info *in = &m->info[info];
  struct pk_block *k = &m->blk[b];
  k->info = info;
  k->prev = PK_NONE;
  k->next = in->head;
  if (in->head != PK_NONE)
    m->blk[in->head].prev = b;
  else
    in->tail = b;
  in->head = b;
}

static inline void pk__slot_insert(struct pk_model *m, uint64_t ptr, uint32_t b)
{
  uint32_t s = pk_mix(ptr) & m->smask;
  while (m->slot[s].blk)
    s = (s + 1) & m->smask;
  m->slot[s] = (struct pk_slot){ptr, b + 1};
}

static inline void pk__slot_remove(struct pk_model *m, uint32_t s)
{
  /* backward-shift deletion keeps every probe sequence unbroken */
  for (uint32_t j = (s + 1) & m->smask; m->slot[j].blk; j = (j + 1) & m->smask) {
    uint32_t home = pk_mix(m->slot[j].ptr) & m->smask;
    if (((j - home) & m->smask) >= ((j - s) & m->smask)) {
      m->slot[s] = m->slot[j];
      s = j;
    }
  }
  m->slot[s].blk = 0;
}

static inline void pk__block_release(struct pk_model *m, uint32_t s, uint32_t b)
{
  pk__slot_remove(m, s);
  m->blk[b].next = m->freeblk;
  m->freeblk = b;
  m->nlive--;
}

/* Model update after an allocation (identical on both sides). info may be PK_NONE (not
 * tracked); lifo_k is pk_lifo_find's answer for (its class, ptr). */
static inline void pk_on_malloc(struct pk_model *m, uint32_t info, uint64_t size, uint64_t ptr,
                                int lifo_k)
{
  struct pk_thread *t = m->cur;
  int c = pk_info_class(m, info, size);
  if (lifo_k >= 0 && c >= 0) { /* drop entry lifo_k: the newer ones move one place older */
    uint64_t *l = t->lifo[c];
    unsigned h = t->lhead[c];
    for (unsigned i = (unsigned)lifo_k; i > 0; i--)
      l[(h + i) % PK_LIFO] = l[(h + i - 1) % PK_LIFO];
    t->lhead[c] = (uint8_t)((h + 1) % PK_LIFO);
    t->nlifo[c]--;
  }
  t->bump = ptr + (c >= 0 ? 16 * (uint64_t)c + 32 : ((size + 8 + 15) & ~(uint64_t)15));
  uint32_t s = pk_slot_probe(m, ptr);
  if (__builtin_expect(m->slot[s].blk != 0, 0)) { /* already live (an unseen free) */
    uint32_t b = m->slot[s].blk - 1;
    pk__list_unlink(m, b);
    if (info != PK_NONE)
      pk__list_push(m, b, info);
    else
      pk__block_release(m, s, b);
    return;
  }
  if (info == PK_NONE || ptr == 0 || m->nlive == PK_MAX_BLOCKS)
    return;
  uint32_t b = m->freeblk;
  if (b != PK_NONE)
    m->freeblk = m->blk[b].next;
  else
    b = pk__block_new(m);
  m->blk[b].ptr = ptr;
  pk__list_push(m, b, info);
  m->nlive++;
  if (__builtin_expect(2 * m->nlive > m->smask + 1, 0)) {
    pk__slots_grow(m);
    s = pk_slot_probe(m, ptr);
  }
  m->slot[s] = (struct pk_slot){ptr, b + 1};
}

/* Frees the live block in slot s (from pk_slot_find) and remembers its address as the most
 * recently freed of its size class in the current thread. */
static inline void pk_free_slot(struct pk_model *m, uint32_t s)
{
  uint32_t b = m->slot[s].blk - 1;
  uint64_t ptr = m->slot[s].ptr;
  int c = m->info[m->blk[b].info].cls;
  pk__list_unlink(m, b);
  pk__block_release(m, s, b);
  if (c < 0)
    return;
  struct pk_thread *t = m->cur;
  unsigned h = (t->lhead[c] + PK_LIFO - 1) % PK_LIFO;
  t->lifo[c][h] = ptr;
  t->lhead[c] = (uint8_t)h;
  if (t->nlifo[c] < PK_LIFO)
    t->nlifo[c]++;
}

/* Frees ptr when it is a live block (else nothing). */
static inline void pk_on_free(struct pk_model *m, uint64_t ptr)
{
  uint32_t s = pk_slot_find(m, ptr);
  if (s != PK_NONE)
    pk_free_slot(m, s);
}

/* ---- seq gaps ---- */

/* 1 when a record already took seq x (within the remembered window). */
static inline int pk_seen(const struct pk_model *m, uint64_t x)
{
  return x - m->seen_base < PK_SEQ_WIN &&
         (m->seen[(x >> 6) & (PK_SEQ_WIN / 64 - 1)] >> (x & 63) & 1);
}

void pk__seen_slide(struct pk_model *m, uint64_t x);

/* At a chunk header. */
static inline void pk_seq_chunk(struct pk_model *m, uint64_t first_seq)
{
  m->seq_p = m->seq_q = first_seq;
}

/* After a record of seq delta d (every record the chunk parses, both sides). */
static inline void pk_seq_step(struct pk_model *m, uint64_t d)
{
  uint64_t x = m->seq_p + d;
  m->seq_p = x;
  m->seq_q = x + 1; /* (marked in version 4 too, unused there: one branch less per record) */
  if (__builtin_expect(x - m->seen_base >= PK_SEQ_WIN, 0)) {
    if (x < m->seen_base)
      return;
    pk__seen_slide(m, x);
  }
  m->seen[(x >> 6) & (PK_SEQ_WIN / 64 - 1)] |= 1ull << (x & 63);
}

/* Version 5 gap of a record of seq delta d: sets *g and returns 1, or 0 when d needs the escape
 * (the seq is taken, before the first possible one, or too far from it). */
static inline int pk_seq_gap(const struct pk_model *m, uint64_t d, uint64_t *g)
{
  uint64_t q = m->seq_q, s = m->seq_p + d;
  if (s - q >= PK_SEQ_GAP_MAX || pk_seen(m, s)) /* s < q wraps beyond the max too */
    return 0;
  uint64_t n = 0;
  for (uint64_t x = q; x != s; x++)
    n += !pk_seen(m, x);
  *g = n;
  return 1;
}

/* The seq delta whose gap is g (the inverse of pk_seq_gap), or UINT64_MAX when g is too big. */
static inline uint64_t pk_seq_ungap(const struct pk_model *m, uint64_t g)
{
  if (g >= PK_SEQ_GAP_MAX)
    return UINT64_MAX;
  uint64_t x = m->seq_q;
  for (;; x++)
    if (!pk_seen(m, x) && !g--)
      break;
  return x - m->seq_p;
}

/* ---- records of the raw format ---- */

/* A MALLOC_C, FREE_C, ALLOC, ALLOCS or FREE record, decoded (ptr absolute). */
struct pk_hot {
  unsigned type, fn; /* fn: of the full records only */
  uint64_t seq_delta, size, ptr, stack;
};

/* type (0..15) tests as bit masks: one shift each */
#define PK_ALLOC_TYPES (1u << PS_REC_MALLOC_C | 1u << PS_REC_ALLOC | 1u << PS_REC_ALLOCS)
#define PK_HOT_TYPES (PK_ALLOC_TYPES | 1u << PS_REC_FREE_C | 1u << PS_REC_FREE)

static inline int pk_hot_type(unsigned type) { return PK_HOT_TYPES >> (type & 15) & 1; }

static inline int pk_hot_is_alloc(unsigned type) { return PK_ALLOC_TYPES >> (type & 15) & 1; }

static inline int pk_hot_compact(unsigned type)
{
  return type == PS_REC_MALLOC_C || type == PS_REC_FREE_C;
}

/* A literal pointer (PK_PLIT): the record's own pointer field (aptr or zigzag of the delta). */
static inline uint64_t pk_lit_encode(unsigned type, uint64_t d)
{
  return pk_hot_compact(type) ? ps_aptr_encode(d) : ps_zigzag((int64_t)d);
}
static inline uint64_t pk_lit_decode(unsigned type, uint64_t v)
{
  return pk_hot_compact(type) ? ps_aptr_decode(v) : (uint64_t)ps_unzigzag(v);
}

/* Reads a varint that the writer's ps_put_varint would write identically (shortest form).
 * Returns 0, or -1 when truncated, overlong or not in shortest form. */
static inline int pk_get_canon(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
  const uint8_t *q = *p;
  if (__builtin_expect(end - q >= 3, 1)) { /* 1 to 3 bytes unrolled (sizes, pointers, stacks) */
    uint64_t b0 = q[0], b1 = q[1], b2 = q[2];
    if (b0 < 0x80) {
      *v = b0;
      *p = q + 1;
      return 0;
    }
    if (b1 < 0x80) {
      *v = (b0 & 0x7f) | b1 << 7;
      *p = q + 2;
      return b1 ? 0 : -1;
    }
    if (b2 < 0x80) {
      *v = (b0 & 0x7f) | (b1 & 0x7f) << 7 | b2 << 14;
      *p = q + 3;
      return b2 ? 0 : -1;
    }
  }
  if (ps_get_varint(p, end, v))
    return -1;
  size_t n = (size_t)(*p - q);
  uint8_t last = (*p)[-1];
  return n == 1 || (last && (n < PS_VARINT_MAX || last == 1)) ? 0 : -1;
}

/* A varint of 1 to 3 bytes at q in shortest form (q has 3 bytes): its length, with *v; 0 for
 * anything else (longer, or not in shortest form: pk_get_canon decides those). */
static inline unsigned pk__canon3(const uint8_t *q, uint64_t *v)
{
  uint64_t b0 = q[0], b1 = q[1], b2 = q[2];
  if (b0 < 0x80) {
    *v = b0;
    return 1;
  }
  if (b1 < 0x80) {
    *v = (b0 & 0x7f) | b1 << 7;
    return b1 ? 2 : 0;
  }
  *v = (b0 & 0x7f) | (b1 & 0x7f) << 7 | b2 << 14;
  return b2 && b2 < 0x80 ? 3 : 0;
}

/* The pointer delta d of an aptr field v and 1 when ps_aptr_encode(d) == v (the field is what a
 * writer writes), else 0. Same verdict as decoding and encoding again: with x = unzigzag(v >> 1),
 * an odd v decodes to x and encodes back to v exactly when x & 15 != 0 (else to an even value);
 * an even v decodes to x << 4, whose arithmetic shift right by 4 gives x back exactly when x fits
 * in 60 signed bits, and then encodes to zigzag(x) << 1 = v; when it does not fit, the shift
 * gives an x' that differs from x in bits 60..63, and zigzag(x') << 1 differs from v (bits 0..60
 * differ when the signs differ; when they agree, bit 62 of x would have to be the only one that
 * differs, which makes bit 63 of zigzag(x) = v >> 1 set: impossible). Tested against
 * ps_aptr_encode(ps_aptr_decode(v)) == v in tests/unit/test-trace-pack.c. */
static inline int pk__aptr_canon(uint64_t v, uint64_t *d)
{
  uint64_t x = (uint64_t)ps_unzigzag(v >> 1);
  if (v & 1) {
    *d = x;
    return (x & 15) != 0;
  }
  *d = x << 4;
  return x + (1ull << 59) < (1ull << 60);
}

/* Decodes the hot record at [p, end) against running pointer last_ptr. Returns its length, or 0
 * when it is truncated or pk_hot_write would not re-create it byte for byte. Compact records whose
 * fields are all varints of 1 to 3 bytes (nearly all) take a shorter path with one bound check;
 * it accepts exactly what the general path below accepts, and leaves the rest to it. */
static inline size_t pk_hot_parse(const uint8_t *p, const uint8_t *end, uint64_t last_ptr,
                                  struct pk_hot *h)
{
  if (__builtin_expect(end - p >= 10, 1) && p[0] < 0xf0) { /* seq delta < 15: in the type byte */
    unsigned tb = p[0], n, t;
    uint64_t z, d;
    if ((tb & 15) == PS_REC_MALLOC_C) {
      if ((n = pk__canon3(p + 1, &h->size)) && (t = pk__canon3(p + 1 + n, &z)) &&
          pk__aptr_canon(z, &d) && (n += t, t = pk__canon3(p + 1 + n, &h->stack))) {
        h->type = PS_REC_MALLOC_C;
        h->fn = 0;
        h->seq_delta = tb >> 4;
        h->ptr = last_ptr + d;
        return 1 + n + t;
      }
    } else if ((tb & 15) == PS_REC_FREE_C) {
      if ((n = pk__canon3(p + 1, &z)) && pk__aptr_canon(z, &d)) {
        h->type = PS_REC_FREE_C;
        h->fn = 0;
        h->seq_delta = tb >> 4;
        h->size = h->stack = 0;
        h->ptr = last_ptr + d;
        return 1 + n;
      }
    }
  }
  const uint8_t *q = p;
  if (q >= end)
    return 0;
  uint8_t tb = *q++;
  h->type = tb & 15u;
  int compact = pk_hot_compact(h->type), alloc = pk_hot_is_alloc(h->type);
  h->fn = compact ? 0 : tb >> 4;
  if (compact) {
    h->seq_delta = tb >> 4;
    if (h->seq_delta == 15 && (pk_get_canon(&q, end, &h->seq_delta) || h->seq_delta < 15))
      return 0;
  } else if (pk_get_canon(&q, end, &h->seq_delta)) {
    return 0;
  }
  h->size = h->stack = 0;
  uint64_t z;
  if (alloc && pk_get_canon(&q, end, &h->size))
    return 0;
  if (pk_get_canon(&q, end, &z))
    return 0;
  uint64_t d = pk_lit_decode(h->type, z);
  if (pk_lit_encode(h->type, d) != z)
    return 0;
  h->ptr = last_ptr + d;
  if (alloc && pk_get_canon(&q, end, &h->stack))
    return 0;
  return (size_t)(q - p);
}

/* Writes the raw bytes of h (at most 4 * PS_VARINT_MAX + 1) against last_ptr; returns the length. */
static inline __attribute__((always_inline)) size_t pk_hot_write(uint8_t *out,
                                                                 const struct pk_hot *h,
                                                                 uint64_t last_ptr)
{
  uint8_t *q = out;
  if (h->type == PS_REC_FREE_C && h->seq_delta < 15) {
    *q++ = (uint8_t)(PS_REC_FREE_C | h->seq_delta << 4);
    return (size_t)(pk_varint(q, ps_aptr_encode(h->ptr - last_ptr)) - out);
  }
  if (!pk_hot_compact(h->type)) {
    *q++ = (uint8_t)(h->type | h->fn << 4);
    q = pk_varint(q, h->seq_delta);
  } else if (h->seq_delta < 15) {
    *q++ = (uint8_t)(h->type | h->seq_delta << 4);
  } else {
    *q++ = (uint8_t)(h->type | 15u << 4);
    q = pk_varint(q, h->seq_delta);
  }
  int alloc = pk_hot_is_alloc(h->type);
  if (alloc)
    q = pk_varint(q, h->size);
  q = pk_varint(q, pk_lit_encode(h->type, h->ptr - last_ptr));
  if (alloc)
    q = pk_varint(q, h->stack);
  return (size_t)(q - out);
}

/* Parses a record of another known type at [p, end): returns its length, or 0 when the type is
 * unknown or the record truncated. Applies its seq and pointer effects to the model (seq gaps,
 * running pointer, live blocks) only on success. */
size_t pk_other_apply(struct pk_model *m, const uint8_t *p, const uint8_t *end);

/* 64-bit hash of raw bytes (checks a block after unpacking). */
uint64_t pk_hash(const uint8_t *p, size_t n);

#endif
