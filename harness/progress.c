/* progress.c - the progress bar and its non-terminal fallback (see progress.h).
 * The ETA is the mean time per finished run times the runs left.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static double mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ps_progress_start(struct ps_progress *p, size_t total, size_t done, int quiet)
{
  memset(p, 0, sizeof(*p));
  p->total = total;
  p->done = done;
  p->start = mono();
  p->quiet = quiet;
  p->tty = isatty(2);
  p->color = ps_use_color(stderr);
}

static void fmt_eta(char *buf, size_t n, double s)
{
  if (s < 0 || s != s)
    snprintf(buf, n, "--:--");
  else if (s >= 3600)
    snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
  else
    snprintf(buf, n, "%02d:%02d", (int)(s / 60), (int)s % 60);
}

void ps_progress_step(struct ps_progress *p, const char *label, const char *status, double wall)
{
  p->done++;
  p->steps++;
  if (p->quiet)
    return;
  double elapsed = mono() - p->start;
  double eta = (double)(p->total - p->done) * elapsed / (double)p->steps;
  char etas[32];
  fmt_eta(etas, sizeof(etas), eta);
  int bad = strcmp(status, "ok") != 0;
  if (!p->tty) {
    fprintf(stderr, "[%zu/%zu] %s %s %.4fs eta %s\n", p->done, p->total, label, status, wall,
            etas);
    return;
  }
  int width = 30, fill = p->total ? (int)(width * p->done / p->total) : width;
  char bar[64];
  memset(bar, '#', (size_t)fill);
  memset(bar + fill, '.', (size_t)(width - fill));
  bar[width] = '\0';
  const char *on = p->color && bad ? "\033[31m" : "", *off = p->color && bad ? "\033[0m" : "";
  fprintf(stderr, "\r\033[K[%s] %zu/%zu eta %s  %s%.40s %s%s", bar, p->done, p->total, etas, on,
          label, status, off);
  fflush(stderr);
}

void ps_progress_end(struct ps_progress *p)
{
  if (!p->quiet && p->tty)
    fprintf(stderr, "\r\033[K");
}
