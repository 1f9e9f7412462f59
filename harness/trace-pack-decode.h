/* trace-pack-decode.h - decodes one packed allocation or free (kinds PK_K_MALLOC, PK_K_ALLOCF,
 * PK_K_FREE, PK_K_FREEF) against the model without changing it: the stream bytes into fields,
 * and the fields into the record by model lookups. The unpacker runs both (pk_decode_hot) then
 * applies the record; the packer's per-record check runs the same reads alone (pk_read_hot) on
 * the bytes it has just written and compares the fields with what it encoded. Internal to
 * trace-pack*.c.
 */
#ifndef PERFSWEEP_TRACE_PACK_DECODE_H
#define PERFSWEEP_TRACE_PACK_DECODE_H

#include "trace-pack-model.h"

struct pk_decoded {
  int isnew;   /* allocation of a new info: h->size, h->stack still to be added */
  uint32_t id; /* allocation: its info (PK_NONE when new) */
  int li;      /* allocation: its index in the recently freed list, -1 when not from it */
};

/* A packed allocation or free as its bytes say it, before the model turns it into values. */
struct pk_fields {
  uint64_t seq; /* the seq delta itself (PK_F_SEQ_RAW: version 4, or the escape), else its gap */
  uint64_t ref; /* by pointer mode: allocation LIFO0..LIFOK its index in the recently freed list,
                 * BUMP 0; free by reference its rank in the info's live list (from the end that
                 * pk_fields_tail says); LIT the literal */
  uint32_t id;  /* the info of a known allocation or of a freed block, else PK_NONE */
  /* (unsigned, not uint8_t: stores of a character type would alias everything) */
  unsigned type, fn; /* record type; fn of the full records (0 for the compact ones) */
  unsigned mode;     /* pointer mode: enum pk_malloc_mode (allocation) or pk_free_mode (free) */
  unsigned flags;    /* PK_F_* */
  uint64_t size, stack; /* PK_F_NEW only */
};
#define PK_F_SEQ_RAW 1u /* seq is the delta itself */
#define PK_F_NEW 2u     /* an allocation of a new info: size and stack set */

/* A free by reference counts its rank from the tail (oldest) of the list: the odd modes. */
static inline int pk_fields_tail(const struct pk_fields *f) { return (f->mode - PK_FM_HEAD0) & 1; }

/* pk_read_hot (below) reads the record of kind (its kind byte already read) from the streams rd
 * into f, without the model (m->gapseq only). pk_decode_hot reads the same and turns it into the
 * record h (and o) against the model (m not changed), as the unpacker does. Both return NULL, or
 * a phrase saying what is corrupt; a read past a stream's end sets that stream's bad flag (the
 * caller checks). The packer's per-record check runs pk_read_hot on the bytes it has just written
 * and compares the fields (trace-pack-write.c, "the per-record check": why that is enough).
 * Inline: they run once per allocation and free on both sides. */

/* Reads for pk_read_hot. own: the streams are the caller's own buffers, with room to read past
 * what was written (the packer's check, which compares every reader's position with what was
 * written afterwards): no bound checks, the same values; else pk_get_byte and pk_get_varint. */
static inline __attribute__((always_inline)) uint8_t pk__rb(struct pk_rd *r, int own)
{
  return own ? *r->p++ : pk_get_byte(r);
}

static inline __attribute__((always_inline)) uint64_t pk__rv(struct pk_rd *r, int own)
{
  return pk_get_varint_to(r, own ? r->p + PS_VARINT_MAX : r->end);
}

static inline __attribute__((always_inline)) uint32_t pk__get_info(struct pk_rd *lo,
                                                                   struct pk_rd *hi, int own)
{
  uint64_t l = pk__rb(lo, own), h = pk__rv(hi, own);
  return h >= (1u << 24) ? PK_NONE : (uint32_t)(h << 8 | l);
}

/* The seq field of a record whose seq code (detail byte) is code (see PK_SEQ_INLINE). */
static inline __attribute__((always_inline)) void
pk__read_seq(const struct pk_model *m, unsigned code, struct pk_rd *sq, struct pk_fields *f,
             int own)
{
  f->flags = m->gapseq ? 0 : PK_F_SEQ_RAW;
  f->seq = code;
  if (code == PK_SEQ_INLINE) {
    uint64_t v = pk__rv(sq, own);
    f->seq = m->gapseq ? v + 2 : v;
    if (m->gapseq && !v) {
      f->flags = PK_F_SEQ_RAW;
      f->seq = pk__rv(sq, own);
    }
  }
}

/* The record type and fn of kind (AFN for the full records). */
static inline __attribute__((always_inline)) const char *
pk__read_type(struct pk_rd *rd, unsigned kind, struct pk_fields *f, int own)
{
  int alloc = kind == PK_K_MALLOC || kind == PK_K_ALLOCF;
  f->type = alloc ? PS_REC_MALLOC_C : PS_REC_FREE_C;
  f->fn = 0;
  if (kind == PK_K_ALLOCF || kind == PK_K_FREEF) {
    unsigned tf = pk__rb(&rd[PK_AFN], own);
    f->type = tf >> 4;
    f->fn = tf & 15;
    if (alloc ? f->type != PS_REC_ALLOC && f->type != PS_REC_ALLOCS : f->type != PS_REC_FREE)
      return "a packed allocation or free of the wrong record type";
  }
  return NULL;
}

