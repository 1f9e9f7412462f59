/* trace-pack-write.c - the packer: re-encodes the raw bytes of a finished trace into the packed
 * stream (trace-pack.h, docs/trace-format.md "Packed form"). Every record it cannot re-create
 * byte for byte (unknown type, damaged or non-canonical bytes) goes through verbatim, so packing
 * never changes what a reader sees; verify 1 decodes every packed record again and compares it
 * (per-record check), verify 2 unpacks the whole output in a second thread and compares it.
 */
#include "trace-pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/common/trace-format.h"
#include "trace-pack-decode.h"
#include "trace-pack-model.h"
#include "trace-pack-verify.h"
#include "util.h"

#define PK_BLOCK_RAW (1u << 20) /* raw bytes per block (whole units; a chunk is never split) */
#define PK_RAW_PIECE (1u << 20) /* bytes outside chunks are cut into pieces of at most this */

struct packer {
  struct pk_model m;
  struct pk_buf s[PK_NSTREAMS];
  struct pk_buf out;
  const uint8_t *raw;
  size_t block_start, pos;
  ps_pack_sink sink;
  void *ctx;
  struct pk_verify *check; /* verify 2: unpacks the output again and compares */
  int self_check;          /* verify 1: decodes each packed record again (check_record) */
  int mismatch;
  unsigned version; /* PS_PACK_VERSION, or an older one the unpacker still reads (tests) */
  struct pk_rd crd[PK_NSTREAMS]; /* verify 1: the check's readers, following the streams */
};

/* The per-record check: decodes the record just packed from the streams (k->crd, readers that
 * follow the writers), against the model as it was before the record (the caller applies the
 * record after this), and compares it with the parsed record h (li, id: what the packer
 * encoded). The readers end at the buffers' capacity (the buffers do not move while records are
 * written); that every stream was read exactly up to what was written, never further, is
 * checked at the next unit boundary (check_boundary). */
static inline __attribute__((always_inline)) void
check_record(struct packer *k, unsigned kind, const struct pk_hot *h, int li, uint32_t id)
{
  int alloc = kind == PK_K_MALLOC || kind == PK_K_ALLOCF;
  k->crd[PK_OP].p++; /* the kind byte, read by the caller in the unpacker */
  struct pk_hot d;
  struct pk_decoded o = {0, PK_NONE, -1};
  const char *why = pk_decode_hot(&k->m, k->crd, kind, &d, &o);
  int bad = why || d.type != h->type || d.fn != h->fn || d.seq_delta != h->seq_delta ||
            d.ptr != h->ptr || d.size != h->size || d.stack != h->stack;
  if (alloc)
    bad |= o.li != li || (o.isnew ? id != PK_NONE : o.id != id);
  k->mismatch |= bad;
}

/* At a unit boundary (before a chunk header, verbatim bytes, zeros, a block's end): every
 * stream the records used must have been read exactly to its end, never past it. */
static void check_boundary(struct packer *k)
{
  for (int i = 0; i < PK_NSTREAMS; i++)
    k->mismatch |= k->crd[i].bad || k->crd[i].p != k->s[i].p + k->s[i].len;
}

/* After a unit the records do not read (or a buffer moved): the readers follow the writers. */
static void check_sync(struct packer *k)
{
  for (int i = 0; i < PK_NSTREAMS; i++) {
    k->crd[i].p = k->s[i].p + k->s[i].len;
    k->crd[i].end = k->s[i].p + k->s[i].cap;
    k->crd[i].bad = 0;
  }
}

static int emit(struct packer *k, const void *buf, size_t len)
{
  int err = k->sink(k->ctx, buf, len);
  if (!err && k->check)
    err = pk_verify_feed(k->check, buf, len);
  return err;
}

