/* fx-json.c - the allocation-free JSON-lines cursor (see fx-json.h). Strict RFC 8259 syntax
 * for what it reads; strings are validated (escapes, control bytes) but not unescaped.
 * It must never read past the end of the line it was given.
 */
#include "fx-json.h"

#define FX_JSON_MAX_DEPTH 64

void fx_json_init(struct fx_json *j, const char *s, size_t n)
{
  j->p = j->begin = s;
  j->end = s + n;
  j->err = NULL;
}

size_t fx_json_column(const struct fx_json *j) { return (size_t)(j->p - j->begin) + 1; }

static int fail(struct fx_json *j, const char *why)
{
  if (!j->err)
    j->err = why;
  return FX_J_SYNTAX;
}

static inline void ws(struct fx_json *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static inline int peek(struct fx_json *j)
{
  ws(j);
  return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int hexval(int c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int fx_json_string(struct fx_json *j, const char **s, size_t *n)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: a value is missing");
  if (c != '"')
    return fx_json_skip(j) == FX_J_OK ? FX_J_TYPE : FX_J_SYNTAX;
  const char *q = ++j->p;
  while (q < j->end) {
    unsigned char ch = (unsigned char)*q;
    if (ch == '"') {
      *s = j->p;
      *n = (size_t)(q - j->p);
      j->p = q + 1;
      return FX_J_OK;
    }
    if (ch < 0x20) {
      j->p = q;
      return fail(j, "control character inside a string");
    }
    if (ch == '\\') {
      if (q + 1 >= j->end)
        break;
      char e = q[1];
      if (e == 'u') {
        if (q + 5 >= j->end)
          break;
        for (int i = 2; i < 6; i++)
          if (!hexval(q[i])) {
            j->p = q;
            return fail(j, "bad \\u escape in a string");
          }
        q += 6;
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        j->p = q;
        return fail(j, "bad escape in a string");
      }
      q += 2;
      continue;
    }
    q++;
  }
  j->p = j->end;
  return fail(j, "truncated: unterminated string");
}

/* Scans a number; sets *is_int when it has no fraction or exponent. */
static int number(struct fx_json *j, int64_t *v, int *is_int)
{
  const char *q = j->p;
  int neg = 0;
  uint64_t acc = 0;
  int overflow = 0;
  if (q < j->end && *q == '-') {
    neg = 1;
    q++;
  }
  if (q >= j->end || *q < '0' || *q > '9')
    return fail(j, q >= j->end ? "truncated: number cut off" : "bad number");
  if (*q == '0' && q + 1 < j->end && q[1] >= '0' && q[1] <= '9')
    return fail(j, "number with a leading zero");
  while (q < j->end && *q >= '0' && *q <= '9') {
    if (acc > (UINT64_MAX - 9) / 10)
      overflow = 1;
    acc = acc * 10 + (uint64_t)(*q - '0');
    q++;
  }
  *is_int = 1;
  if (q < j->end && *q == '.') {
    *is_int = 0;
    q++;
    if (q >= j->end || *q < '0' || *q > '9')
      return fail(j, "bad fraction in a number");
    while (q < j->end && *q >= '0' && *q <= '9')
      q++;
  }
  if (q < j->end && (*q == 'e' || *q == 'E')) {
    *is_int = 0;
    q++;
    if (q < j->end && (*q == '+' || *q == '-'))
      q++;
    if (q >= j->end || *q < '0' || *q > '9')
      return fail(j, "bad exponent in a number");
    while (q < j->end && *q >= '0' && *q <= '9')
      q++;
  }
  j->p = q;
  if (overflow || acc > (uint64_t)INT64_MAX)
    *is_int = 0;
  else
    *v = neg ? -(int64_t)acc : (int64_t)acc;
  return FX_J_OK;
}

int fx_json_int(struct fx_json *j, int64_t *v)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: a value is missing");
  if (c != '-' && (c < '0' || c > '9'))
    return fx_json_skip(j) == FX_J_OK ? FX_J_TYPE : FX_J_SYNTAX;
  int is_int;
  if (number(j, v, &is_int) != FX_J_OK)
    return FX_J_SYNTAX;
  return is_int ? FX_J_OK : FX_J_TYPE;
}

static int literal(struct fx_json *j, const char *lit, size_t n)
{
  if ((size_t)(j->end - j->p) < n) {
    for (size_t i = 0; j->p + i < j->end; i++)
      if (j->p[i] != lit[i])
        return fail(j, "bad literal");
    j->p = j->end;
    return fail(j, "truncated: literal cut off");
  }
  for (size_t i = 0; i < n; i++)
    if (j->p[i] != lit[i])
      return fail(j, "unexpected character");
  j->p += n;
  return FX_J_OK;
}

int fx_json_null(struct fx_json *j)
{
  if (peek(j) == 'n' && j->end - j->p >= 4 && j->p[1] == 'u' && j->p[2] == 'l' && j->p[3] == 'l') {
    j->p += 4;
    return 1;
  }
  return 0;
}

int fx_json_object(struct fx_json *j)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: a value is missing");
  if (c != '{')
    return fx_json_skip(j) == FX_J_OK ? FX_J_TYPE : FX_J_SYNTAX;
  j->p++;
  /* a leading marker so fx_json_member knows no comma is due yet */
  return FX_J_OK;
}

