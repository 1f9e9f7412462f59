/* fx-buf.h - a growable byte buffer with the few writers the generator and the sinks need:
 * literal text, decimal integers, quoted timestamps and prices. Integer formatting is done by
 * hand (no printf, no locale), so output bytes never depend on the machine.
 */
#ifndef PERFSWEEP_FX_BUF_H
#define PERFSWEEP_FX_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "fx-rows.h"

struct fx_buf { char *data; size_t len, cap; };

/* Makes room for n more bytes; aborts the program with exit 4 and a message when memory is
 * exhausted (the workload cannot continue without it). */
void fx_buf_reserve(struct fx_buf *b, size_t n);
void fx_buf_free(struct fx_buf *b); /* accepts an empty buffer */
void fx_buf_mem(struct fx_buf *b, const char *s, size_t n);
void fx_buf_str(struct fx_buf *b, const char *s);
void fx_buf_i64(struct fx_buf *b, int64_t v);
void fx_buf_time(struct fx_buf *b, fx_time t);      /* "2026-01-01T00:00:00Z" with quotes */
void fx_buf_price(struct fx_buf *b, int64_t cents); /* "19.99" with quotes */

static inline void fx_buf_ch(struct fx_buf *b, char c)
{
  if (b->len + 1 > b->cap)
    fx_buf_reserve(b, 1);
  b->data[b->len++] = c;
}

/* Writes v in decimal into out (at least 21 bytes); returns the length. */
size_t fx_fmt_i64(char *out, int64_t v);

#endif
