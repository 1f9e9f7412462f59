/* trace-pack-read.c - the unpacker: turns the packed stream (trace-pack.h) back into the exact
 * raw bytes of the trace, one whole block at a time, in bounded memory (one block of input and
 * one of output). A stream cut short yields every whole block before the cut; damaged packed data
 * is reported as corrupt, never turned into different raw bytes (each block carries a hash).
 */
#include "trace-pack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/common/trace-format.h"
#include "trace-pack-decode.h"
#include "trace-pack-model.h"
#include "util.h"

#define PK_MAX_BLOCK_BYTES (256u << 20) /* larger blocks are corrupt (the packer writes ~1 MiB) */
#define PK_HOT_MAX (4 * PS_VARINT_MAX + 1) /* raw bytes of a hot record at most (pk_hot_write) */

struct ps_unpack {
  ps_pack_sink sink;
  void *ctx;
  struct pk_buf in;
  size_t in_off;
  int state; /* 0 magic, 1 blocks, 2 end marker seen */
  int err;
  char msg[200];
  struct pk_model m;
  struct pk_buf out;
  uint64_t total;
};

struct ps_unpack *ps_unpack_new(ps_pack_sink sink, void *ctx)
{
  struct ps_unpack *u = ps_xcalloc(1, sizeof *u);
  u->sink = sink;
  u->ctx = ctx;
  pk_model_init(&u->m);
  return u;
}

void ps_unpack_free(struct ps_unpack *u)
{
  if (!u)
    return;
  pk_model_free(&u->m);
  free(u->in.p);
  free(u->out.p);
  free(u);
}

const char *ps_unpack_error(const struct ps_unpack *u) { return u->msg; }

static int corrupt(struct ps_unpack *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int corrupt(struct ps_unpack *u, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->msg, sizeof u->msg, fmt, ap);
  va_end(ap);
  return u->err = -EINVAL;
}

/* Reads a varint at *off of the buffered input: 1 ok, 0 needs more input, -1 corrupt. */
static int in_varint(struct ps_unpack *u, size_t *off, uint64_t *v)
{
  const uint8_t *p = u->in.p + *off, *end = u->in.p + u->in.len;
  if (!ps_get_varint(&p, end, v)) {
    *off = (size_t)(p - u->in.p);
    return 1;
  }
  return end - (u->in.p + *off) >= PS_VARINT_MAX ? -1 : 0;
}

/* One record of a chunk; appends its raw bytes to u->out. 1 an allocation or free (at most
 * PK_HOT_MAX bytes, written into room the caller reserved), 3 another record (verbatim: its own
 * room), 2 the rest of the chunk verbatim, negative: corrupt. */
static int unpack_record(struct ps_unpack *u, struct pk_rd *rd)
{
  struct pk_model *m = &u->m;
  unsigned kind = pk_get_byte(&rd[PK_OP]);
  struct pk_hot h;
  uint64_t n;
  const uint8_t *s;
  switch (kind) {
  case PK_K_MALLOC:
  case PK_K_ALLOCF:
  case PK_K_FREE:
  case PK_K_FREEF: {
    struct pk_decoded o;
    const char *why = pk_decode_hot(m, rd, kind, &h, &o);
    if (why)
      return corrupt(u, "%s", why);
    u->out.len += pk_hot_write(u->out.p + u->out.len, &h, m->last_ptr);
    if (kind == PK_K_MALLOC || kind == PK_K_ALLOCF)
      pk_on_malloc(m, o.isnew ? pk_info_add(m, h.size, h.stack) : o.id, h.size, h.ptr, o.li);
    else
      pk_on_free(m, h.ptr);
    m->last_ptr = h.ptr;
    pk_seq_step(m, h.seq_delta);
    return 1;
  }
  case PK_K_VERB:
  case PK_K_REST:
    n = pk_get_varint(&rd[PK_LEN]);
    s = pk_get_bytes(&rd[PK_RAW], n);
    if (!s)
      return corrupt(u, "a verbatim record runs past its stream");
    if (kind == PK_K_VERB && pk_other_apply(m, s, s + n) != n)
      return corrupt(u, "a verbatim record does not parse");
    pk_put_bytes(&u->out, s, n);
    return kind == PK_K_VERB ? 3 : 2;
  default:
    return corrupt(u, "an unknown op %u inside a chunk", kind);
  }
}

