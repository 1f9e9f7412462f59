/* fx-pager.c - pages of B records from a JSON-lines file through one reusable buffer (see
 * fx-pager.h). One read(2) per chunk, never per record or per page; record ends are indexed
 * once, as each chunk arrives, so cutting a page is a lookup. Nothing is parsed here.
 */
#include "fx-pager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit-codes.h"
#include "fx-metrics.h"

static void *grow(void *old, size_t bytes)
{
  void *p = realloc(old, bytes);
  if (!p) {
    fprintf(stderr, "perfsweep-features: error: out of memory for a read page of %zu bytes; "
                    "use a smaller --batch-size\n", bytes);
    exit(PS_EXIT_ENVIRONMENT);
  }
  return p;
}

static size_t chunk_size(void)
{
  const char *s = getenv("PERFSWEEP_FX_READ_CHUNK"); /* test hook, see fx-pager.h */
  char *end;
  unsigned long long v = s && *s ? strtoull(s, &end, 10) : 0;
  return v >= 1 && v <= (1ull << 30) && *end == '\0' ? (size_t)v : FX_PAGER_CHUNK;
}

void fx_pager_start(struct fx_pager *p, int fd)
{
  p->fd = fd;
  p->len = p->pos = p->scanned = p->line_start = 0;
  p->head = p->n_ends = 0;
  p->eof = 0;
  p->chunk = chunk_size();
}

static void push_end(struct fx_pager *p, size_t end)
{
  if (p->n_ends == p->cap_ends) {
    p->cap_ends = p->cap_ends ? 2 * p->cap_ends : 4096;
    p->ends = grow(p->ends, p->cap_ends * sizeof *p->ends);
  }
  p->ends[p->n_ends++] = end;
}

/* Moves the unconsumed bytes (a partial page) to the front, so the buffer is reused. */
static void compact(struct fx_pager *p)
{
  size_t off = p->pos;
  memmove(p->buf, p->buf + off, p->len - off);
  size_t pending = p->n_ends - p->head;
  for (size_t i = 0; i < pending; i++)
    p->ends[i] = p->ends[p->head + i] - off;
  p->head = 0;
  p->n_ends = pending;
  p->len -= off;
  p->scanned -= off;
  p->line_start -= off;
  p->pos = 0;
}

/* Indexes the record ends in buf[scanned, len). */
static void scan(struct fx_pager *p)
{
  const char *b = p->buf, *q = b + p->scanned, *end = b + p->len;
  while (q < end) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    if (!nl)
      break;
    size_t at = (size_t)(nl - b);
    if (at > p->line_start) /* an empty line is not a record */
      push_end(p, at + 1);
    p->line_start = at + 1;
    q = nl + 1;
  }
  p->scanned = p->len;
}

/* Reads one chunk and indexes it. Returns 0, or -errno. */
static int refill(struct fx_pager *p)
{
  double t0 = fx_now(), c0 = fx_cpu_now();
  int rc = 0;
  if (p->pos > 0)
    compact(p);
  if (p->cap - p->len < p->chunk) {
    /* a sixteenth of slack: the partial line carried over fits beside a whole chunk */
    size_t cap = p->cap ? p->cap : p->chunk + p->chunk / 16 + 1;
    while (cap - p->len < p->chunk)
      cap *= 2;
    p->buf = grow(p->buf, cap);
    p->cap = cap;
  }
  ssize_t n;
  do
    n = read(p->fd, p->buf + p->len, p->chunk);
  while (n < 0 && errno == EINTR);
  p->reads++;
  if (n < 0) {
    rc = -errno;
  } else if (n == 0) {
    p->eof = 1;
    if (p->len > p->line_start) /* a last line without a newline */
      push_end(p, p->len);
    p->line_start = p->len;
  } else {
    p->len += (size_t)n;
    scan(p);
  }
  size_t bytes = p->cap + p->cap_ends * sizeof *p->ends;
  if (bytes > p->peak_bytes)
    p->peak_bytes = bytes;
  p->read_seconds += fx_now() - t0;
  p->read_cpu_seconds += fx_cpu_now() - c0;
  return rc;
}

int fx_pager_next(struct fx_pager *p, size_t batch, struct fx_page *page)
{
  while (p->n_ends - p->head < batch && !p->eof) {
    int rc = refill(p);
    if (rc < 0)
      return rc;
  }
  size_t avail = p->n_ends - p->head;
  if (avail == 0)
    return 0;
  size_t take = avail < batch ? avail : batch;
  size_t end = p->ends[p->head + take - 1];
  page->text = p->buf + p->pos;
  page->len = end - p->pos;
  page->records = take;
  p->pos = end;
  p->head += take;
  if (p->head == p->n_ends)
    p->head = p->n_ends = 0;
  return 1;
}

void fx_pager_free(struct fx_pager *p)
{
  free(p->buf);
  free(p->ends);
  p->buf = NULL;
  p->ends = NULL;
  p->cap = p->len = p->pos = p->scanned = p->line_start = 0;
  p->head = p->n_ends = p->cap_ends = 0;
  p->peak_bytes = 0;
  p->reads = 0;
}
