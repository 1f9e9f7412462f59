/* main.c - perfsweep-features: the dispatcher over the registered subcommands (generate, run,
 * parse-only, and whatever other files register; see fx-command.h).
 */
#include <stdio.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-command.h"

static void usage(FILE *out)
{
  fputs("usage: perfsweep-features <command> [options]   (perfsweep-features <command> --help)\n"
        "commands:\n", out);
  for (int i = 0; fx_commands[i]; i++)
    fprintf(out, "  %-12s %s\n", fx_commands[i]->name, fx_commands[i]->summary);
  fputs("example:\n"
        "  perfsweep-features generate --scale tiny --seed 1 --out /tmp/shop\n"
        "  perfsweep-features run --source jsonl:/tmp/shop --batch-size 100 --workers 2\n", out);
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? PS_EXIT_USAGE : PS_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("perfsweep-features %s\n", PERFSWEEP_VERSION);
    return PS_EXIT_OK;
  }
  for (int i = 0; fx_commands[i]; i++)
    if (strcmp(argv[1], fx_commands[i]->name) == 0) {
      int rc = fx_commands[i]->fn(argc - 1, argv + 1);
      if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "perfsweep-features: error: cannot write to standard output\n");
        return PS_EXIT_IO;
      }
      return rc;
    }
  fprintf(stderr, "perfsweep-features: error: unknown command '%s'; see perfsweep-features "
                  "--help\n", argv[1]);
  return PS_EXIT_USAGE;
}
