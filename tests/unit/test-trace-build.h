/* trace-build.h - test helper: writes synthetic perfsweep traces (header, chunks, records) so the
 * reader and the analyses can be tested on exactly known input, including damaged files.
 */
#ifndef PERFSWEEP_TEST_TRACE_BUILD_H
#define PERFSWEEP_TEST_TRACE_BUILD_H

#include <stdio.h>
#include <string.h>

#include "trace-format.h"

struct tchunk {
  uint8_t buf[1 << 16];
  size_t len;
  uint32_t nrec;
  uint64_t seq, last_ptr, first_seq;
};

static inline void tb_header(FILE *f, uint16_t version, uint16_t kind, uint32_t mode, uint64_t param)
{
  const char exe[] = "/bin/test";
  struct ps_trace_header h = {.version = version, .kind = kind, .header_len = 64 + sizeof exe - 1,
                              .pid = 42, .ppid = 1, .mode = mode, .param = param, .depth = 64,
                              .exe_len = sizeof exe - 1};
  memcpy(h.magic, PS_TRACE_MAGIC, 8);
  fwrite(&h, sizeof h, 1, f);
  fwrite(exe, 1, sizeof exe - 1, f);
}

static inline void tc_start(struct tchunk *c, uint64_t first_seq)
{
  memset(c, 0, sizeof *c);
  c->first_seq = c->seq = first_seq;
}

static inline void tc_rec(struct tchunk *c, unsigned type, unsigned fn, uint64_t seq)
{
  c->buf[c->len++] = (uint8_t)(type | fn << 4);
  c->len = (size_t)(ps_put_varint(c->buf + c->len, seq - c->seq) - c->buf);
  c->seq = seq;
  c->nrec++;
}

static inline void tc_u(struct tchunk *c, uint64_t v) { c->len = (size_t)(ps_put_varint(c->buf + c->len, v) - c->buf); }

static inline void tc_ptr(struct tchunk *c, uint64_t p)
{
  tc_u(c, ps_zigzag((int64_t)(p - c->last_ptr)));
  c->last_ptr = p;
}

static inline void tc_alloc(struct tchunk *c, uint64_t seq, uint64_t size, uint64_t ptr, uint64_t stack)
{
  tc_rec(c, PS_REC_ALLOC, PS_FN_MALLOC, seq);
  tc_u(c, size);
  tc_ptr(c, ptr);
  tc_u(c, stack);
}

static inline void tc_free(struct tchunk *c, uint64_t seq, uint64_t ptr)
{
  tc_rec(c, PS_REC_FREE, PS_FN_FREE, seq);
  tc_ptr(c, ptr);
}

static inline void tc_stack(struct tchunk *c, uint64_t seq, uint64_t id, uint64_t ip)
{
  tc_rec(c, PS_REC_STACK, 0, seq);
  tc_u(c, id);
  tc_u(c, 1);
  tc_u(c, ip);
}

/* Writes the chunk; cut > 0 drops that many bytes off its end (a torn write). */
static inline void tc_write(FILE *f, struct tchunk *c, uint32_t tid, size_t cut)
{
  struct ps_trace_chunk h = {.magic = PS_CHUNK_MAGIC, .payload_len = (uint32_t)c->len, .tid = tid,
                             .nrecords = c->nrec, .first_seq = c->first_seq};
  size_t total = sizeof h + c->len - cut;
  uint8_t tmp[sizeof h + sizeof c->buf];
  memcpy(tmp, &h, sizeof h);
  memcpy(tmp + sizeof h, c->buf, c->len);
  fwrite(tmp, 1, total, f);
}

#endif