int fx_json_member(struct fx_json *j, const char **key, size_t *klen)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: object not closed");
  if (c == '}') {
    j->p++;
    return 0;
  }
  if (c == ',') {
    /* a comma is only valid after a member: the previous char (ignoring ws) is not '{' */
    const char *b = j->p - 1;
    while (b > j->begin && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
      b--;
    if (*b == '{' || *b == ',')
      return fail(j, "unexpected comma in an object");
    j->p++;
    c = peek(j);
    if (c < 0)
      return fail(j, "truncated: object not closed");
    if (c != '"')
      return fail(j, "expected a member name after a comma");
  } else {
    const char *b = j->p - 1;
    while (b > j->begin && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
      b--;
    if (*b != '{')
      return fail(j, "expected a comma or '}' in an object");
    if (c != '"')
      return fail(j, "expected a member name");
  }
  if (fx_json_string(j, key, klen) != FX_J_OK)
    return FX_J_SYNTAX;
  c = peek(j);
  if (c != ':')
    return fail(j, c < 0 ? "truncated: member without a value" : "expected ':'");
  j->p++;
  if (peek(j) < 0)
    return fail(j, "truncated: member without a value");
  return 1;
}

int fx_json_array(struct fx_json *j)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: a value is missing");
  if (c != '[')
    return fx_json_skip(j) == FX_J_OK ? FX_J_TYPE : FX_J_SYNTAX;
  j->p++;
  return FX_J_OK;
}

int fx_json_element(struct fx_json *j)
{
  int c = peek(j);
  if (c < 0)
    return fail(j, "truncated: array not closed");
  const char *b = j->p - 1;
  while (b > j->begin && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
    b--;
  int first = *b == '[';
  if (c == ']') {
    if (!first && *b == ',')
      return fail(j, "trailing comma in an array");
    j->p++;
    return 0;
  }
  if (first)
    return 1;
  if (c != ',')
    return fail(j, "expected a comma or ']' in an array");
  j->p++;
  c = peek(j);
  if (c < 0)
    return fail(j, "truncated: array not closed");
  if (c == ']' || c == ',')
    return fail(j, "missing array element");
  return 1;
}

static int skip_depth(struct fx_json *j, int depth)
{
  if (depth > FX_JSON_MAX_DEPTH)
    return fail(j, "nested too deeply");
  int c = peek(j);
  const char *s;
  size_t n;
  int64_t v;
  int is_int, r;
  switch (c) {
  case -1:
    return fail(j, "truncated: a value is missing");
  case '"':
    return fx_json_string(j, &s, &n) == FX_J_OK ? FX_J_OK : FX_J_SYNTAX;
  case '{':
    j->p++;
    while ((r = fx_json_member(j, &s, &n)) == 1)
      if (skip_depth(j, depth + 1) != FX_J_OK)
        return FX_J_SYNTAX;
    return r == 0 ? FX_J_OK : FX_J_SYNTAX;
  case '[':
    j->p++;
    while ((r = fx_json_element(j)) == 1)
      if (skip_depth(j, depth + 1) != FX_J_OK)
        return FX_J_SYNTAX;
    return r == 0 ? FX_J_OK : FX_J_SYNTAX;
  case 't':
    return literal(j, "true", 4);
  case 'f':
    return literal(j, "false", 5);
  case 'n':
    return literal(j, "null", 4);
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return number(j, &v, &is_int);
    return fail(j, "unexpected character");
  }
}

int fx_json_skip(struct fx_json *j) { return skip_depth(j, 0); }

int fx_json_end(struct fx_json *j)
{
  if (j->err)
    return FX_J_SYNTAX;
  return peek(j) < 0 ? FX_J_OK : fail(j, "extra characters after the record");
}
