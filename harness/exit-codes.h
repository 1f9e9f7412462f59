/* exit-codes.h - the exit codes of every perfsweep program; each means one thing.
 *
 * One X-macro table generates the enum and the descriptions that `perfsweep --help` lists,
 * so codes and words cannot drift apart. The workloads use the same codes.
 */
#ifndef PERFSWEEP_EXIT_CODES_H
#define PERFSWEEP_EXIT_CODES_H

#define PS_EXIT_MAP(X)                                                                    \
  X(OK, 0, "success; for compare: no regression")                                        \
  X(REGRESSION, 1, "compare found a regression or a budget was breached")                \
  X(INCONCLUSIVE, 2, "compare could not decide (only with --fail-on-inconclusive)")      \
  X(USAGE, 3, "bad usage or bad input: unknown flag, malformed file, wrong schema")      \
  X(ENVIRONMENT, 4, "the machine cannot do it: missing tool, refused perf events, no preload") \
  X(TARGET, 5, "the measured command or workload failed (non-zero exit, crash, timeout)") \
  X(IO, 6, "an output could not be written (permissions, full disk)")                    \
  X(DATA, 7, "the workload's data is inconsistent (an entity lost its feature row)")     \
  X(INTERRUPTED, 130, "interrupted by SIGINT/SIGTERM; what finished is kept")

enum ps_exit {
#define PS_EXIT_ENUM(name, code, text) PS_EXIT_##name = code,
  PS_EXIT_MAP(PS_EXIT_ENUM)
#undef PS_EXIT_ENUM
};

#endif
