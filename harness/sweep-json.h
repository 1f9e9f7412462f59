/* sweep-json.h - a fast JSON text writer for the sweep's per-run path (the run journal line and
 * results.json): the same text jansson's json_dumps writes (compact or JSON_INDENT(1)), except
 * that a real that is a whole number of nanoseconds (or coarser) is written with the fewest
 * decimals that name it exactly ("0.000745123" instead of "0.00074512300000000004"): the text
 * parses back to the same double. Never prints, never fails except by dying on exhaustion.
 */
#ifndef PERFSWEEP_SWEEP_JSON_H
#define PERFSWEEP_SWEEP_JSON_H

#include <jansson.h>
#include <stddef.h>

/* A growing text buffer; zero-initialise it, free p when done. p is NUL-terminated once
 * anything was written. */
struct ps_jbuf {
  char *p;
  size_t len, cap;
};

/* Appends v as JSON text: indent 0 = jansson's JSON_COMPACT, 1 = JSON_INDENT(1). */
void ps_jbuf_dump(struct ps_jbuf *b, const json_t *v, int indent);
/* The same, asking hook first about every array and object: when it returns 1 it has written
 * that value's text itself (at nesting depth `depth`, see ps_jbuf_newline), else 0. */
typedef int (*ps_jbuf_hook)(struct ps_jbuf *b, const json_t *v, int indent, size_t depth,
                            void *ctx);
void ps_jbuf_dump_hook(struct ps_jbuf *b, const json_t *v, int indent, ps_jbuf_hook hook,
                       void *ctx);
/* Appends n raw bytes. */
void ps_jbuf_put(struct ps_jbuf *b, const char *s, size_t n);
/* Appends a NUL-terminated string raw. */
void ps_jbuf_puts(struct ps_jbuf *b, const char *s);
/* Appends s[n] as a JSON string (quoted, escaped as jansson does). */
void ps_jbuf_string(struct ps_jbuf *b, const char *s, size_t n);
/* Appends an integer. */
void ps_jbuf_int(struct ps_jbuf *b, long long v);
/* Appends a real as ps_json_fmt_real writes it, or null when it is not finite (ps_json_num). */
void ps_jbuf_num(struct ps_jbuf *b, double x);
/* With indent: a newline and `depth` spaces (jansson's JSON_INDENT(1) layout); else nothing. */
void ps_jbuf_newline(struct ps_jbuf *b, int indent, size_t depth);

/* The text of a finite real into out (at least 32 bytes, NUL-terminated); returns its length.
 * Whole numbers below 2^53 as "<int>.0", multiples of 1e-9 below 1e6 with the fewest decimals,
 * values from 1e-7 to 1e16 in plain decimal with 15 or 16 significant digits when they name x
 * exactly, else its correctly rounded 17 (all exact: strtod gives x back), anything else as
 * jansson writes it ("%.17g", exponent without '+' and leading zeros, ".0" added to a bare
 * integer). */
size_t ps_json_fmt_real(char *out, double x);

/* Seconds as the real a count of nanoseconds names: ns / 1e9 correctly rounded, which
 * ps_json_fmt_real writes as the 9-decimal text of ns (exactly, shortest). */
static inline double ps_ns_to_s(long long ns) { return (double)ns / 1e9; }

#endif
