/* trace-pack-write.c - the packer: re-encodes the raw bytes of a finished trace into the packed
 * stream (trace-pack.h, docs/trace-format.md "Packed form"). Every record it cannot re-create
 * byte for byte (unknown type, damaged or non-canonical bytes) goes through verbatim, so packing
 * never changes what a reader sees; verify 1 reads every packed record back with the unpacker's
 * reader and compares its fields (per-record check, below), verify 2 unpacks the whole output in
 * a second thread and compares it.
 */
#include "trace-pack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../probes/common/trace-format.h"
#include "trace-pack-decode.h"
#include "trace-pack-model.h"
#include "trace-pack-verify.h"
#include "util.h"

#define PK_BLOCK_RAW (1u << 20) /* raw bytes per block (whole units; a chunk is never split) */
#define PK_RAW_PIECE (1u << 20) /* bytes outside chunks are cut into pieces of at most this */
#define PK_LOG_RECS 256 /* verify 1: records logged before check_records runs */
/* verify 1: a record reads at most 2 varints from one stream */
#define PK_CHECK_ROOM (PK_LOG_RECS * 2 * PS_VARINT_MAX + PS_VARINT_MAX)

/* verify 1: the fields the packer wrote for a record, as pk_read_hot should read them back */
struct pk_logged {
  struct pk_fields f;
  unsigned kind;
};

struct packer {
  struct pk_model m;
  struct pk_buf s[PK_NSTREAMS];
  struct pk_buf out;
  const uint8_t *raw;
  size_t block_start, pos;
  ps_pack_sink sink;
  void *ctx;
  struct pk_verify *check; /* verify 2: unpacks the output again and compares */
  int self_check;          /* verify 1: reads each packed record back (check_records) */
  int mismatch;
  unsigned version; /* PS_PACK_VERSION, or an older one the unpacker still reads (tests) */
  struct pk_rd crd[PK_NSTREAMS]; /* verify 1: the check's readers, following the streams */
  struct pk_logged log[PK_LOG_RECS]; /* verify 1: the fields of the records not checked yet */
  unsigned nlog;
  int drop;       /* ps_trace_pack_mapped: unmap the raw pages behind each block */
  size_t dropped; /* raw[0..dropped) unmapped so far */
};

/* ---- the per-record check (verify 1) ----
 *
 * The unpacker decodes a record in two steps (trace-pack-decode.h): it reads the stream bytes
 * into fields (seq code or gap, info id, pointer mode, list index or rank, literal), and looks
 * the fields up in the model (the resolver; pk__decode_malloc and pk__decode_free do both, or
 * the reads alone when given no record to fill: pk_read_hot). While it encodes a record, the
 * packer logs the fields it wrote (log_entry, in pack_malloc and pack_free). At the next unit
 * boundary, or when the log is full, check_records runs the unpacker's own reads, pk_read_hot,
 * over the bytes written since (readers k->crd that follow the writers; unchecked reads, "own",
 * as the streams are ours and have room past what was written) and compares every field with the
 * log; then every stream must have been read exactly up to what was written, never further
 * (check_boundary). So every byte of a packed record is verified to read back as the fields the
 * packer meant.
 *
 * The second step is not run again: each of its results is already established by a comparison
 * the encoder makes on the very model entry the resolver reads, in the model state the record
 * was encoded against (the state the unpacker decodes it against):
 *  - seq: a raw delta (version 4, the escape) is the field itself (logged, compared). A gap g
 *    came from pk_seq_gap, which returns it only after testing that seq s is untaken and
 *    counting exactly g untaken seqs in [q, s); pk_seq_ungap(g), the first untaken x >= q with g
 *    untaken seqs before it in [q, x), is then s (an earlier such x would be an untaken seq in
 *    [q, s) with g before it: g + 1 in all), so the resolver gives the record's delta back.
 *  - an allocation of a known info: pk_info_find returns an id only after comparing that info's
 *    size and stack with the record's, and they are what the resolver reads (id < ninfo: the
 *    hash holds only existing ids). A new info: size and stack are fields (logged, compared).
 *  - pointer modes LIFO0..LIFOK: pk_lifo_find returns li < nlifo[c] only where that entry
 *    equals the record's pointer, c = pk_info_class(m, id, size) as the resolver computes it,
 *    and pk_lifo_get reads that entry (it refuses 0, so the pointer is compared with 0 too).
 *    BUMP: chosen only when the pointer equals m->cur->bump, which the resolver reads. LIT: the
 *    literal written is decoded here against the running pointer and compared.
 *  - a free by reference: pk_live_rank returns (rank, from_tail) only when the block reached
 *    after rank steps from that end of its info's list is b, the block of the slot that holds
 *    the pointer (pk_slot_find); the mode encodes from_tail in its low bit (pk_fields_tail reads
 *    it back) and the rank (compared); pk_live_nth takes the same steps over the same links from
 *    the same end (rank <= PK_RANK_MAX, the info is b's own), and the resolver's pointer,
 *    blk[b].ptr, is compared here. A literal free: decoded and compared here.
 * The check decoded each record whole before (both steps, then compared the values): the same
 * verdicts for 1.4 times the instructions (160 per event against 115 on the bench trace). The
 * tests also unpack every packed trace fully (verify 2), and flip a byte of each stream to see
 * the check refuse it (pk_check_fault). */

