/* trace-pack-decode.h - decodes one packed allocation or free (kinds PK_K_MALLOC, PK_K_ALLOCF,
 * PK_K_FREE, PK_K_FREEF) against the model without changing it: the unpacker decodes then
 * applies it; the packer decodes each record it has just encoded and compares it with the record
 * it parsed (its per-record check). Internal to trace-pack*.c.
 */
#ifndef PERFSWEEP_TRACE_PACK_DECODE_H
#define PERFSWEEP_TRACE_PACK_DECODE_H

#include "trace-pack-model.h"

struct pk_decoded {
  int isnew;   /* allocation of a new info: h->size, h->stack still to be added */
  uint32_t id; /* allocation: its info (PK_NONE when new) */
  int li;      /* allocation: its index in the recently freed list, -1 when not from it */
};

/* pk_decode_hot (below) reads the record of kind (its kind byte already read) from the streams
 * rd into h (ptr absolute) and o. Returns NULL, or a phrase saying what is corrupt. m is not
 * changed; a read past a stream's end sets that stream's bad flag (the caller checks). Inline:
 * it runs once per allocation and free on both sides. */

static inline uint32_t pk__get_info(struct pk_rd *lo, struct pk_rd *hi)
{
  uint64_t l = pk_get_byte(lo), h = pk_get_varint(hi);
  return h >= (1u << 24) ? PK_NONE : (uint32_t)(h << 8 | l);
}

/* The seq delta of a record whose seq code (detail byte) is code (see PK_SEQ_INLINE). A gap the
 * window cannot hold marks sq bad. */
static inline uint64_t pk__get_seq(const struct pk_model *m, unsigned code, struct pk_rd *sq)
{
  if (!m->gapseq)
    return code < PK_SEQ_INLINE ? code : pk_get_varint(sq);
  uint64_t g = code;
  if (code == PK_SEQ_INLINE) {
    uint64_t v = pk_get_varint(sq);
    if (!v)
      return pk_get_varint(sq);
    g = v + 2;
  }
  uint64_t d = pk_seq_ungap(m, g);
  if (d == UINT64_MAX)
    sq->bad = 1;
  return d;
}

static inline const char *pk__decode_malloc(const struct pk_model *m, struct pk_rd *rd, struct pk_hot *h,
                                 struct pk_decoded *o)
{
  unsigned det = pk_get_byte(&rd[PK_MOP]), mode = det >> 3;
  h->seq_delta = pk__get_seq(m, det & 3, &rd[PK_SEQ]);
  o->isnew = (det & 4) != 0;
  if (o->isnew) {
    h->size = pk_get_varint(&rd[PK_NEW]);
    h->stack = pk_get_varint(&rd[PK_NEW]);
    o->id = PK_NONE;
  } else {
    o->id = pk__get_info(&rd[PK_ILO], &rd[PK_IHI]);
    if (o->id >= m->ninfo)
      return "an allocation refers to an unknown (size, stack) pair";
    h->size = m->info[o->id].size;
    h->stack = m->info[o->id].stack;
  }
  int c = pk_info_class(m, o->id, h->size);
  o->li = -1;
  if (mode <= PK_PM_LIFOK) {
    o->li = mode < PK_PM_LIFOK ? (int)mode : PK_PM_LIFOK + pk_get_byte(&rd[PK_PCODE]);
    h->ptr = pk_lifo_get(m, c, o->li);
    if (!h->ptr)
      return "an allocation refers to a freed address the model does not hold";
  } else if (mode == PK_PM_BUMP) {
    h->ptr = m->cur->bump;
  } else if (mode == PK_PM_LIT) {
    h->ptr = m->last_ptr + pk_lit_decode(h->type, pk_get_varint(&rd[PK_PLIT]));
  } else {
    return "an allocation with an unknown pointer mode";
  }
  return NULL;
}

static inline const char *pk__decode_free(const struct pk_model *m, struct pk_rd *rd, struct pk_hot *h)
{
  unsigned det = pk_get_byte(&rd[PK_FOP]), mode = det >> 2;
  h->size = h->stack = 0;
  h->seq_delta = pk__get_seq(m, det & 3, &rd[PK_SEQ]);
  if (mode == PK_FM_LIT) {
    h->ptr = m->last_ptr + pk_lit_decode(h->type, pk_get_varint(&rd[PK_PLIT]));
    return NULL;
  }
  if (mode > PK_FM_TAILK)
    return "a free with an unknown mode";
  uint32_t info = pk__get_info(&rd[PK_FLO], &rd[PK_FHI]);
  uint64_t rank = (mode - PK_FM_HEAD0) / 2;
  if (rank == 2)
    rank += pk_get_varint(&rd[PK_FRANK]);
  uint32_t b = rank > PK_RANK_MAX
                   ? PK_NONE
                   : pk_live_nth(m, info, (uint32_t)rank, (mode - PK_FM_HEAD0) & 1);
  if (b == PK_NONE)
    return "a free refers to a block that is not live";
  h->ptr = m->blk[b].ptr;
  return NULL;
}

static inline const char *pk_decode_hot(const struct pk_model *m, struct pk_rd *rd,
                                        unsigned kind, struct pk_hot *h, struct pk_decoded *o)
{
  int alloc = kind == PK_K_MALLOC || kind == PK_K_ALLOCF;
  h->type = alloc ? PS_REC_MALLOC_C : PS_REC_FREE_C;
  h->fn = 0;
  if (kind == PK_K_ALLOCF || kind == PK_K_FREEF) {
    unsigned tf = pk_get_byte(&rd[PK_AFN]);
    h->type = tf >> 4;
    h->fn = tf & 15;
    if (alloc ? h->type != PS_REC_ALLOC && h->type != PS_REC_ALLOCS : h->type != PS_REC_FREE)
      return "a packed allocation or free of the wrong record type";
  }
  return alloc ? pk__decode_malloc(m, rd, h, o) : pk__decode_free(m, rd, h);
}


#endif
