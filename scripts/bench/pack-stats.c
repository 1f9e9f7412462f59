/* pack-stats.c - where the packed bytes of a trace go (a measuring tool, not user-facing): packs a
 * raw .pst (harness/trace-pack.h) and prints zstd -1 of the packed stream, each stream's raw and
 * zstd -1 size (all blocks' pieces of the stream together), the allocations' pointer modes, the
 * frees' modes and the distribution of the seq codes. Built and run by bench-trace-size.sh
 * (PACK_STATS=1). Usage: pack-stats TRACE.pst [VERIFY 0|1|2] [LEVELS 1|2: also zstd -2..-9] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "trace-pack.h"
#include "trace-pack-model.h"
struct mem { uint8_t *p; size_t len, cap; };
static int mw(void *c, const void *b, size_t n) { struct mem *m = c; if (m->len + n > m->cap) { m->cap = 2*(m->len+n); m->p = realloc(m->p, m->cap);} memcpy(m->p+m->len,b,n); m->len+=n; return 0; }
static size_t zs(const void *p, size_t n, int lvl, int wlog) {
  ZSTD_CCtx *c = ZSTD_createCCtx(); ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, lvl);
  if (wlog) ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
  size_t cap = ZSTD_compressBound(n); void *o = malloc(cap);
  size_t r = ZSTD_compress2(c, o, cap, p, n); free(o); ZSTD_freeCCtx(c); return r; }
static const char *nm[] = {"OP","MOP","FOP","SEQ","ILO","IHI","NEW","FLO","FHI","FRANK","PCODE","PLIT","LEN","RAW","CHUNK","AFN"};
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: pack-stats TRACE.pst [VERIFY] [LEVELS]\n"); return 3; }
  int fd = open(argv[1], O_RDONLY); struct stat st;
  if (fd < 0 || fstat(fd, &st)) { perror(argv[1]); return 3; }
  uint8_t *raw = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int verify = argc > 2 ? atoi(argv[2]) : 1; int mode = argc > 3 ? atoi(argv[3]) : 1;
  struct mem m = {0};
  int err = ps_trace_pack(raw, st.st_size, verify, mw, &m);
  printf("pack err %d raw %zu packed %zu\n", err, (size_t)st.st_size, m.len);
  if (mode == 0) return 0;
  printf("zstd-1 of packed: %zu\n", zs(m.p, m.len, 1, 0));
  if (mode >= 2) for (int l = 2; l <= 9; l++) printf("zstd-%d of packed: %zu\n", l, zs(m.p, m.len, l, 0));
  /* split streams */
  struct mem s[PK_NSTREAMS] = {{0}};
  const uint8_t *p = m.p + 8, *end = m.p + m.len; uint64_t v;
  ps_get_varint(&p, end, &v);
  for (;;) { uint64_t rl = 0; ps_get_varint(&p, end, &rl); if (!rl) break; p += 8; uint64_t L[PK_NSTREAMS];
    for (int i = 0; i < PK_NSTREAMS; i++) ps_get_varint(&p, end, &L[i]);
    for (int i = 0; i < PK_NSTREAMS; i++) { mw(&s[i], p, L[i]); p += L[i]; } }
  size_t tot = 0;
  for (int i = 0; i < PK_NSTREAMS; i++) { size_t c = s[i].len ? zs(s[i].p, s[i].len, 1, 0) : 0; tot += c;
    printf("%-6s raw %10zu zstd1 %10zu\n", nm[i], s[i].len, c); }
  printf("sum of per-stream zstd1 %zu\n", tot);
  { /* flush at each stream boundary */
    ZSTD_CCtx *c = ZSTD_createCCtx(); ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
    size_t ocap = ZSTD_CStreamOutSize() * 4; uint8_t *ob = malloc(ocap); size_t total = 0;
    const uint8_t *p2 = m.p + 8; uint64_t vv; ps_get_varint(&p2, end, &vv);
    for (;;) { const uint8_t *hs = p2; uint64_t rl = 0; ps_get_varint(&p2, end, &rl); if (!rl) break; p2 += 8; uint64_t L[PK_NSTREAMS];
      for (int i = 0; i < PK_NSTREAMS; i++) ps_get_varint(&p2, end, &L[i]);
      const uint8_t *pieces[PK_NSTREAMS + 1]; size_t pl[PK_NSTREAMS + 1]; pieces[0] = hs; pl[0] = p2 - hs;
      for (int i = 0; i < PK_NSTREAMS; i++) { pieces[i+1] = p2; pl[i+1] = L[i]; p2 += L[i]; }
      for (int i = 0; i <= PK_NSTREAMS; i++) { ZSTD_inBuffer ib = {pieces[i], pl[i], 0};
        ZSTD_EndDirective d = (i == 0 || pl[i] < 4096) ? ZSTD_e_continue : ZSTD_e_flush; size_t left;
        do { ZSTD_outBuffer o = {ob, ocap, 0}; left = ZSTD_compressStream2(c, &o, &ib, d); total += o.pos; } while (ib.pos < ib.size || (d == ZSTD_e_flush && left)); } }
    size_t left; do { ZSTD_outBuffer o = {ob, ocap, 0}; ZSTD_inBuffer ib = {0,0,0}; left = ZSTD_compressStream2(c, &o, &ib, ZSTD_e_end); total += o.pos; } while (left);
    printf("zstd-1 with flush at stream boundaries: %zu\n", total); }
  /* modes */
  size_t mm[8] = {0}, sq[4] = {0}, fm[8] = {0}, fs[4] = {0}, nw = 0;
  for (size_t i = 0; i < s[PK_MOP].len; i++) { uint8_t d = s[PK_MOP].p[i]; mm[d >> 3 & 7]++; sq[d & 3]++; nw += (d >> 2) & 1; }
  for (size_t i = 0; i < s[PK_FOP].len; i++) { uint8_t d = s[PK_FOP].p[i]; fm[d >> 2 & 7]++; fs[d & 3]++; }
  printf("mallocs %zu new %zu modes L0 %zu L1 %zu L2 %zu LK %zu BUMP %zu LIT %zu; seq codes 0:%zu 1:%zu 2:%zu 3:%zu\n", s[PK_MOP].len, nw, mm[0],mm[1],mm[2],mm[3],mm[4],mm[5], sq[0],sq[1],sq[2],sq[3]);
  printf("frees %zu modes LIT %zu H0 %zu T0 %zu H1 %zu T1 %zu HK %zu TK %zu; seq codes 0:%zu 1:%zu 2:%zu 3:%zu\n", s[PK_FOP].len, fm[0],fm[1],fm[2],fm[3],fm[4],fm[5],fm[6], fs[0],fs[1],fs[2],fs[3]);
  /* seq histogram of SEQ stream */
  size_t h[8] = {0}; const uint8_t *q = s[PK_SEQ].p, *qe = q + s[PK_SEQ].len;
  while (q < qe) { ps_get_varint(&q, qe, &v); int b = v < 4 ? 0 : v < 8 ? 1 : v < 16 ? 2 : v < 64 ? 3 : v < 256 ? 4 : v < 4096 ? 5 : 6; h[b]++; }
  printf("seq code 3 values (SEQ stream): <4 %zu <8 %zu <16 %zu <64 %zu <256 %zu <4096 %zu more %zu\n", h[0],h[1],h[2],h[3],h[4],h[5],h[6]);
  return 0;
}
