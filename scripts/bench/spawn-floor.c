/* spawn-floor.c - the least a timing tool can do for one command: read the clock, posix_spawn,
 * a blocking waitpid, read the clock; no polling, no output. Prints the median of RUNS runs in
 * seconds. bench-run.sh builds and runs it beside perfsweep and hyperfine, so that a measured
 * median can be told apart from what this machine allows at all (a measuring tool, not part of
 * perfsweep). Usage: spawn-floor RUNS /path/to/command [ARGS...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  int runs = argc > 2 ? atoi(argv[1]) : 0;
  if (runs < 1) {
    fprintf(stderr, "usage: spawn-floor RUNS /path/to/command [ARGS...]\n");
    return 2;
  }
  double *t = malloc((size_t)runs * sizeof *t);
  for (int i = 0; i < runs; i++) {
    struct timespec a, z;
    pid_t pid;
    int st;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) {
      fprintf(stderr, "spawn-floor: cannot start %s\n", argv[2]);
      return 1;
    }
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &z);
    t[i] = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) * 1e-9;
  }
  qsort(t, (size_t)runs, sizeof *t, cmp);
  printf("%.9f\n", runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2);
  free(t);
  return 0;
}
