/* trace-pack-decode.h - decodes one packed allocation or free (kinds PK_K_MALLOC, PK_K_ALLOCF,
 * PK_K_FREE, PK_K_FREEF) against the model without changing it, for the unpacker and for the
 * packer's per-record check. Internal to trace-pack*.c.
 */
#ifndef PERFSWEEP_TRACE_PACK_DECODE_H
#define PERFSWEEP_TRACE_PACK_DECODE_H

#include "trace-pack-model.h"

struct pk_decoded {
  int isnew;   /* allocation of a new info: h->size, h->stack still to be added */
  uint32_t id; /* allocation: its info (PK_NONE when new) */
  int li;      /* allocation: its index in the recently freed list, -1 when not from it */
};

/* Reads the record of kind (its kind byte already read) from the streams rd into h (ptr
 * absolute) and o. Returns NULL, or a phrase saying what is corrupt. m is not changed; a read
 * past a stream's end sets that stream's bad flag (the caller checks). */
const char *pk_decode_hot(const struct pk_model *m, struct pk_rd *rd, unsigned kind,
                          struct pk_hot *h, struct pk_decoded *o);

#endif