int pk_check_fault = -1;

/* pk_check_fault (tests): flips a byte the check is about to read. */
static void check_fault(struct packer *k)
{
  int i = pk_check_fault;
  if (i < 0 || i >= PK_NSTREAMS || k->crd[i].p >= k->s[i].p + k->s[i].len)
    return;
  k->s[i].p[k->crd[i].p - k->s[i].p] ^= 1;
  pk_check_fault = -1;
}

static void check_records(struct packer *k)
{
  if (__builtin_expect(pk_check_fault >= 0, 0))
    check_fault(k);
  const struct pk_logged *e = k->log, *end = k->log + k->nlog;
  int bad = 0;
  for (; e < end && !bad; e++) {
    unsigned kind = *k->crd[PK_OP].p++;
    struct pk_fields f;
    f.size = f.stack = 0; /* set by pk_read_hot for a new info only */
    if (kind != e->kind || pk_read_hot(&k->m, k->crd, kind, &f, 1)) {
      bad = 1;
      break;
    }
    bad = ((f.seq ^ e->f.seq) | (f.ref ^ e->f.ref) | (f.id ^ e->f.id) | (f.type ^ e->f.type) |
           (f.fn ^ e->f.fn) | (f.mode ^ e->f.mode) | (f.flags ^ e->f.flags)) != 0;
    if (f.flags & PK_F_NEW)
      bad |= ((f.size ^ e->f.size) | (f.stack ^ e->f.stack)) != 0;
  }
  /* the reads are unchecked (pk_read_hot own): a reader past what was written is a mismatch
   * already, and is put back so that the next batch reads inside the reserved room too */
  for (int i = 0; i < PK_NSTREAMS; i++)
    if (k->crd[i].p > k->s[i].p + k->s[i].len) {
      bad = 1;
      k->crd[i].p = k->s[i].p + k->s[i].len;
    }
  k->mismatch |= bad;
  k->nlog = 0;
}

/* The log entry of the record about to be encoded (check_records runs when the log is full). */
/* The next log entry, with the fields every record has; the caller adds its own (size, stack,
 * ref). */
static inline __attribute__((always_inline)) struct pk_logged *
log_entry(struct packer *k, unsigned kind, const struct pk_hot *h, uint64_t seq, uint32_t id,
          unsigned mode, unsigned flags)
{
  if (__builtin_expect(k->nlog == PK_LOG_RECS, 0))
    check_records(k);
  struct pk_logged *e = &k->log[k->nlog++];
  e->kind = kind;
  e->f.seq = seq;
  e->f.id = id;
  e->f.type = h->type;
  e->f.fn = h->fn;
  e->f.mode = mode;
  e->f.flags = flags;
  return e;
}

/* At a unit boundary (before a chunk header, verbatim bytes, zeros, a block's end): the logged
 * records are checked, and every stream the records used must have been read exactly to its
 * end, never past it. */
static void check_boundary(struct packer *k)
{
  if (k->nlog)
    check_records(k);
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
  k->nlog = 0;
}

static int emit(struct packer *k, const void *buf, size_t len)
{
  int err = k->sink(k->ctx, buf, len);
  if (!err && k->check)
    err = pk_verify_feed(k->check, buf, len);
  return err;
}

#define PK_DROP_STEP (8u << 20)

/* ps_trace_pack_mapped: raw[0..block_start) is no longer read (the packer and its per-record
 * check read the current block and after it only; verify 2's thread, which reads behind, is never
 * used with it); unmaps its whole pages once 8 MiB more are done. */
static void drop_behind(struct packer *k)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t upto = k->block_start & ~(page - 1);
  if (upto - k->dropped < PK_DROP_STEP)
    return;
  madvise((void *)(uintptr_t)(k->raw + k->dropped), upto - k->dropped, MADV_DONTNEED);
  k->dropped = upto;
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
  if (k->drop)
    drop_behind(k);
  return err;
}

static void op(struct packer *k, unsigned kind)
{
  pk_put_byte(&k->s[PK_OP], (uint8_t)kind);
}

/* The seq code of a record of seq delta d (PK_SEQ_INLINE: the rest in PK_SEQ); *raw and *v: the
 * seq field as the unpacker reads it back (struct pk_fields: the delta itself, or its gap). */
