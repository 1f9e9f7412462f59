/* test-report-run.h - runs a program for the report's integration tests (fork/execv, no
 * shell): stdout into out_path, stderr into err_path (NULL: the same file). */
#ifndef PERFSWEEP_TEST_REPORT_RUN_H
#define PERFSWEEP_TEST_REPORT_RUN_H

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Returns the exit status, or -1 when the program was killed by a signal. */
static inline int report_test_run(char *const argv[], const char *out_path, const char *err_path)
{
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int efd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : fd;
    dup2(fd, 1);
    dup2(efd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) < 0)
    return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
