/* fx-buf.c - growable buffer and locale-free number formatting (see fx-buf.h). */
#include "fx-buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-time.h"

void fx_buf_reserve(struct fx_buf *b, size_t n)
{
  if (b->len + n <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + n)
    cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) {
    fprintf(stderr, "perfsweep-features: error: out of memory growing a buffer to %zu bytes; "
                    "use a smaller --scale\n", cap);
    exit(PS_EXIT_ENVIRONMENT);
  }
  b->data = d;
  b->cap = cap;
}

void fx_buf_free(struct fx_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void fx_buf_mem(struct fx_buf *b, const char *s, size_t n)
{
  fx_buf_reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

void fx_buf_str(struct fx_buf *b, const char *s) { fx_buf_mem(b, s, strlen(s)); }

size_t fx_fmt_i64(char *out, int64_t v)
{
  char tmp[24];
  size_t n = 0, o = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    out[o++] = '-';
  while (n)
    out[o++] = tmp[--n];
  return o;
}

void fx_buf_i64(struct fx_buf *b, int64_t v)
{
  fx_buf_reserve(b, 24);
  b->len += fx_fmt_i64(b->data + b->len, v);
}

void fx_buf_time(struct fx_buf *b, fx_time t)
{
  char s[21];
  fx_time_format(t, s);
  fx_buf_reserve(b, 22);
  b->data[b->len++] = '"';
  memcpy(b->data + b->len, s, 20);
  b->len += 20;
  b->data[b->len++] = '"';
}

void fx_buf_price(struct fx_buf *b, int64_t cents)
{
  fx_buf_ch(b, '"');
  fx_buf_i64(b, cents / 100);
  fx_buf_ch(b, '.');
  fx_buf_ch(b, (char)('0' + cents % 100 / 10));
  fx_buf_ch(b, (char)('0' + cents % 10));
  fx_buf_ch(b, '"');
}