static int unpack_chunk(struct ps_unpack *u, struct pk_rd *rd)
{
  struct pk_model *m = &u->m;
  struct pk_rd *cs = &rd[PK_CHUNK];
  struct ps_trace_chunk c;
  c.magic = PS_CHUNK_MAGIC;
  uint64_t tid = pk_get_varint(cs), nrec = pk_get_varint(cs);
  c.first_seq = m->prev_first_seq + (uint64_t)ps_unzigzag(pk_get_varint(cs));
  c.mono_ns = m->prev_mono + (uint64_t)ps_unzigzag(pk_get_varint(cs));
  uint64_t plen = pk_get_varint(cs);
  if (cs->bad || tid > UINT32_MAX || nrec > UINT32_MAX || plen > PS_TRACE_MAX_PAYLOAD)
    return corrupt(u, "a chunk header is damaged");
  c.tid = (uint32_t)tid;
  c.nrecords = (uint32_t)nrec;
  c.payload_len = (uint32_t)plen;
  m->prev_first_seq = c.first_seq;
  m->prev_mono = c.mono_ns;
  pk_model_thread(m, c.tid);
  m->last_ptr = 0;
  pk_seq_chunk(m, c.first_seq);
  pk_put_bytes(&u->out, &c, sizeof c);
  size_t start = u->out.len;
  /* room for the whole payload and one more hot record: a hot record starts below
   * start + plen (the loop's test) and writes at most PK_HOT_MAX bytes; a verbatim record
   * reserves its own room, after which this room is reserved again */
  pk_buf_reserve(&u->out, plen + PK_HOT_MAX);
  while (u->out.len - start < plen) {
    int r = unpack_record(u, rd);
    if (r < 0)
      return r;
    if (r == 2)
      break;
    if (r == 3 && u->out.len - start < plen)
      pk_buf_reserve(&u->out, plen - (u->out.len - start) + PK_HOT_MAX);
  }
  for (int i = 0; i < PK_NSTREAMS; i++)
    if (rd[i].bad)
      return corrupt(u, "a record runs past the end of its stream %d", i);
  if (u->out.len - start != plen)
    return corrupt(u, "a chunk's records do not add up to its length");
  return 0;
}

/* Decodes the block whose streams start at body; raw_len and hash from its header. */
static int unpack_block(struct ps_unpack *u, const uint8_t *body, const uint64_t *slen,
                        uint64_t raw_len, uint64_t hash)
{
  struct pk_rd rd[PK_NSTREAMS];
  for (int i = 0; i < PK_NSTREAMS; i++) {
    rd[i] = (struct pk_rd){body, body + slen[i], 0};
    body += slen[i];
  }
  u->out.len = 0;
  pk_buf_reserve(&u->out, raw_len);
  int err = 0;
  while (!err && rd[PK_OP].p < rd[PK_OP].end && u->out.len <= raw_len) {
    uint8_t opb = *rd[PK_OP].p;
    uint64_t n;
    const uint8_t *s;
    switch (opb) {
    case PK_K_CHUNK:
      rd[PK_OP].p++;
      err = unpack_chunk(u, rd);
      break;
    case PK_K_ZERO:
      rd[PK_OP].p++;
      n = pk_get_varint(&rd[PK_LEN]);
      if (rd[PK_LEN].bad || n > raw_len - u->out.len)
        return corrupt(u, "a run of zero bytes is longer than its block");
      pk_buf_reserve(&u->out, n);
      memset(u->out.p + u->out.len, 0, n);
      u->out.len += n;
      break;
    case PK_K_RAW:
      rd[PK_OP].p++;
      n = pk_get_varint(&rd[PK_LEN]);
      s = pk_get_bytes(&rd[PK_RAW], n);
      if (!s)
        return corrupt(u, "verbatim bytes run past their stream");
      pk_put_bytes(&u->out, s, n);
      break;
    default:
      return corrupt(u, "an op %u outside a chunk", opb);
    }
  }
  if (err)
    return err;
  for (int i = 0; i < PK_NSTREAMS; i++)
    if (rd[i].bad || rd[i].p != rd[i].end)
      return corrupt(u, "a block's streams do not add up (stream %d)", i);
  if (u->out.len != raw_len || pk_hash(u->out.p, u->out.len) != hash)
    return corrupt(u, "a block does not restore the bytes it was packed from");
  u->total += raw_len;
  return u->err = u->sink(u->ctx, u->out.p, u->out.len);
}

