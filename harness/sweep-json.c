/* sweep-json.c - a JSON writer over jansson values that formats numbers by hand: a sweep writes
 * every run twice (journal line, results.json), and jansson's "%.17g" per real was the largest
 * part of perfsweep's own CPU per run. Output equals json_dumps byte for byte except for reals
 * that are exact multiples of 1e-9, or from 1e-7 to 1e16, written in plain decimal with 15 to 17
 * significant digits (never fewer than name them exactly: the same double when read back).
 */
#include "sweep-json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void grow(struct ps_jbuf *b, size_t more)
{
  if (b->len + more + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  b->p = ps_xrealloc(b->p, cap);
  b->cap = cap;
}

void ps_jbuf_put(struct ps_jbuf *b, const char *s, size_t n)
{
  grow(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static inline void put_c(struct ps_jbuf *b, char c)
{
  grow(b, 1);
  b->p[b->len++] = c;
  b->p[b->len] = '\0';
}

/* Decimal digits of v into out (no NUL); returns the count. */
static size_t utoa(char *out, uint64_t v)
{
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

/* jansson's real text (jsonp_dtostr with precision 17). */
static size_t fmt_like_jansson(char *out, double x)
{
  int len = snprintf(out, 32, "%.17g", x);
  if (len < 0 || len >= 32)
    return 0;
  for (char *c = out; *c; c++)
    if (*c == ',') /* a locale's decimal comma */
      *c = '.';
  if (!strchr(out, '.') && !strchr(out, 'e')) {
    out[len++] = '.';
    out[len++] = '0';
    out[len] = '\0';
  }
  char *e = strchr(out, 'e');
  if (e) { /* no '+' nor leading zeros in the exponent */
    char *start = e + 1, *end = start + 1;
    if (*start == '-')
      start++;
    while (*end == '0')
      end++;
    if (end != start) {
      memmove(start, end, (size_t)len - (size_t)(end - out) + 1);
      len -= (int)(end - start);
    }
  }
  return (size_t)len;
}

/* The text of k / 10^p (p >= 1), fraction zeros dropped, into out; returns its length. */
static size_t fmt_scaled(char *out, int neg, uint64_t k, int p)
{
  char d[24];
  size_t n = utoa(d, k);
  while (p > 0 && n > 1 && d[n - 1] == '0') {
    n--;
    p--;
  }
  char *o = out;
  if (neg)
    *o++ = '-';
  if (p == 0) {
    memcpy(o, d, n);
    o += n;
    *o++ = '.';
    *o++ = '0';
  } else if ((size_t)p >= n) {
    *o++ = '0';
    *o++ = '.';
    for (size_t i = n; i < (size_t)p; i++)
      *o++ = '0';
    memcpy(o, d, n);
    o += n;
  } else {
    memcpy(o, d, n - (size_t)p);
    o += n - (size_t)p;
    *o++ = '.';
    memcpy(o, d + n - (size_t)p, (size_t)p);
    o += p;
  }
  *o = '\0';
  return (size_t)(o - out);
}

/* 10^q for 0 <= q <= 22 as a 128-bit integer. */
static unsigned __int128 pow10_u128(int q)
{
  unsigned __int128 r = 1;
  for (int i = 0; i < q; i++)
    r *= 10;
  return r;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

size_t ps_json_fmt_real(char *out, double x)
{
  double a = fabs(x);
  char *p = out;
  if (a < 9007199254740992.0 && a == floor(a)) {
    if (signbit(x))
      *p++ = '-';
    p += utoa(p, (uint64_t)a);
    memcpy(p, ".0", 3);
    return (size_t)(p - out) + 2;
  }
  if (a < 1e6 && a >= 1e-9) {
    /* a == the double nearest k / 1e9 for some integer k? Then k/1e9 in decimal reads back as a
     * (strtod and this division both round the same exact quotient to nearest). */
    uint64_t k = (uint64_t)(a * 1e9 + 0.5);
    if ((double)k / 1e9 == a) {
      if (x < 0)
        *p++ = '-';
      p += utoa(p, k / 1000000000u);
      *p++ = '.';
      uint32_t frac = (uint32_t)(k % 1000000000u);
      char d[9];
      for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + frac % 10);
        frac /= 10;
      }
      int n = 9;
      while (n > 1 && d[n - 1] == '0')
        n--;
      memcpy(p, d, (size_t)n);
      p += n;
      *p = '\0';
      return (size_t)(p - out);
    }
  }
  if (a >= 1e-7 && a < 1e16) {
    /* 15 or 16 significant digits k when a == the double nearest k / 10^p: k and 10^p are
     * exact (k < 2^53, p <= 22), so that division and strtod round the same quotient to the
     * same double. k is found by one rounded product and then checked, never trusted. */
    int e = (int)floor(log10(a));
    for (int digits = 15; digits <= 16; digits++) {
      int q = digits - 1 - e;
      if (q < 1 || q > 22)
        continue;
      double scaled = a * pow10_exact[q];
      if (!(scaled < 9007199254740992.0))
        break;
      uint64_t k = (uint64_t)(scaled + 0.5);
      if ((double)k / pow10_exact[q] == a)
        return fmt_scaled(out, x < 0, k, q);
    }
    /* else 17 digits, computed exactly: a = m 2^-s, so a 10^q = m 10^q / 2^s in 128-bit
     * integers, rounded half to even: the correctly rounded 17-digit decimal, which always reads
     * back as a (what printf's %.17g computes, without its multi-precision code) */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int sh = 1075 - (int)((bits >> 52) & 0x7ff);
    for (int q = 16 - e; q >= 1 && q <= 22 && sh >= 1 && sh < 128; q++) {
      unsigned __int128 t = (unsigned __int128)m * pow10_u128(q);
      unsigned __int128 d = t >> sh, rem = t & (((unsigned __int128)1 << sh) - 1);
      unsigned __int128 half = (unsigned __int128)1 << (sh - 1);
      if (rem > half || (rem == half && (d & 1)))
        d++;
      if (d < (unsigned __int128)10000000000000000ULL)
        continue; /* fewer than 17 digits (log10 rounded up): one more */
      if (d >= (unsigned __int128)UINT64_MAX)
        break;
      return fmt_scaled(out, x < 0, (uint64_t)d, q);
    }
  }
  return fmt_like_jansson(out, x);
}

void ps_jbuf_puts(struct ps_jbuf *b, const char *s) { ps_jbuf_put(b, s, strlen(s)); }

void ps_jbuf_string(struct ps_jbuf *b, const char *s, size_t n)
{
  grow(b, n + 2);
  b->p[b->len++] = '"';
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    ps_jbuf_put(b, s + run, i - run);
    char esc[8];
    const char *t = NULL;
    switch (c) {
    case '"': t = "\\\""; break;
    case '\\': t = "\\\\"; break;
    case '\b': t = "\\b"; break;
    case '\f': t = "\\f"; break;
    case '\n': t = "\\n"; break;
    case '\r': t = "\\r"; break;
    case '\t': t = "\\t"; break;
    default:
      snprintf(esc, sizeof esc, "\\u%04X", (unsigned)c);
      t = esc;
    }
    ps_jbuf_put(b, t, strlen(t));
    run = i + 1;
  }
  ps_jbuf_put(b, s + run, n - run);
  put_c(b, '"');
}

void ps_jbuf_newline(struct ps_jbuf *b, int indent, size_t depth)
{
  if (!indent)
    return;
  grow(b, depth + 1);
  b->p[b->len++] = '\n';
  memset(b->p + b->len, ' ', depth);
  b->len += depth;
  b->p[b->len] = '\0';
}

void ps_jbuf_int(struct ps_jbuf *b, long long i)
{
  char num[24];
  size_t n = 0;
  if (i < 0)
    num[n++] = '-';
  n += utoa(num + n, i < 0 ? -(uint64_t)i : (uint64_t)i);
  ps_jbuf_put(b, num, n);
}

void ps_jbuf_num(struct ps_jbuf *b, double x)
{
  char num[32];
  if (isfinite(x))
    ps_jbuf_put(b, num, ps_json_fmt_real(num, x));
  else
    ps_jbuf_put(b, "null", 4);
}

struct hook {
  ps_jbuf_hook fn;
  void *ctx;
};

static void dump(struct ps_jbuf *b, const json_t *v, int indent, size_t depth,
                 const struct hook *h)
{
  if (h->fn && (json_is_array(v) || json_is_object(v)) && h->fn(b, v, indent, depth, h->ctx))
    return;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    void *it = json_object_iter((json_t *)v);
    if (!it) {
      ps_jbuf_put(b, "{}", 2);
      return;
    }
    put_c(b, '{');
    ps_jbuf_newline(b, indent, depth + 1);
    while (it) {
      const char *key = json_object_iter_key(it);
      ps_jbuf_string(b, key, strlen(key));
      ps_jbuf_put(b, indent ? ": " : ":", indent ? 2 : 1);
      dump(b, json_object_iter_value(it), indent, depth + 1, h);
      it = json_object_iter_next((json_t *)v, it);
      if (it) {
        put_c(b, ',');
        ps_jbuf_newline(b, indent, depth + 1);
      }
    }
    ps_jbuf_newline(b, indent, depth);
    put_c(b, '}');
    return;
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(v);
    if (!n) {
      ps_jbuf_put(b, "[]", 2);
      return;
    }
    put_c(b, '[');
    ps_jbuf_newline(b, indent, depth + 1);
    for (size_t i = 0; i < n; i++) {
      dump(b, json_array_get(v, i), indent, depth + 1, h);
      if (i + 1 < n) {
        put_c(b, ',');
        ps_jbuf_newline(b, indent, depth + 1);
      }
    }
    ps_jbuf_newline(b, indent, depth);
    put_c(b, ']');
    return;
  }
  case JSON_STRING:
    ps_jbuf_string(b, json_string_value(v), json_string_length(v));
    return;
  case JSON_INTEGER:
    ps_jbuf_int(b, json_integer_value(v));
    return;
  case JSON_REAL:
    ps_jbuf_num(b, json_real_value(v));
    return;
  case JSON_TRUE:
    ps_jbuf_put(b, "true", 4);
    return;
  case JSON_FALSE:
    ps_jbuf_put(b, "false", 5);
    return;
  case JSON_NULL:
    ps_jbuf_put(b, "null", 4);
    return;
  }
}

void ps_jbuf_dump(struct ps_jbuf *b, const json_t *v, int indent)
{
  struct hook h = {NULL, NULL};
  if (v)
    dump(b, v, indent ? 1 : 0, 0, &h);
}

void ps_jbuf_dump_hook(struct ps_jbuf *b, const json_t *v, int indent, ps_jbuf_hook hook,
                       void *ctx)
{
  struct hook h = {hook, ctx};
  if (v)
    dump(b, v, indent ? 1 : 0, 0, &h);
}
