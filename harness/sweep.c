/* sweep.c - sweep matrix expansion, value ranges, placeholders, shell quoting, shards and the
 * seeded interleaved schedule. Pure logic; see sweep.h for the contracts.
 */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

#define MAX_VALUES 100000

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int parse_ll(const char *s, size_t len, long long *v)
{
  char buf[32];
  if (len == 0 || len >= sizeof(buf))
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  *v = strtoll(buf, &end, 10);
  return (errno || *end) ? -1 : 0;
}

static void push(char ***vals, size_t *n, char *v)
{
  *vals = ps_xrealloc(*vals, (*n + 1) * sizeof(char *));
  (*vals)[(*n)++] = v;
}

/* One list item: a plain value or a range. Returns 0 or -1 with err set. */
static int parse_item(const char *item, size_t len, char ***vals, size_t *n, char *err,
                      size_t errlen)
{
  const char *dots = NULL;
  for (size_t i = 0; i + 1 < len; i++)
    if (item[i] == '.' && item[i + 1] == '.') {
      dots = item + i;
      break;
    }
  if (!dots) {
    char *v = ps_xmalloc(len + 1);
    memcpy(v, item, len);
    v[len] = '\0';
    push(vals, n, v);
    return 0;
  }
  const char *hi_s = dots + 2, *end = item + len, *op = NULL;
  for (const char *p = hi_s; p < end; p++)
    if (*p == '*' || *p == '+')
      op = p;
  long long lo, hi, step = 1;
  int geometric = op && *op == '*';
  if (parse_ll(item, (size_t)(dots - item), &lo) ||
      parse_ll(hi_s, (size_t)((op ? op : end) - hi_s), &hi) ||
      (op && parse_ll(op + 1, (size_t)(end - op - 1), &step)))
    return seterr(err, errlen,
                  "'%.*s' is not a range; write LO..HI, LO..HI+STEP or LO..HI*FACTOR with "
                  "integers, e.g. 1..64*2",
                  (int)len, item);
  if (hi < lo)
    return seterr(err, errlen, "range '%.*s' is empty: its end is below its start", (int)len,
                  item);
  if ((geometric && (step < 2 || lo < 1)) || (!geometric && step < 1))
    return seterr(err, errlen,
                  "range '%.*s' never advances: use a step >= 1, or a factor >= 2 from a start >= 1",
                  (int)len, item);
  size_t count = 0;
  for (long long v = lo; v <= hi; v = geometric ? v * step : v + step) {
    if (++count > MAX_VALUES)
      return seterr(err, errlen, "range '%.*s' has more than %d values", (int)len, item,
                    MAX_VALUES);
    push(vals, n, ps_xasprintf("%lld", v));
    if ((geometric && v > hi / step) || (!geometric && v > hi - step))
      break;
  }
  return 0;
}

long ps_sweep_parse_values(const char *spec, char ***values, char *err, size_t errlen)
{
  *values = NULL;
  size_t n = 0;
  if (!spec || !*spec) {
    seterr(err, errlen, "the list of values is empty; give at least one value, e.g. 1,2,4");
    return -1;
  }
  const char *p = spec;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0) {
      seterr(err, errlen, "'%s' has an empty value (two commas or a comma at an end)", spec);
      goto fail;
    }
    if (parse_item(p, len, values, &n, err, errlen) < 0)
      goto fail;
    if (!comma)
      break;
    p = comma + 1;
  }
  return (long)n;
fail:
  for (size_t i = 0; i < n; i++)
    free((*values)[i]);
  free(*values);
  *values = NULL;
  return -1;
}

