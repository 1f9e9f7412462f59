/* fx-json.h - the small, allocation-free JSON reader of the hot path: a cursor over one
 * JSON-lines record that walks objects and arrays and reads integers and raw strings in
 * place. It validates syntax strictly (a truncated line is an error, never a guess) and
 * never allocates; jansson is kept out of the pipeline for speed.
 */
#ifndef PERFSWEEP_FX_JSON_H
#define PERFSWEEP_FX_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Results of the readers: OK, TYPE (valid JSON of another type: the value was skipped, the
 * cursor is usable), SYNTAX (malformed or truncated: the cursor is dead, see err/pos). */
enum { FX_J_OK = 0, FX_J_TYPE = 1, FX_J_SYNTAX = -1 };

struct fx_json {
  const char *p, *end, *begin;
  const char *err; /* static text describing the first syntax error, NULL if none */
};

/* Starts a cursor on s[0..n). Never fails. */
void fx_json_init(struct fx_json *j, const char *s, size_t n);
/* Column (1-based) of the cursor, for messages. */
size_t fx_json_column(const struct fx_json *j);

/* Enters an object: FX_J_OK, FX_J_TYPE (not an object; skipped) or FX_J_SYNTAX. */
int fx_json_object(struct fx_json *j);
/* Next member of the current object: 1 with key and klen set (raw, unescaped) and the cursor on
 * the value; 0 at the closing brace (consumed); FX_J_SYNTAX on error. */
int fx_json_member(struct fx_json *j, const char **key, size_t *klen);
/* Enters an array: FX_J_OK, FX_J_TYPE (skipped) or FX_J_SYNTAX. */
int fx_json_array(struct fx_json *j);
/* Next element of the current array: 1 with the cursor on it, 0 at ']' (consumed), or
 * FX_J_SYNTAX. */
int fx_json_element(struct fx_json *j);

/* Reads an integer (no fraction/exponent; otherwise FX_J_TYPE after skipping it). */
int fx_json_int(struct fx_json *j, int64_t *v);
/* Reads a string; s and n point at its raw bytes inside the input (escapes left as they are). */
int fx_json_string(struct fx_json *j, const char **s, size_t *n);
/* If the value is null, consumes it and returns 1; else returns 0 without moving. */
int fx_json_null(struct fx_json *j);
/* Skips any value, validating it. FX_J_OK or FX_J_SYNTAX. */
int fx_json_skip(struct fx_json *j);
/* After the top-level value: OK if only whitespace remains, else FX_J_SYNTAX. */
int fx_json_end(struct fx_json *j);

/* Convenience: key equals the NUL-terminated literal (with a literal argument the compiler
 * folds this into a length check and a fixed-size compare). */
static inline int fx_json_key_is(const char *key, size_t klen, const char *lit)
{
  size_t n = __builtin_strlen(lit);
  return klen == n && __builtin_memcmp(key, lit, n) == 0;
}

#endif