/* Decodes what the buffered input holds. 0 (maybe waiting for more) or an error. */
static int drain(struct ps_unpack *u)
{
  for (;;) {
    size_t off = u->in_off;
    uint64_t v;
    int r;
    if (u->state == 0) {
      if (u->in.len - off < 8)
        return 0;
      if (!ps_trace_is_packed(u->in.p + off, 8))
        return corrupt(u, "the packed stream does not start with its magic");
      off += 8;
      if ((r = in_varint(u, &off, &v)) <= 0)
        return r ? corrupt(u, "a damaged version number") : 0;
      if (v < PS_PACK_VERSION_MIN || v > PS_PACK_VERSION)
        return corrupt(u, "packed form version %llu is not known to this perfsweep (it reads "
                       "versions %d to %d): read it with the perfsweep that wrote it",
                       (unsigned long long)v, PS_PACK_VERSION_MIN, PS_PACK_VERSION);
      u->m.gapseq = v >= 5;
      u->state = 1;
      u->in_off = off;
      continue;
    }
    if (u->state == 2)
      return u->in.len > u->in_off ? corrupt(u, "bytes follow the end of the packed stream") : 0;
    uint64_t raw_len, slen[PK_NSTREAMS], sum = 0;
    if ((r = in_varint(u, &off, &raw_len)) <= 0)
      return r ? corrupt(u, "a damaged block header") : 0;
    if (raw_len == 0) {
      if ((r = in_varint(u, &off, &v)) <= 0)
        return r ? corrupt(u, "a damaged end marker") : 0;
      if (v != u->total)
        return corrupt(u, "the end marker announces %llu raw bytes, the blocks held %llu",
                       (unsigned long long)v, (unsigned long long)u->total);
      u->state = 2;
      u->in_off = off;
      continue;
    }
    if (u->in.len - off < 8)
      return 0;
    uint64_t hash = 0;
    for (int i = 0; i < 8; i++)
      hash |= (uint64_t)u->in.p[off + i] << (8 * i);
    off += 8;
    for (int i = 0; i < PK_NSTREAMS; i++) {
      if ((r = in_varint(u, &off, &slen[i])) <= 0)
        return r ? corrupt(u, "a damaged block header") : 0;
      sum += slen[i];
      if (slen[i] > PK_MAX_BLOCK_BYTES || sum > PK_MAX_BLOCK_BYTES)
        return corrupt(u, "a block longer than %u bytes", PK_MAX_BLOCK_BYTES);
    }
    if (raw_len > PK_MAX_BLOCK_BYTES)
      return corrupt(u, "a block longer than %u bytes", PK_MAX_BLOCK_BYTES);
    if (u->in.len - off < sum)
      return 0;
    int err = unpack_block(u, u->in.p + off, slen, raw_len, hash);
    if (err)
      return u->err = err;
    u->in_off = off + sum;
  }
}

int ps_unpack_feed(struct ps_unpack *u, const void *buf, size_t len)
{
  if (u->err)
    return u->err;
  if (u->in_off && u->in_off * 2 >= u->in.len) {
    memmove(u->in.p, u->in.p + u->in_off, u->in.len - u->in_off);
    u->in.len -= u->in_off;
    u->in_off = 0;
  }
  pk_put_bytes(&u->in, buf, len);
  return drain(u);
}

int ps_unpack_finish(struct ps_unpack *u, int *truncated)
{
  *truncated = u->state != 2;
  return u->err;
}