static int flush_block(struct packer *k)
{
  size_t raw_len = k->pos - k->block_start;
  if (k->self_check)
    check_boundary(k);
  if (!raw_len)
    return 0;
  struct pk_buf *o = &k->out;
  o->len = 0;
  pk_buf_reserve(o, (PK_NSTREAMS + 1) * PS_VARINT_MAX + 8);
  pk_put_varint(o, raw_len);
  uint64_t h = pk_hash(k->raw + k->block_start, raw_len);
  uint8_t hb[8];
  for (int i = 0; i < 8; i++)
    hb[i] = (uint8_t)(h >> (8 * i));
  pk_put_bytes(o, hb, 8);
  for (int i = 0; i < PK_NSTREAMS; i++)
    pk_put_varint(o, k->s[i].len);
  /* the header, then each stream in a call of its own: a compressing sink can end its entropy
   * block at a stream's end, so each field gets its own Huffman table (trace-pack.h) */
  int err = emit(k, o->p, o->len);
  for (int i = 0; i < PK_NSTREAMS; i++) {
    if (!err && k->s[i].len)
      err = emit(k, k->s[i].p, k->s[i].len);
    k->s[i].len = 0;
  }
  k->block_start = k->pos;
  if (k->self_check)
    check_sync(k);
  return err;
}

static void op(struct packer *k, unsigned kind)
{
  pk_put_byte(&k->s[PK_OP], (uint8_t)kind);
}

/* The seq code of a record of seq delta d (PK_SEQ_INLINE: the rest in PK_SEQ). */
static inline __attribute__((always_inline)) unsigned seq_code(struct packer *k, uint64_t d)
{
  uint64_t g;
  if (!k->m.gapseq) {
    g = d;
  } else if (!pk_seq_gap(&k->m, d, &g)) {
    pk_put_byte(&k->s[PK_SEQ], 0); /* the escape: the raw delta follows */
    pk_put_varint(&k->s[PK_SEQ], d);
    return PK_SEQ_INLINE;
  }
  if (g < PK_SEQ_INLINE)
    return (unsigned)g;
  pk_put_varint(&k->s[PK_SEQ], k->m.gapseq ? g - 2 : g);
  return PK_SEQ_INLINE;
}

static void verbatim(struct packer *k, unsigned kind, const uint8_t *p, size_t n)
{
  if (k->self_check)
    check_boundary(k);
  pk_buf_reserve(&k->s[PK_OP], 1);
  pk_buf_reserve(&k->s[PK_LEN], PS_VARINT_MAX);
  op(k, kind);
  pk_put_varint(&k->s[PK_LEN], n);
  pk_put_bytes(&k->s[PK_RAW], p, n);
  if (k->self_check)
    check_sync(k);
}

/* Room for n more bytes in every stream (writes into them are unchecked). */
static void reserve_all(struct packer *k, size_t n)
{
  for (int i = 0; i < PK_NSTREAMS; i++)
    pk_buf_reserve(&k->s[i], n);
}

static void pack_malloc(struct packer *k, const struct pk_hot *h)
{
  struct pk_model *m = &k->m;
  unsigned sc = seq_code(k, h->seq_delta);
  uint32_t id = pk_info_find(m, h->size, h->stack);
  unsigned isnew = id == PK_NONE, mode;
  int li = pk_lifo_find(m, pk_info_class(m, id, h->size), h->ptr);
  if (li >= 0 && li < PK_PM_LIFOK) {
    mode = (unsigned)li;
  } else if (li >= 0) {
    mode = PK_PM_LIFOK;
    pk_put_byte(&k->s[PK_PCODE], (uint8_t)(li - PK_PM_LIFOK));
  } else if (h->ptr == m->cur->bump) {
    mode = PK_PM_BUMP;
  } else {
    mode = PK_PM_LIT;
    pk_put_varint(&k->s[PK_PLIT], pk_lit_encode(h->type, h->ptr - m->last_ptr));
  }
  unsigned kind = h->type == PS_REC_MALLOC_C ? PK_K_MALLOC : PK_K_ALLOCF;
  op(k, kind);
  if (kind == PK_K_ALLOCF)
    pk_put_byte(&k->s[PK_AFN], (uint8_t)(h->type << 4 | h->fn));
  pk_put_byte(&k->s[PK_MOP], (uint8_t)(sc | isnew << 2 | mode << 3));
  if (isnew) {
    pk_put_varint(&k->s[PK_NEW], h->size);
    pk_put_varint(&k->s[PK_NEW], h->stack);
  } else {
    pk_put_byte(&k->s[PK_ILO], (uint8_t)id);
    pk_put_varint(&k->s[PK_IHI], id >> 8);
  }
  if (k->self_check)
    check_record(k, kind, h, li, id);
  pk_seq_step(m, h->seq_delta);
  if (isnew)
    id = pk_info_add(m, h->size, h->stack);
  pk_on_malloc(m, id, h->size, h->ptr, li);
  m->last_ptr = h->ptr;
}

