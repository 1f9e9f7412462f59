/* alloc-analysis.c - placeholder until the allocation analysis lands. */
#include "alloc-analysis.h"

#include <errno.h>

#include "util.h"

int alloc_analyze(char *const *traces, size_t ntraces, const struct alloc_analysis_opts *opts,
                  json_t **summary)
{
  ps_error("the allocation analysis is not built yet in this version");
  return -ENOSYS;
}

void alloc_print_summary(FILE *out, const json_t *summary) {}
