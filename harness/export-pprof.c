/* export-pprof.c - pprof's profile.proto (github.com/google/pprof/proto/profile.proto), encoded
 * by hand (protobuf wire format: varints and length-delimited fields) and gzip-compressed with
 * zlib, as `pprof` and Grafana Pyroscope read it. One Location and one Function per frame.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export-formats.h"
#include "export-write.h"
#include "util.h"

/* ---- protobuf writer ---------------------------------------------------------------------- */
struct pb {
  unsigned char *d;
  size_t n, cap;
};

static void pb_bytes(struct pb *b, const void *p, size_t n)
{
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->d = ps_xrealloc(b->d, b->cap);
  }
  memcpy(b->d + b->n, p, n);
  b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
  unsigned char tmp[10];
  size_t k = 0;
  while (v >= 0x80) {
    tmp[k++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  tmp[k++] = (unsigned char)v;
  pb_bytes(b, tmp, k);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
  if (!v)
    return; /* proto3: zero is the default, not written */
  pb_varint(b, (uint64_t)field << 3);
  pb_varint(b, v);
}

static void pb_len(struct pb *b, unsigned field, const void *p, size_t n)
{
  pb_varint(b, ((uint64_t)field << 3) | 2);
  pb_varint(b, n);
  pb_bytes(b, p, n);
}

static void pb_msg(struct pb *b, unsigned field, struct pb *m)
{
  pb_len(b, field, m->d, m->n);
  m->n = 0;
}

/* ---- string table ------------------------------------------------------------------------- */
struct pb_strings {
  json_t *ix; /* string -> index */
  struct pb *out;
  int64_t n;
};

static int64_t pb_str(struct pb_strings *s, const char *str)
{
  if (!str)
    str = "";
  json_t *v = json_object_get(s->ix, str);
  if (v)
    return json_integer_value(v);
  json_object_set_new(s->ix, str, json_integer(s->n));
  pb_len(s->out, 6, str, strlen(str));
  return s->n++;
}

int export_pprof_encode(const struct cpu_profile *p, unsigned char **out, size_t *len)
{
  struct pb prof = {0}, strtab = {0}, m = {0}, sub = {0}, packed = {0};
  struct pb_strings S = {json_object(), &strtab, 0};
  pb_str(&S, "");
  uint64_t period = p->frequency ? 1000000000ull / p->frequency : 1001001;
  /* sample_type: samples/count, cpu/nanoseconds */
  pb_uint(&m, 1, (uint64_t)pb_str(&S, "samples"));
  pb_uint(&m, 2, (uint64_t)pb_str(&S, "count"));
  pb_msg(&prof, 1, &m);
  pb_uint(&m, 1, (uint64_t)pb_str(&S, p->mode == 3 ? "wall" : "cpu"));
  pb_uint(&m, 2, (uint64_t)pb_str(&S, "nanoseconds"));
  pb_msg(&prof, 1, &m);
  int64_t k_thread = pb_str(&S, "thread");
  for (size_t i = 0; i < p->nstacks; i++) {
    const struct cpu_stack *s = &p->stacks[i];
    for (uint32_t k = s->n; k-- > 0;) /* leaf first */
      pb_varint(&packed, (uint64_t)s->frames[k] + 1);
    pb_msg(&m, 1, &packed);
    pb_varint(&packed, s->weight);
    pb_varint(&packed, s->weight * period);
    pb_msg(&m, 2, &packed);
    const struct cpu_pthread *th = &p->threads[s->thread];
    char *tn = ps_xasprintf("%s (tid %u)", th->name[0] ? th->name : "thread", th->tid);
    pb_uint(&sub, 1, (uint64_t)k_thread);
    pb_uint(&sub, 2, (uint64_t)pb_str(&S, tn));
    free(tn);
    pb_msg(&m, 3, &sub);
    pb_msg(&prof, 2, &m);
  }
  for (size_t i = 0; i < p->nframes; i++) { /* location i+1 -> function i+1 */
    pb_uint(&m, 1, i + 1);
    pb_uint(&sub, 1, i + 1);
    pb_uint(&sub, 2, (uint64_t)(p->frames[i].line > 0 ? p->frames[i].line : 0));
    pb_msg(&m, 4, &sub);
    pb_msg(&prof, 4, &m);
  }
  for (size_t i = 0; i < p->nframes; i++) {
    const struct cpu_frame *f = &p->frames[i];
    pb_uint(&m, 1, i + 1);
    pb_uint(&m, 2, (uint64_t)pb_str(&S, f->function));
    pb_uint(&m, 3, (uint64_t)pb_str(&S, f->function));
    pb_uint(&m, 4, (uint64_t)pb_str(&S, f->file ? f->file : f->module));
    pb_msg(&prof, 5, &m);
  }
  pb_uint(&prof, 12, period);
  /* period_type: cpu/nanoseconds (its strings are already in the table) */
  pb_uint(&m, 1, (uint64_t)pb_str(&S, p->mode == 3 ? "wall" : "cpu"));
  pb_uint(&m, 2, (uint64_t)pb_str(&S, "nanoseconds"));
  pb_msg(&prof, 11, &m);
  pb_bytes(&prof, strtab.d, strtab.n); /* field 6, encoded in index order; fields may come in
                                        * any order on the wire */
  free(m.d);
  free(sub.d);
  free(packed.d);
  free(strtab.d);
  json_decref(S.ix);
  *out = prof.d;
  *len = prof.n;
  return 0;
}

int export_pprof_write(const struct cpu_profile *p, const char *path)
{
  unsigned char *raw;
  size_t rawlen;
  int r = export_pprof_encode(p, &raw, &rawlen);
  if (r < 0)
    return r;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    free(raw);
    return -ENOMEM;
  }
  size_t cap = deflateBound(&z, rawlen) + 64;
  unsigned char *gz = ps_xmalloc(cap);
  z.next_in = raw;
  z.avail_in = (uInt)rawlen;
  z.next_out = gz;
  z.avail_out = (uInt)cap;
  int zr = deflate(&z, Z_FINISH);
  size_t gzlen = cap - z.avail_out;
  deflateEnd(&z);
  free(raw);
  if (zr != Z_STREAM_END) {
    free(gz);
    ps_error("cannot compress the pprof profile for '%s'", path);
    return -EIO;
  }
  r = ps_export_write(path, gz, gzlen);
  free(gz);
  if (r < 0)
    ps_error("cannot write pprof profile '%s': %s", path, strerror(-r));
  return r;
}
