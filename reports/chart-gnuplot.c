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

int chart_render(const char *dir, const char *name, const char *body, int width, int height,
                 char *why, size_t whylen)
{
  char *gp = ps_xasprintf("%s/%s.gp", dir, name), *log = ps_xasprintf("%s/%s.log", dir, name);
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
  if (rc < 0) {
    snprintf(why, whylen, "could not write %s: %s", gp, strerror(-rc));
    goto out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, whylen, "could not start gnuplot: %s", strerror(errno));
    rc = -1;
    goto out;
  }
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY);
    if (fd >= 0)
      dup2(fd, 2), dup2(fd, 1);
    if (null >= 0)
      dup2(null, 0);
    if (chdir(dir) != 0)
      _exit(126);
    char *base = ps_xasprintf("%s.gp", name);
    char *argv[] = {"gnuplot", base, NULL};
    execvp("gnuplot", argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    rc = 0;
  } else {
    rc = -1;
    snprintf(why, whylen, "gnuplot failed on %s (%s %d); its messages are in %s", gp,
             WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
  }
  if (rc == 0)
    unlink(log);
out:
  free(gp);
  free(log);
  return rc;
}
