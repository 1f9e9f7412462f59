/* chart-gnuplot.c - gnuplot as an external program: found on PATH, executed with fork/execvp
 * (never through a shell), one script per chart, SVG and PNG from the same body.
 * User text reaches a script only through chart_quote.
 */
#include "chart-gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int chart_gnuplot_available(void)
{
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/bin:/bin";
  char *copy = ps_xstrdup(path), *save = NULL;
  int found = 0;
  for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
    char *p = ps_xasprintf("%s/gnuplot", *d ? d : ".");
    found = access(p, X_OK) == 0;
    free(p);
  }
  free(copy);
  return found;
}

void chart_quote(FILE *f, const char *s)
{
  fputc('\'', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '\'')
      fputs("''", f);
    else if (c >= 0x20 && c != 0x7f)
      fputc(c, f);
  }
  fputc('\'', f);
}

int chart_write_script(const char *dir, const char *name, const char *body, int width,
                       int height, char *why, size_t whylen)
{
  char *gp = ps_xasprintf("%s/%s.gp", dir, name);
  char *script = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&script, &len);
  if (!f)
    ps_die(PS_EXIT_ENVIRONMENT, "out of memory");
  fprintf(f, "# %s.gp - written by perfsweep report; run 'gnuplot %s.gp' in this folder.\n",
          name, name);
  fprintf(f, "set terminal svg size %d,%d dynamic noenhanced font 'sans,11' background '#ffffff'\n"
             "set output '%s.svg'\n%s\nunset multiplot\nset output\n",
          width, height, name, body);
  /* pngcairo when this gnuplot has it (gnuplot-nox does), else the libgd png terminal. */
  fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
             "  set terminal pngcairo size %d,%d noenhanced font 'sans,9' background '#ffffff'\n"
             "} else {\n  set terminal png size %d,%d noenhanced background '#ffffff'\n}\n"
             "set output '%s.png'\n%s\nunset multiplot\nset output\n",
          width, height, width, height, name, body);
  fclose(f);
  int rc = ps_write_file_atomic(gp, script, len);
  free(script);
  if (rc < 0)
    snprintf(why, whylen, "could not write %s: %s", gp, strerror(-rc));
  free(gp);
  return rc < 0 ? -1 : 0;
}

/* gnuplot name1.gp name2.gp ... in dir, output into dir/log. Returns the wait status or -1. */
static int run_gnuplot(const char *dir, char *const *names, size_t n, const char *log)
{
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY);
    if (fd >= 0)
      dup2(fd, 2), dup2(fd, 1);
    if (null >= 0)
      dup2(null, 0);
    if (chdir(dir) != 0)
      _exit(126);
    char **argv = ps_xcalloc(n + 2, sizeof(char *));
    argv[0] = "gnuplot";
    for (size_t i = 0; i < n; i++)
      argv[i + 1] = ps_xasprintf("%s.gp", names[i]);
    execvp("gnuplot", argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

int chart_run(const char *dir, char *const *names, size_t n, int *ok, char (*why)[512])
{
  /* One gnuplot for all scripts; when it fails, each script alone to find which. */
  char *log = ps_xasprintf("%s/gnuplot.log", dir);
  int status = n ? run_gnuplot(dir, names, n, log) : 0;
  int failed = 0;
  if (n && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    for (size_t i = 0; i < n; i++)
      ok[i] = 1;
    unlink(log);
    free(log);
    return 0;
  }
  unlink(log);
  free(log);
  for (size_t i = 0; i < n; i++) {
    char *one = ps_xasprintf("%s/%s.log", dir, names[i]);
    status = run_gnuplot(dir, &names[i], 1, one);
    ok[i] = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok[i])
      unlink(one);
    else
      snprintf(why[i], sizeof(why[i]), "gnuplot failed on %s/%s.gp (%s %d); its messages are in %s",
               dir, names[i], status != -1 && WIFEXITED(status) ? "exit" : "signal",
               status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), one);
    failed += !ok[i];
    free(one);
  }
  return failed ? -1 : 0;
}
