/* fx-pager.h - reads a JSON-lines file in pages of B records through one reusable buffer:
 * read(2) in large chunks, record ends indexed as each chunk arrives, a page cut at the end of
 * its B-th record, the partial tail carried to the next page. Memory is one page plus one
 * chunk, whatever the size of the file. Used by the collect stage (fx-collect.c).
 */
#ifndef PERFSWEEP_FX_PAGER_H
#define PERFSWEEP_FX_PAGER_H

#include <stddef.h>
#include <stdint.h>

/* Default read size; test hook: $PERFSWEEP_FX_READ_CHUNK (bytes, >= 1) overrides it, so tests
 * can put records across chunk boundaries with small files. */
#define FX_PAGER_CHUNK (1u << 20)

struct fx_pager {
  int fd;              /* the file being paged (not owned: the caller closes it) */
  char *buf;           /* the reusable read buffer, kept across files */
  size_t cap, len;     /* bytes allocated, bytes valid */
  size_t pos;          /* start of the next page in buf */
  size_t scanned;      /* bytes of buf already searched for record ends */
  size_t line_start;   /* start of the line being scanned (in buf) */
  size_t *ends;        /* ends[head..n_ends): offsets in buf just past each record not yet
                        * handed out */
  size_t head, n_ends, cap_ends;
  size_t chunk;        /* read size */
  int eof;
  size_t peak_bytes;   /* largest cap + index bytes reached */
  uint64_t reads;      /* read(2) calls, all files (one per chunk, never one per record) */
  double read_seconds, read_cpu_seconds; /* reading and indexing, summed over chunks */
};

struct fx_page {
  const char *text;    /* valid until the next fx_pager_next or fx_pager_free */
  size_t len;
  uint64_t records;    /* non-empty lines in the page: B, or fewer for a file's last page */
};

/* Prepares p (zeroed by the caller, or used before: the buffer is kept) to page fd from its
 * current offset. Cannot fail. */
void fx_pager_start(struct fx_pager *p, int fd);

/* Cuts the next page of up to batch records (>= 1). Returns 1 with *page filled, 0 at the end
 * of the file, or -errno when read(2) fails. Exits with code 4 when out of memory. A record
 * is a non-empty line; a last line without a newline is a record too. */
int fx_pager_next(struct fx_pager *p, size_t batch, struct fx_page *page);

/* Frees the buffer and index; accepts a zeroed pager. Does not close fd. */
void fx_pager_free(struct fx_pager *p);

#endif
