/* main.c - the perfsweep hub: global flags, the command table, dispatch.
 *
 *   $ perfsweep run features --batch-sizes 100,1000 --workers 1,2
 *   $ perfsweep profile --cpu --alloc -- ./prog args
 *
 * The hub owns the shared duties: the program name in messages, a suggestion for a mistyped
 * command, and a final flush of stdout so that a write error becomes a non-zero exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
  {"run", cmd_run, "run a workload across a sweep of parameters, timed and profiled"},
  {"profile", cmd_profile, "profile one command: --cpu samples, --alloc heap trace"},
  {"analyze", cmd_analyze, "analyse trace files written by the probes"},
  {"report", cmd_report, "charts, flame graphs and a capacity plan from results.json"},
  {"compare", cmd_compare, "compare two results with a verdict CI can gate on"},
  {"history", cmd_history, "record results over commits and find where a change began"},
  {"export", cmd_export, "export results as csv, markdown or prometheus text"},
  {"merge", cmd_merge, "merge shard results from several machines into one"},
  {"doctor", cmd_doctor, "check that this machine can profile, and say how to fix it"},
};

static void usage(FILE *out)
{
  fprintf(out, "usage: perfsweep [--version] [--help] <command> [<args>]\n\n"
               "Performance profiling and benchmarking harness for Linux.\n\n"
               "Commands:\n");
  for (size_t i = 0; i < PS_ARRAY_SIZE(commands); i++)
    fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nExamples:\n"
               "  perfsweep run features --batch-sizes 100,1000,10000 --workers 1,2 -o sweep/\n"
               "  perfsweep profile --cpu --alloc -o prof/ -- ./myprog --input data.json\n"
               "  perfsweep compare base/results.json new/results.json\n\n"
               "Exit codes:\n");
#define PS_EXIT_HELP(name, code, text) fprintf(out, "  %3d  %s\n", code, text);
  PS_EXIT_MAP(PS_EXIT_HELP)
#undef PS_EXIT_HELP
  fprintf(out, "\n'perfsweep <command> --help' describes a command.\n");
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
  if (la >= 63 || lb >= 63)
    return 99;
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(size_t) * (lb + 1));
  }
  return prev[lb];
}

static int unknown_command(const char *name)
{
  ps_error("'%s' is not a perfsweep command; see 'perfsweep --help'", name);
  for (size_t i = 0; i < PS_ARRAY_SIZE(commands); i++)
    if (distance(name, commands[i].name) <= 2 || strncmp(name, commands[i].name, 3) == 0)
      fprintf(stderr, "\tdid you mean '%s'?\n", commands[i].name);
  return PS_EXIT_USAGE;
}

/* Flushes stdout; a failure (full disk, closed pipe) is an I/O error exit. */
static int finish(int rc)
{
  if (fflush(stdout) != 0 || ferror(stdout)) {
    if (errno != EPIPE)
      ps_error("could not write the output: %s", strerror(errno));
    return rc ? rc : PS_EXIT_IO;
  }
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return PS_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
    usage(stdout);
    return finish(PS_EXIT_OK);
  }
  if (!strcmp(name, "--version") || !strcmp(name, "version")) {
    printf("perfsweep %s\n", PERFSWEEP_VERSION);
    return finish(PS_EXIT_OK);
  }
  if (name[0] == '-') {
    ps_error("unknown option '%s'; see 'perfsweep --help'", name);
    return PS_EXIT_USAGE;
  }
  for (size_t i = 0; i < PS_ARRAY_SIZE(commands); i++) {
    if (strcmp(name, commands[i].name) != 0)
      continue;
    static char prog[64];
    snprintf(prog, sizeof(prog), "perfsweep %s", name);
    ps_set_progname(prog);
    return finish(commands[i].fn(argc - 1, argv + 1));
  }
  return unknown_command(name);
}