static inline __attribute__((always_inline)) unsigned seq_code(struct packer *k, uint64_t d,
                                                               int *raw, uint64_t *v)
{
  uint64_t g;
  *raw = 1;
  *v = d;
  if (!k->m.gapseq) {
    g = d;
  } else if (!pk_seq_gap(&k->m, d, &g)) {
    pk_put_byte(&k->s[PK_SEQ], 0); /* the escape: the raw delta follows */
    pk_put_varint(&k->s[PK_SEQ], d);
    return PK_SEQ_INLINE;
  } else {
    *raw = 0;
    *v = g;
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
  int sraw;
  uint64_t sv;
  unsigned sc = seq_code(k, h->seq_delta, &sraw, &sv);
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
  if (k->self_check) {
    struct pk_logged *e = log_entry(k, kind, h, sv, id, mode,
                                    (sraw ? PK_F_SEQ_RAW : 0) | (isnew ? PK_F_NEW : 0));
    if (isnew) {
      e->f.size = h->size;
      e->f.stack = h->stack;
    }
    if (mode <= PK_PM_LIFOK) {
      e->f.ref = (uint64_t)li;
      k->mismatch |= h->ptr == 0;
    } else if (mode == PK_PM_LIT) {
      e->f.ref = pk_lit_encode(h->type, h->ptr - m->last_ptr);
      k->mismatch |= m->last_ptr + pk_lit_decode(h->type, e->f.ref) != h->ptr;
    } else {
      e->f.ref = 0;
    }
  }
  pk_seq_step(m, h->seq_delta);
  if (isnew)
    id = pk_info_add(m, h->size, h->stack);
  pk_on_malloc(m, id, h->size, h->ptr, li);
  m->last_ptr = h->ptr;
}

static void pack_free(struct packer *k, const struct pk_hot *h)
{
  struct pk_model *m = &k->m;
  int sraw;
  uint64_t sv;
  unsigned sc = seq_code(k, h->seq_delta, &sraw, &sv);
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
  unsigned mode = PK_FM_LIT;
  uint32_t info = PK_NONE;
  if (rank == PK_NONE) {
    pk_put_byte(&k->s[PK_FOP], (uint8_t)(sc | PK_FM_LIT << 2));
    pk_put_varint(&k->s[PK_PLIT], pk_lit_encode(h->type, h->ptr - m->last_ptr));
  } else {
    info = m->blk[b].info;
    mode = PK_FM_HEAD0 + (unsigned)from_tail + 2 * (rank < 2 ? rank : 2);
    pk_put_byte(&k->s[PK_FOP], (uint8_t)(sc | mode << 2));
    pk_put_byte(&k->s[PK_FLO], (uint8_t)info);
    pk_put_varint(&k->s[PK_FHI], info >> 8);
    if (rank >= 2)
      pk_put_varint(&k->s[PK_FRANK], rank - 2);
  }
  if (k->self_check) {
    struct pk_logged *e = log_entry(k, kind, h, sv, info, mode, sraw ? PK_F_SEQ_RAW : 0);
    if (mode == PK_FM_LIT) {
      e->f.ref = pk_lit_encode(h->type, h->ptr - m->last_ptr);
      k->mismatch |= m->last_ptr + pk_lit_decode(h->type, e->f.ref) != h->ptr;
    } else {
      e->f.ref = rank;
      k->mismatch |= m->blk[b].ptr != h->ptr;
    }
  }
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
  /* the streams do not move in the chunk; PK_CHECK_ROOM: what the check's unchecked reads may
   * run past the records written before check_records puts them back */
  reserve_all(k, 5 * (size_t)c->payload_len + 64 + PK_CHECK_ROOM);
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

static int pack_run(const uint8_t *raw, size_t len, int verify, unsigned version, int drop,
                    ps_pack_sink sink, void *ctx)
{
  struct packer *k = ps_xcalloc(1, sizeof *k);
  k->drop = drop;
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

int ps_trace_pack(const uint8_t *raw, size_t len, int verify, ps_pack_sink sink, void *ctx)
{
  return pack_run(raw, len, verify, PS_PACK_VERSION, 0, sink, ctx);
}

int ps_trace_pack_mapped(const uint8_t *raw, size_t len, ps_pack_sink sink, void *ctx)
{
  return pack_run(raw, len, 1, PS_PACK_VERSION, 1, sink, ctx);
}

int pk_pack_version(const uint8_t *raw, size_t len, int verify, unsigned version,
                    ps_pack_sink sink, void *ctx)
{
  return pack_run(raw, len, verify, version, 0, sink, ctx);
}

int ps_trace_is_packed(const void *buf, size_t len)
{
  return len >= 8 && !memcmp(buf, PS_PACK_MAGIC, 8);
}