static void pack_free(struct packer *k, const struct pk_hot *h)
{
  struct pk_model *m = &k->m;
  unsigned sc = seq_code(k, h->seq_delta);
  uint32_t s = pk_slot_find(m, h->ptr), b = PK_NONE, rank = PK_NONE;
  int from_tail = 0;
  if (s != PK_NONE) {
    b = m->slot[s].blk - 1;
    rank = pk_live_rank(m, b, &from_tail);
  }
  unsigned kind = h->type == PS_REC_FREE_C ? PK_K_FREE : PK_K_FREEF;
  op(k, kind);
  if (kind == PK_K_FREEF)
    pk_put_byte(&k->s[PK_AFN], (uint8_t)(h->type << 4 | h->fn));
  if (rank == PK_NONE) {
    pk_put_byte(&k->s[PK_FOP], (uint8_t)(sc | PK_FM_LIT << 2));
    pk_put_varint(&k->s[PK_PLIT], pk_lit_encode(h->type, h->ptr - m->last_ptr));
  } else {
    uint32_t info = m->blk[b].info;
    unsigned mode = PK_FM_HEAD0 + (unsigned)from_tail + 2 * (rank < 2 ? rank : 2);
    pk_put_byte(&k->s[PK_FOP], (uint8_t)(sc | mode << 2));
    pk_put_byte(&k->s[PK_FLO], (uint8_t)info);
    pk_put_varint(&k->s[PK_FHI], info >> 8);
    if (rank >= 2)
      pk_put_varint(&k->s[PK_FRANK], rank - 2);
  }
  if (k->self_check)
    check_record(k, kind, h, -1, PK_NONE);
  pk_seq_step(m, h->seq_delta);
  if (s != PK_NONE)
    pk_free_slot(m, s);
  m->last_ptr = h->ptr;
}

/* One whole chunk at k->pos (its header already checked). */
static void pack_chunk(struct packer *k, const struct ps_trace_chunk *c)
{
  struct pk_model *m = &k->m;
  pk_model_thread(m, c->tid);
  if (k->self_check)
    check_boundary(k);
  reserve_all(k, 5 * (size_t)c->payload_len + 64); /* the streams do not move in the chunk */
  op(k, PK_K_CHUNK);
  struct pk_buf *cs = &k->s[PK_CHUNK];
  pk_put_varint(cs, c->tid);
  pk_put_varint(cs, c->nrecords);
  pk_put_varint(cs, ps_zigzag((int64_t)(c->first_seq - m->prev_first_seq)));
  pk_put_varint(cs, ps_zigzag((int64_t)(c->mono_ns - m->prev_mono)));
  pk_put_varint(cs, c->payload_len);
  if (k->self_check)
    check_sync(k);
  m->prev_first_seq = c->first_seq;
  m->prev_mono = c->mono_ns;
  m->last_ptr = 0;
  pk_seq_chunk(m, c->first_seq);
  const uint8_t *p = k->raw + k->pos + sizeof *c, *end = p + c->payload_len;
  while (p < end) {
    unsigned type = *p & 15u;
    size_t n;
    if (pk_hot_type(type)) {
      struct pk_hot h;
      n = pk_hot_parse(p, end, m->last_ptr, &h); /* 0 also when not re-created identically */
      if (n && pk_hot_is_alloc(type))
        pack_malloc(k, &h);
      else if (n)
        pack_free(k, &h);
    } else {
      n = pk_other_apply(m, p, end);
      if (n)
        verbatim(k, PK_K_VERB, p, n);
    }
    if (!n) {
      verbatim(k, PK_K_REST, p, (size_t)(end - p));
      break;
    }
    p += n;
  }
  k->pos += sizeof *c + c->payload_len;
}

/* 1 when a whole chunk with a plausible header starts at off. */
static int chunk_at(const uint8_t *raw, size_t len, size_t off, struct ps_trace_chunk *c)
{
  if (len - off < sizeof *c)
    return 0;
  memcpy(c, raw + off, sizeof *c);
  return c->magic == PS_CHUNK_MAGIC && c->payload_len <= PS_TRACE_MAX_PAYLOAD &&
         c->payload_len <= len - off - sizeof *c;
}