static int is_ident(const char *s, size_t len)
{
  if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
    return 0;
  for (size_t i = 1; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
      return 0;
  return 1;
}

const struct ps_axis *ps_sweep_axis(const struct ps_sweep *s, const char *name)
{
  for (size_t i = 0; i < s->naxes; i++)
    if (!strcmp(s->axes[i].name, name))
      return &s->axes[i];
  return NULL;
}

/* A new axis name must be an identifier not used yet. Returns 0 or -1 with err. */
static int check_new_axis(const struct ps_sweep *s, const char *name, char *err, size_t errlen)
{
  if (!is_ident(name, strlen(name)))
    return seterr(err, errlen,
                  "'%s' is not a valid parameter name; use letters, digits and _, e.g. batch",
                  name);
  if (ps_sweep_axis(s, name))
    return seterr(err, errlen, "parameter '%s' is given twice; give all its values at once",
                  name);
  return 0;
}

int ps_sweep_add_axis(struct ps_sweep *s, const char *name, enum ps_axis_kind kind,
                      const char *spec, char *err, size_t errlen)
{
  if (check_new_axis(s, name, err, errlen) < 0)
    return -1;
  char **vals;
  char sub[512];
  long n = ps_sweep_parse_values(spec, &vals, sub, sizeof(sub));
  if (n < 0)
    return seterr(err, errlen, "parameter '%s': %s", name, sub);
  s->axes = ps_xrealloc(s->axes, (s->naxes + 1) * sizeof(*s->axes));
  s->axes[s->naxes++] = (struct ps_axis){ps_xstrdup(name), kind, vals, (size_t)n};
  return 0;
}

int ps_sweep_add_axis_values(struct ps_sweep *s, const char *name, enum ps_axis_kind kind,
                             char *const *values, size_t n, char *err, size_t errlen)
{
  if (check_new_axis(s, name, err, errlen) < 0)
    return -1;
  if (!n)
    return seterr(err, errlen, "parameter '%s' has no values; give at least one", name);
  char **vals = ps_xcalloc(n, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    vals[i] = ps_xstrdup(values[i]);
  s->axes = ps_xrealloc(s->axes, (s->naxes + 1) * sizeof(*s->axes));
  s->axes[s->naxes++] = (struct ps_axis){ps_xstrdup(name), kind, vals, n};
  return 0;
}

void ps_sweep_release(struct ps_sweep *s)
{
  for (size_t i = 0; i < s->naxes; i++) {
    for (size_t j = 0; j < s->axes[i].nvalues; j++)
      free(s->axes[i].values[j]);
    free(s->axes[i].values);
    free(s->axes[i].name);
  }
  free(s->axes);
  s->axes = NULL;
  s->naxes = 0;
}

size_t ps_sweep_ncells(const struct ps_sweep *s)
{
  size_t n = 1;
  for (size_t i = 0; i < s->naxes; i++)
    n *= s->axes[i].nvalues;
  return n;
}

const char *ps_sweep_value(const struct ps_sweep *s, size_t cell, size_t a)
{
  size_t stride = 1;
  for (size_t i = s->naxes; i-- > a + 1;)
    stride *= s->axes[i].nvalues;
  return s->axes[a].values[(cell / stride) % s->axes[a].nvalues];
}

char *ps_sweep_cell_id(const struct ps_sweep *s, size_t cell)
{
  if (!s->naxes)
    return ps_xstrdup("default");
  char *id = ps_xstrdup("");
  for (size_t a = 0; a < s->naxes; a++) {
    char *next = ps_xasprintf("%s%s%s=%s", id, a ? "," : "", s->axes[a].name,
                              ps_sweep_value(s, cell, a));
    free(id);
    id = next;
  }
  return id;
}

/* Finds the placeholder at p ('{'): sets *len to its full length when it is {ident}. */
static int placeholder_at(const char *p, size_t *len)
{
  if (p[0] != '{')
    return 0;
  const char *close = strchr(p + 1, '}');
  if (!close || !is_ident(p + 1, (size_t)(close - p - 1)))
    return 0;
  *len = (size_t)(close - p + 1);
  return 1;
}

int ps_sweep_check_placeholders(const struct ps_sweep *s, char *const *words, size_t nwords,
                                char *err, size_t errlen)
{
  for (size_t w = 0; w < nwords; w++) {
    for (const char *p = words[w]; *p; p++) {
      size_t len;
      if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
        p++;
        continue;
      }
      if (!placeholder_at(p, &len))
        continue;
      char name[256];
      snprintf(name, sizeof(name), "%.*s", (int)(len - 2), p + 1);
      if (!ps_sweep_axis(s, name)) {
        char known[1024] = "";
        for (size_t a = 0; a < s->naxes; a++)
          snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s{%s}",
                   a ? ", " : "", s->axes[a].name);
        return seterr(err, errlen,
                      "the command uses the placeholder {%s} but no parameter '%s' is swept "
                      "(known: %s); add --param %s=VALUES or fix the name",
                      name, name, *known ? known : "none", name);
      }
      p += len - 1;
    }
  }
  return 0;
}

