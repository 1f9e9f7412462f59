/* fx-command.h - the subcommands of perfsweep-features (generate, run, parse-only, ...). A
 * new subcommand is a new file defining, at the start of a line,
 *     const struct fx_command fx_cmd_<name> = { "<name>", <fn>, "<one-line summary>" };
 * and the generated registry adds it to the dispatcher in main.c.
 */
#ifndef PERFSWEEP_FX_COMMAND_H
#define PERFSWEEP_FX_COMMAND_H

struct fx_command {
  const char *name;
  /* argv[0] is the subcommand name. Returns a PS_EXIT_* code; prints its own messages. */
  int (*fn)(int argc, char **argv);
  const char *summary;
};

extern const struct fx_command *const fx_commands[]; /* NULL-terminated (generated) */

#endif
