/* alloc-sites.h - internals of the allocation analysis shared by alloc-analysis.c and
 * alloc-sites.c: the running totals, and the aggregation of stacks into sites (the first frame
 * outside the allocator, C++ operator new skipped) and folded stacks, with their JSON and --diff.
 */
#ifndef PERFSWEEP_ALLOC_SITES_H
#define PERFSWEEP_ALLOC_SITES_H

#include <jansson.h>
#include <stdint.h>

#include "alloc-live.h"
#include "symbolize.h"
#include "trace-format.h"

struct alloc_totals {
  unsigned mode;             /* 1 exact, 2 sample */
  double interval;           /* sample mode's R */
  double calls[PS_FN_COUNT], total_calls, frees, bytes, temporary;
  double var_calls, var_bytes;
  double peak_heap, peak_time;
  double leaked_blocks, leaked_bytes;
  double hist_calls[65], hist_bytes[65];
  uint64_t events, unmatched_frees, lost;
  struct alloc_live live;
  double tl[512];            /* max heap per bucket */
  uint64_t tl_origin, tl_width, tl_last_ns, tl_last_b;
  size_t tl_used;
};

/* What one stack of one process contributes. */
struct alloc_site_in {
  const uint64_t *ips;       /* innermost first; NULL when the stack record was lost */
  unsigned nips;
  double calls, bytes, peak, leaked_blocks, leaked_bytes, temporary, var_calls, var_bytes;
};

struct alloc_sites;

struct alloc_sites *alloc_sites_new(void);
void alloc_sites_free(struct alloc_sites *s);
/* Symbolizes the stack with sym and adds it to its site and its folded line. */
void alloc_sites_add(struct alloc_sites *s, struct ps_sym *sym, const struct alloc_site_in *in);
/* Adds top_sites, top_sites_by_calls, top_sites_by_peak, leak_sites (top rows each) to summary. */
void alloc_sites_to_json(struct alloc_sites *s, json_t *summary, size_t top);
/* Every site, for --diff. New reference. */
json_t *alloc_sites_all_json(struct alloc_sites *s);
/* alloc-bytes.folded and alloc-calls.folded into dir. Returns 0 or a negative errno. */
int alloc_sites_write_folded(struct alloc_sites *s, const char *dir);
/* The "diff" object: totals of both and the sites that changed most. New reference. */
json_t *alloc_sites_diff(json_t *base_sites, json_t *new_sites, json_t *base_sum, json_t *new_sum,
                         size_t top);

#endif
