/* history-chart.c - charts a metric over recorded runs with gnuplot: a data file and a script
 * in a temporary folder, gnuplot executed directly (never through a shell), user text quoted so
 * it can never become a gnuplot command. Steps are drawn as dashed vertical lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history.h"
#include "util.h"

/* A gnuplot single-quoted string: '' for a quote, control characters dropped. */
static void history_gp_quote(FILE *f, const char *s)
{
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputs("''", f);
    else if ((unsigned char)*s >= 0x20)
      fputc(*s, f);
  }
  fputc('\'', f);
}

/* Short commit for an x label: up to 10 characters of [A-Za-z0-9._-]. */
static void history_label(FILE *f, const char *commit)
{
  int k = 0;
  for (; *commit && k < 10; commit++)
    if ((*commit >= 'a' && *commit <= 'z') || (*commit >= 'A' && *commit <= 'Z') ||
        (*commit >= '0' && *commit <= '9') || strchr("._-", *commit)) {
      fputc(*commit, f);
      k++;
    }
  if (!k)
    fputc('?', f);
}

static int history_run_gnuplot(const char *script, const char *log, char **err)
{
  pid_t pid = fork();
  if (pid < 0) {
    *err = ps_xasprintf("cannot start gnuplot: %s", strerror(errno));
    return PS_EXIT_ENVIRONMENT;
  }
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("gnuplot", "gnuplot", script, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
    *err = ps_xstrdup("gnuplot is not installed; install it (apt-get install gnuplot-nox) or "
                      "leave out --chart");
    return PS_EXIT_ENVIRONMENT;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char *text = NULL;
    size_t len;
    ps_read_file(log, &text, &len);
    *err = ps_xasprintf("gnuplot failed: %s", text && *text ? text : "no message");
    free(text);
    return PS_EXIT_IO;
  }
  return 0;
}

/* Absolute form of a path relative to the current folder, malloc'd; NULL when unreadable. */
static char *history_abs(const char *path)
{
  if (path[0] == '/')
    return ps_xstrdup(path);
  char cwd[4096];
  return getcwd(cwd, sizeof(cwd)) ? ps_xasprintf("%s/%s", cwd, path) : NULL;
}

static void history_write_script(FILE *g, const char *dir, const char *out, int png,
                                 const char *metric, const struct history_point *pts,
                                 const struct history_series *s, size_t ns,
                                 const struct stepdetect_opts *so)
{
  /* gnuplot reads 'series.dat' relative to its working folder: go there first. */
  fputs("cd ", g);
  history_gp_quote(g, dir);
  fprintf(g, "\nset terminal %s size 1100,550%s\nset output ", png ? "pngcairo" : "svg",
          png ? "" : " dynamic background rgb 'white'");
  history_gp_quote(g, out);
  fputs("\nset title ", g);
  char *title = ps_xasprintf("%s (median per recorded run)", metric);
  history_gp_quote(g, title);
  free(title);
  fputs("\nset ylabel ", g);
  history_gp_quote(g, metric);
  fputs("\nset xlabel 'commit'\nset xtics rotate by -45 font ',8'\nset grid\n"
        "set key outside right top\nset yrange [0:*]\nset offsets 0.3, 0.3, graph 0.1, 0\n", g);
  struct step st[16];
  for (size_t k = 0; k < ns; k++) {
    size_t m = history_steps(pts, &s[k], so, st, 16);
    for (size_t j = 0; j < m; j++) {
      double x = (double)pts[s[k].idx[st[j].index]].pos - 0.5;
      fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lc rgb '%s'\n", x, x,
              st[j].change > 0 ? "red" : "dark-green");
    }
  }
  fputs("plot ", g);
  for (size_t k = 0; k < ns; k++) {
    fprintf(g, "%s'series.dat' index %zu using 1:2:xtic(3) with linespoints title ",
            k ? ", \\\n     " : "", k);
    history_gp_quote(g, s[k].cell);
  }
  fputs("\n", g);
}

int history_chart(const char *out, const char *metric, const struct history_point *pts, size_t n,
                  const struct stepdetect_opts *so, char **err)
{
  const char *ext = strrchr(out, '.');
  int png = ext && !strcmp(ext, ".png");
  if (!ext || (!png && strcmp(ext, ".svg"))) {
    *err = ps_xasprintf("--chart '%s' must end in .svg or .png", out);
    return PS_EXIT_USAGE;
  }
  if (n == 0) {
    *err = ps_xasprintf("no recorded point of '%s' to chart", metric);
    return PS_EXIT_USAGE;
  }
  char *abs_out = history_abs(out);
  char dir[] = "/tmp/perfsweep-history-XXXXXX";
  if (!abs_out || !mkdtemp(dir)) {
    *err = ps_xasprintf("cannot prepare the chart %s: %s", out, strerror(errno));
    free(abs_out);
    return PS_EXIT_IO;
  }
  char *data = ps_xasprintf("%s/series.dat", dir), *script = ps_xasprintf("%s/chart.gp", dir);
  char *log = ps_xasprintf("%s/gnuplot.log", dir);
  struct history_series *s;
  size_t ns = history_group(pts, n, &s);
  FILE *d = fopen(data, "w"), *g = fopen(script, "w");
  int rc = 0;
  if (d && g) {
    for (size_t k = 0; k < ns; k++) {
      for (size_t i = 0; i < s[k].n; i++) {
        const struct history_point *p = &pts[s[k].idx[i]];
        fprintf(d, "%zu %.17g \"", p->pos, p->median);
        history_label(d, p->commit);
        fputs("\"\n", d);
      }
      fputs("\n\n", d);
    }
    history_write_script(g, dir, abs_out, png, metric, pts, s, ns, so);
  }
  if (!d || !g || ferror(d) || ferror(g)) {
    *err = ps_xasprintf("cannot write the chart data in %s: %s", dir, strerror(errno));
    rc = PS_EXIT_IO;
  }
  if (d)
    fclose(d);
  if (g)
    fclose(g);
  if (!rc)
    rc = history_run_gnuplot(script, log, err);
  unlink(data);
  unlink(script);
  unlink(log);
  rmdir(dir);
  history_series_free(s, ns);
  free(data);
  free(script);
  free(log);
  free(abs_out);
  return rc;
}
