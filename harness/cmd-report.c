/* cmd-report.c - placeholder until its issue lands: says so and exits with PS_EXIT_ENVIRONMENT. */
#include "builtin.h"
#include "util.h"

int cmd_report(int argc, char **argv)
{
  ps_error("'perfsweep report' is not built yet in this version");
  return PS_EXIT_ENVIRONMENT;
}
