/* cpu-analysis.c - placeholder until the CPU analysis lands. */
#include "cpu-analysis.h"

#include <errno.h>

#include "util.h"

int cpu_analyze(char *const *traces, size_t ntraces, const struct cpu_analysis_opts *opts,
                json_t **summary)
{
  ps_error("the CPU analysis is not built yet in this version");
  return -ENOSYS;
}

void cpu_print_summary(FILE *out, const json_t *summary) {}