/* The seq delta of f (UINT64_MAX: a gap beyond what the model holds). */
static inline __attribute__((always_inline)) uint64_t pk__seq_delta(const struct pk_model *m,
                                                                    const struct pk_fields *f)
{
  return f->flags & PK_F_SEQ_RAW ? f->seq : pk_seq_ungap(m, f->seq);
}

/* The fields of an allocation (f) and, with h, the record they say against the model (h, o):
 * the unpacker's decoder; the packer's check calls it with h NULL, the reads alone. Inline with
 * h a constant, so each caller keeps only its part. */
static inline __attribute__((always_inline)) const char *
pk__decode_malloc(const struct pk_model *m, struct pk_rd *rd, struct pk_fields *f, int own,
                  struct pk_hot *h, struct pk_decoded *o)
{
  unsigned det = pk__rb(&rd[PK_MOP], own);
  f->mode = det >> 3;
  pk__read_seq(m, det & 3, &rd[PK_SEQ], f, own);
  if (h && (h->seq_delta = pk__seq_delta(m, f)) == UINT64_MAX)
    return "a record's seq gap lies beyond the seqs the model holds";
  if (det & 4) {
    f->flags |= PK_F_NEW;
    f->size = pk__rv(&rd[PK_NEW], own);
    f->stack = pk__rv(&rd[PK_NEW], own);
    f->id = PK_NONE;
    if (h) {
      h->size = f->size;
      h->stack = f->stack;
    }
  } else {
    f->id = pk__get_info(&rd[PK_ILO], &rd[PK_IHI], own);
    if (h) {
      if (f->id >= m->ninfo)
        return "an allocation refers to an unknown (size, stack) pair";
      h->size = m->info[f->id].size;
      h->stack = m->info[f->id].stack;
    }
  }
  if (h)
    *o = (struct pk_decoded){(det & 4) != 0, f->id, -1};
  if (f->mode <= PK_PM_LIFOK) {
    f->ref = f->mode < PK_PM_LIFOK ? f->mode : PK_PM_LIFOK + (unsigned)pk__rb(&rd[PK_PCODE], own);
    if (h) {
      o->li = (int)f->ref;
      h->ptr = pk_lifo_get(m, pk_info_class(m, f->id, h->size), o->li);
      if (!h->ptr)
        return "an allocation refers to a freed address the model does not hold";
    }
  } else if (f->mode == PK_PM_BUMP) {
    f->ref = 0;
    if (h)
      h->ptr = m->cur->bump;
  } else if (f->mode == PK_PM_LIT) {
    f->ref = pk__rv(&rd[PK_PLIT], own);
    if (h)
      h->ptr = m->last_ptr + pk_lit_decode(f->type, f->ref);
  } else {
    return "an allocation with an unknown pointer mode";
  }
  return NULL;
}

/* The same for a free (no o). */
static inline __attribute__((always_inline)) const char *
pk__decode_free(const struct pk_model *m, struct pk_rd *rd, struct pk_fields *f, int own,
                struct pk_hot *h)
{
  unsigned det = pk__rb(&rd[PK_FOP], own);
  f->mode = det >> 2;
  pk__read_seq(m, det & 3, &rd[PK_SEQ], f, own);
  if (h) {
    if ((h->seq_delta = pk__seq_delta(m, f)) == UINT64_MAX)
      return "a record's seq gap lies beyond the seqs the model holds";
    h->size = h->stack = 0;
  }
  f->id = PK_NONE;
  if (f->mode == PK_FM_LIT) {
    f->ref = pk__rv(&rd[PK_PLIT], own);
    if (h)
      h->ptr = m->last_ptr + pk_lit_decode(f->type, f->ref);
    return NULL;
  }
  if (f->mode > PK_FM_TAILK)
    return "a free with an unknown mode";
  f->id = pk__get_info(&rd[PK_FLO], &rd[PK_FHI], own);
  f->ref = (f->mode - PK_FM_HEAD0) / 2;
  if (f->ref == 2)
    f->ref += pk__rv(&rd[PK_FRANK], own);
  if (h) {
    uint32_t b = f->ref > PK_RANK_MAX
                     ? PK_NONE
                     : pk_live_nth(m, f->id, (uint32_t)f->ref, pk_fields_tail(f));
    if (b == PK_NONE)
      return "a free refers to a block that is not live";
    h->ptr = m->blk[b].ptr;
  }
  return NULL;
}

/* The fields alone, from the stream bytes (the packer's check). */
static inline __attribute__((always_inline)) const char *
pk_read_hot(const struct pk_model *m, struct pk_rd *rd, unsigned kind, struct pk_fields *f,
            int own)
{
  const char *why = pk__read_type(rd, kind, f, own);
  if (why)
    return why;
  return kind == PK_K_MALLOC || kind == PK_K_ALLOCF ? pk__decode_malloc(m, rd, f, own, NULL, NULL)
                                                    : pk__decode_free(m, rd, f, own, NULL);
}

/* The record, as the unpacker decodes it: h, and for an allocation o. */
static inline const char *pk_decode_hot(const struct pk_model *m, struct pk_rd *rd,
                                        unsigned kind, struct pk_hot *h, struct pk_decoded *o)
{
  struct pk_fields f;
  const char *why = pk__read_type(rd, kind, &f, 0);
  if (why)
    return why;
  h->type = f.type;
  h->fn = f.fn;
  if (kind == PK_K_MALLOC || kind == PK_K_ALLOCF)
    return pk__decode_malloc(m, rd, &f, 0, h, o);
  return pk__decode_free(m, rd, &f, 0, h);
}

#endif
