/* builtin.h - every perfsweep subcommand, one file each (cmd-<name>.c), same signature.
 *
 * A subcommand returns an exit code from exit-codes.h. It prints its own --help (with an
 * example) and reports bad input with ps_error and PS_EXIT_USAGE.
 */
#ifndef PERFSWEEP_BUILTIN_H
#define PERFSWEEP_BUILTIN_H

int cmd_run(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