/* Bytes outside chunks from k->pos: up to the next chunk magic, at most PK_RAW_PIECE. */
static void pack_raw(struct packer *k, size_t len)
{
  size_t n = 1, max = len - k->pos < PK_RAW_PIECE ? len - k->pos : PK_RAW_PIECE;
  while (n < max) {
    const uint8_t *q = memchr(k->raw + k->pos + n, 'C', max - n);
    if (!q) {
      n = max;
      break;
    }
    n = (size_t)(q - (k->raw + k->pos));
    struct ps_trace_chunk c;
    if (chunk_at(k->raw, len, k->pos + n, &c))
      break;
    n++;
  }
  verbatim(k, PK_K_RAW, k->raw + k->pos, n);
  k->pos += n;
}

static int pack_all(struct packer *k, size_t len)
{
  uint8_t head[8 + PS_VARINT_MAX];
  memcpy(head, PS_PACK_MAGIC, 8);
  size_t hl = (size_t)(ps_put_varint(head + 8, k->version) - head);
  int err = emit(k, head, hl);
  struct ps_trace_header th;
  if (!err && len >= sizeof th) {
    memcpy(&th, k->raw, sizeof th);
    if (!memcmp(th.magic, PS_TRACE_MAGIC, 8) && th.header_len >= sizeof th &&
        th.header_len <= len) {
      verbatim(k, PK_K_RAW, k->raw, th.header_len);
      k->pos = th.header_len;
      err = flush_block(k); /* alone in the first block: a cut stream keeps at least it */
    }
  }
  while (!err && k->pos < len) {
    struct ps_trace_chunk c;
    if (chunk_at(k->raw, len, k->pos, &c)) {
      pack_chunk(k, &c);
    } else if (k->raw[k->pos] == 0) {
      size_t z = k->pos;
      while (z < len && !k->raw[z])
        z++;
      if (k->self_check)
        check_boundary(k);
      reserve_all(k, PS_VARINT_MAX);
      op(k, PK_K_ZERO);
      pk_put_varint(&k->s[PK_LEN], z - k->pos);
      if (k->self_check)
        check_sync(k);
      k->pos = z;
    } else {
      pack_raw(k, len);
    }
    if (k->pos - k->block_start >= PK_BLOCK_RAW)
      err = flush_block(k);
  }
  if (!err)
    err = flush_block(k);
  if (!err) {
    uint8_t tail[1 + PS_VARINT_MAX];
    tail[0] = 0; /* a block of 0 raw bytes: the end marker, then the total length */
    size_t tl = (size_t)(ps_put_varint(tail + 1, len) - tail);
    err = emit(k, tail, tl);
  }
  return err;
}

int ps_trace_pack(const uint8_t *raw, size_t len, int verify, ps_pack_sink sink, void *ctx)
{
  return pk_pack_version(raw, len, verify, PS_PACK_VERSION, sink, ctx);
}

int pk_pack_version(const uint8_t *raw, size_t len, int verify, unsigned version,
                    ps_pack_sink sink, void *ctx)
{
  struct packer *k = ps_xcalloc(1, sizeof *k);
  pk_model_init(&k->m);
  k->version = version;
  k->m.gapseq = version >= 5;
  k->raw = raw;
  k->sink = sink;
  k->ctx = ctx;
  k->self_check = verify == 1;
  check_sync(k);
  if (verify >= 2)
    k->check = pk_verify_start(raw, len);
  int err = pack_all(k, len);
  if (!err && k->mismatch)
    err = -EPROTO;
  if (k->check) {
    int verr = pk_verify_finish(k->check, err && err != -EPROTO);
    if (!err)
      err = verr;
  }
  pk_model_free(&k->m);
  for (int i = 0; i < PK_NSTREAMS; i++)
    free(k->s[i].p);
  free(k->out.p);
  free(k);
  return err;
}

int ps_trace_is_packed(const void *buf, size_t len)
{
  return len >= 8 && !memcmp(buf, PS_PACK_MAGIC, 8);
}
