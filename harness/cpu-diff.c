/* cpu-diff.c - per-function share changes against a base profile given as folded stacks
 * (see cpu-diff.h). Shares, not counts: two runs of different length compare fairly.
 */
#include "cpu-diff.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export-formats.h"
#include "util.h"

char *cpu_diff_base_folded(const char *base, const char *out_dir, int *err)
{
  struct stat st;
  *err = 0;
  if (stat(base, &st) < 0) {
    *err = -errno;
    ps_error("cannot read the base profile '%s': %s", base, strerror(errno));
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    char *f = ps_xasprintf("%s/cpu.folded", base);
    if (stat(f, &st) < 0) {
      ps_error("the base folder '%s' has no cpu.folded; profile it with --cpu first", base);
      free(f);
      *err = -ENOENT;
      return NULL;
    }
    return f;
  }
  size_t n = strlen(base);
  if ((n > 4 && !strcmp(base + n - 4, ".pst")) || (n > 8 && !strcmp(base + n - 8, ".pst.zst"))) {
    struct cpu_profile *p;
    char *tr = (char *)base;
    int r = cpu_profile_load(&tr, 1, &p);
    if (r < 0) {
      *err = r;
      return NULL;
    }
    char *f = ps_xasprintf("%s/cpu-base.folded", out_dir ? out_dir : ".");
    r = export_folded_write(p, f);
    cpu_profile_free(p);
    if (r < 0) {
      *err = r;
      free(f);
      return NULL;
    }
    return f;
  }
  return ps_xstrdup(base);
}

struct diff_row {
  char *name;
  double bself, btotal, self, total;
};

struct diff_set {
  struct diff_row *rows;
  size_t n, cap;
};

static struct diff_row *diff_get(struct diff_set *s, const char *name, size_t len)
{
  for (size_t i = 0; i < s->n; i++)
    if (strlen(s->rows[i].name) == len && !strncmp(s->rows[i].name, name, len))
      return &s->rows[i];
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->rows = ps_xrealloc(s->rows, s->cap * sizeof *s->rows);
  }
  struct diff_row *r = &s->rows[s->n++];
  memset(r, 0, sizeof *r);
  r->name = ps_xmalloc(len + 1);
  memcpy(r->name, name, len);
  r->name[len] = 0;
  return r;
}

/* Adds a folded line's weight: self to its leaf, total once to each distinct frame. */
static void diff_add(struct diff_set *s, const char *line, size_t len, double w, int base)
{
  size_t start = 0;
  struct diff_row *seen[256];
  size_t nseen = 0;
  struct diff_row *leaf = NULL;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && line[i] != ';')
      continue;
    struct diff_row *r = diff_get(s, line + start, i - start);
    int dup = 0;
    for (size_t k = 0; k < nseen; k++)
      dup |= seen[k] == r;
    if (!dup) {
      if (nseen < 256)
        seen[nseen++] = r;
      if (base)
        r->btotal += w;
      else
        r->total += w;
    }
    leaf = r;
    start = i + 1;
  }
  if (leaf) {
    if (base)
      leaf->bself += w;
    else
      leaf->self += w;
  }
}

static int diff_cmp(const void *a, const void *b)
{
  const struct diff_row *x = a, *y = b;
  double dx = fabs(x->self - x->bself), dy = fabs(y->self - y->bself);
  if (dx != dy)
    return dx < dy ? 1 : -1;
  dx = fabs(x->total - x->btotal);
  dy = fabs(y->total - y->btotal);
  return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->name, y->name);
}

json_t *cpu_diff_functions(const struct cpu_profile *p, const char *base_folded, size_t n)
{
  char *data;
  size_t len;
  int r = ps_read_file(base_folded, &data, &len);
  if (r < 0) {
    ps_error("cannot read the base folded stacks '%s': %s", base_folded, strerror(-r));
    return NULL;
  }
  struct diff_set s = {0};
  double btot = 0;
  for (char *line = data, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    size_t l = next ? (size_t)(next - line) : strlen(line);
    if (next)
      next++;
    const char *sp = memrchr(line, ' ', l);
    if (!sp)
      continue;
    double w = strtod(sp + 1, NULL);
    btot += w;
    diff_add(&s, line, (size_t)(sp - line), w, 1);
  }
  free(data);
  double tot = 0;
  for (size_t i = 0; i < p->nstacks; i++) { /* the current profile, by function names */
    const struct cpu_stack *st = &p->stacks[i];
    size_t cap = 64, k = 0;
    char *line = ps_xmalloc(cap);
    for (uint32_t j = 0; j < st->n; j++) {
      const char *fn = p->frames[st->frames[j]].function;
      size_t fl = strlen(fn);
      if (k + fl + 2 > cap) {
        cap = (k + fl + 2) * 2;
        line = ps_xrealloc(line, cap);
      }
      if (j)
        line[k++] = ';';
      for (size_t c = 0; c < fl; c++) /* as in cpu.folded */
        line[k++] = fn[c] == ';' ? ':' : fn[c];
    }
    diff_add(&s, line, k, (double)st->weight, 0);
    tot += (double)st->weight;
    free(line);
  }
  for (size_t i = 0; i < s.n; i++) {
    s.rows[i].bself = btot > 0 ? s.rows[i].bself / btot : 0;
    s.rows[i].btotal = btot > 0 ? s.rows[i].btotal / btot : 0;
    s.rows[i].self = tot > 0 ? s.rows[i].self / tot : 0;
    s.rows[i].total = tot > 0 ? s.rows[i].total / tot : 0;
  }
  qsort(s.rows, s.n, sizeof *s.rows, diff_cmp);
  json_t *out = json_array();
  for (size_t i = 0; i < s.n; i++) {
    struct diff_row *d = &s.rows[i];
    if (i < n && (fabs(d->self - d->bself) >= 0.001 || fabs(d->total - d->btotal) >= 0.001)) {
      json_t *o = json_object();
      json_object_set_new(o, "function", json_string(d->name));
      json_object_set_new(o, "base_self_share", json_real(d->bself));
      json_object_set_new(o, "self_share", json_real(d->self));
      json_object_set_new(o, "self_delta", json_real(d->self - d->bself));
      json_object_set_new(o, "base_total_share", json_real(d->btotal));
      json_object_set_new(o, "total_share", json_real(d->total));
      json_object_set_new(o, "total_delta", json_real(d->total - d->btotal));
      json_array_append_new(out, o);
    }
    free(d->name);
  }
  free(s.rows);
  return out;
}