char *ps_shell_quote(const char *value)
{
  size_t n = 2;
  for (const char *p = value; *p; p++)
    n += *p == '\'' ? 4 : 1;
  char *q = ps_xmalloc(n + 1), *o = q;
  *o++ = '\'';
  for (const char *p = value; *p; p++) {
    if (*p == '\'') {
      memcpy(o, "'\\''", 4);
      o += 4;
    } else {
      *o++ = *p;
    }
  }
  *o++ = '\'';
  *o = '\0';
  return q;
}

char *ps_sweep_expand(const struct ps_sweep *s, size_t cell, const char *word, int quote)
{
  size_t cap = strlen(word) + 64, n = 0;
  char *out = ps_xmalloc(cap);
  for (const char *p = word; *p;) {
    const char *add = NULL;
    char *owned = NULL;
    size_t addlen = 0, skip = 1;
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      add = p;
      addlen = 1;
      skip = 2;
    } else if (placeholder_at(p, &skip)) {
      char name[256];
      snprintf(name, sizeof(name), "%.*s", (int)(skip - 2), p + 1);
      const struct ps_axis *ax = ps_sweep_axis(s, name);
      if (ax) {
        const char *v = ps_sweep_value(s, cell, (size_t)(ax - s->axes));
        add = owned = quote ? ps_shell_quote(v) : ps_xstrdup(v);
        addlen = strlen(add);
      } else {
        add = p;
        addlen = skip;
      }
    } else {
      add = p;
      addlen = 1;
    }
    if (n + addlen + 1 > cap) {
      cap = (n + addlen + 1) * 2;
      out = ps_xrealloc(out, cap);
    }
    memcpy(out + n, add, addlen);
    n += addlen;
    free(owned);
    p += skip;
  }
  out[n] = '\0';
  return out;
}

int ps_shard_parse(const char *spec, unsigned *k, unsigned *n, char *err, size_t errlen)
{
  unsigned a, b;
  char tail;
  if (!spec || sscanf(spec, "%u/%u%c", &a, &b, &tail) != 2 || b < 1 || a < 1 || a > b)
    return seterr(err, errlen,
                  "--shard '%s' is not K/N with 1 <= K <= N; e.g. --shard 2/4 runs the second "
                  "of four shards",
                  spec ? spec : "");
  *k = a;
  *n = b;
  return 0;
}

void ps_sweep_round_order(const size_t *cells, size_t ncells, unsigned round, uint64_t seed,
                          size_t *order)
{
  struct ps_rng rng;
  ps_rng_seed(&rng, seed * 0x9E3779B97F4A7C15ULL + round + 1);
  memcpy(order, cells, ncells * sizeof(size_t));
  ps_rng_shuffle(&rng, order, ncells, sizeof(size_t));
}

size_t ps_sweep_schedule(const size_t *cells, size_t ncells, unsigned warmup, unsigned runs,
                         uint64_t seed, struct ps_slot **out)
{
  unsigned rounds = warmup + runs;
  size_t total = (size_t)rounds * ncells, k = 0;
  *out = ps_xmalloc((total ? total : 1) * sizeof(**out));
  size_t *order = ps_xmalloc((ncells ? ncells : 1) * sizeof(size_t));
  for (unsigned r = 0; r < rounds; r++) {
    ps_sweep_round_order(cells, ncells, r, seed, order);
    for (size_t i = 0; i < ncells; i++)
      (*out)[k++] = (struct ps_slot){order[i], r, r < warmup};
  }
  free(order);
  return total;
}
