/* fx-metrics.c - stage metrics output (see fx-metrics.h and docs/metrics.md). Floating
 * numbers are printed with "%.6f" in the C locale the program never changes.
 */
#include "fx-metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double fx_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double fx_cpu_now(void)
{
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0.0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

long fx_peak_rss_kb(void)
{
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

uint64_t fx_rejects_total(const struct fx_rejects *r)
{
  uint64_t n = 0;
#define FX_SUM(f) n += r->f;
  FX_REJECT_MAP(FX_SUM)
#undef FX_SUM
  return n;
}

double fx_stage_success_rate(const struct fx_stage *s)
{
  if (!s->records_in)
    return 1.0;
  uint64_t bad = fx_rejects_total(&s->errors);
  return bad >= s->records_in ? 0.0 : (double)(s->records_in - bad) / (double)s->records_in;
}

void fx_metrics_print_table(FILE *out, const struct fx_stage *st, int n)
{
  fprintf(out, "%-10s %10s %9s %12s %12s %9s %8s %7s %8s %11s\n", "stage", "seconds", "cpu_s",
          "records_in",
          "records_out", "rejected", "batches", "workers", "success", "peak_rss_kb");
  for (int i = 0; i < n; i++)
    fprintf(out, "%-10s %10.4f %9.4f %12llu %12llu %9llu %8llu %7d %7.2f%% %11ld\n", st[i].name,
            st[i].seconds, st[i].cpu_seconds, (unsigned long long)st[i].records_in,
            (unsigned long long)st[i].records_out,
            (unsigned long long)fx_rejects_total(&st[i].errors),
            (unsigned long long)st[i].batches, st[i].workers,
            100.0 * fx_stage_success_rate(&st[i]), st[i].peak_rss_kb);
}

static int stage_json(char *buf, size_t len, const struct fx_stage *s)
{
  int n = snprintf(buf, len,
                   "{\"schema\":\"perfsweep.metrics/1\",\"workload\":\"perfsweep-features\","
                   "\"stage\":\"%s\",\"seconds\":%.6f,\"cpu_seconds\":%.6f,\"records_in\":%llu,"
                   "\"records_out\":%llu,\"errors\":{",
                   s->name, s->seconds, s->cpu_seconds, (unsigned long long)s->records_in,
                   (unsigned long long)s->records_out);
  int first = 1;
#define FX_ERR_JSON(f)                                                                        \
  n += snprintf(buf + n, len - (size_t)n, "%s\"" #f "\":%llu", first ? "" : ",",              \
                (unsigned long long)s->errors.f);                                             \
  first = 0;
  FX_REJECT_MAP(FX_ERR_JSON)
#undef FX_ERR_JSON
  n += snprintf(buf + n, len - (size_t)n,
                "},\"batches\":%llu,\"workers\":%d,\"success_rate\":%.6f,\"peak_rss_kb\":%ld",
                (unsigned long long)s->batches, s->workers, fx_stage_success_rate(s),
                s->peak_rss_kb);
  if (s->source_rows)
    n += snprintf(buf + n, len - (size_t)n, ",\"source_rows\":%llu",
                  (unsigned long long)s->source_rows);
  if (s->worker_cpu_max > 0)
    n += snprintf(buf + n, len - (size_t)n, ",\"worker_cpu_max_seconds\":%.6f", s->worker_cpu_max);
  if (s->batch_buffer_bytes)
    n += snprintf(buf + n, len - (size_t)n, ",\"batch_buffer_bytes\":%llu",
                  (unsigned long long)s->batch_buffer_bytes);
  if (s->read_buffer_bytes)
    n += snprintf(buf + n, len - (size_t)n, ",\"read_buffer_bytes\":%llu",
                  (unsigned long long)s->read_buffer_bytes);
  if (s->freshness_seconds >= 0 && strcmp(s->name, "normalize") == 0)
    n += snprintf(buf + n, len - (size_t)n, ",\"freshness_seconds\":%lld",
                  (long long)s->freshness_seconds);
  n += snprintf(buf + n, len - (size_t)n, "}");
  return n;
}

void fx_metrics_print_json_array(FILE *out, const struct fx_stage *st, int n)
{
  char line[1024];
  for (int i = 0; i < n; i++) {
    stage_json(line, sizeof line, &st[i]);
    fprintf(out, "%s%s", i ? "," : "", line);
  }
}

int fx_metrics_append(const char *path, const struct fx_stage *st, int n)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  char line[1024];
  for (int i = 0; i < n; i++) {
    int len = stage_json(line, sizeof line - 1, &st[i]);
    line[len++] = '\n';
    if (write(fd, line, (size_t)len) != len) {
      int e = errno ? errno : EIO;
      close(fd);
      errno = e;
      return -1;
    }
  }
  return close(fd);
}
