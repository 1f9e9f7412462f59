/* batch.c - perfsweep-batch: a micro workload whose cost is set by flags (fixed CPU cost per
 * batch, CPU cost and memory per item), so its optimum batch size is known analytically
 * (batch-model.h, docs/workloads.md) and reports can be tested against it. Costs are burned
 * as thread CPU time, so they hold on a busy machine; memory is allocated and touched per batch.
 *
 *   $ perfsweep-batch --items 100000 --batch-size 1000 --workers 2 --batch-cost-us 200 \
 *       --item-cost-ns 500 --item-bytes 4096
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "batch-model.h"
#include "exit-codes.h"

static const char usage[] =
  "usage: perfsweep-batch [--items N] [--batch-size B] [--workers W] [--batch-cost-us F]\n"
  "                       [--item-cost-ns C] [--item-bytes M] [--memory-limit BYTES] [--json]\n"
  "  --items N           items to process (100000)\n"
  "  --batch-size B      items per batch (1000)\n"
  "  --workers W         worker threads pulling batches (1)\n"
  "  --batch-cost-us F   fixed CPU cost of every batch in microseconds (200)\n"
  "  --item-cost-ns C    CPU cost of every item in nanoseconds (1000)\n"
  "  --item-bytes M      memory each item holds while its batch runs (1024)\n"
  "  --memory-limit L    also print the model's best batch size under L bytes of batch memory\n"
  "  --json              one JSON object instead of the table\n"
  "model: time(B) = ceil(ceil(N/B)/W) * (F + B*C), memory(B) = W * B * M (docs/workloads.md)\n"
  "environment: PERFSWEEP_METRICS=FILE appends perfsweep.metrics/1 lines (compute, total)\n"
  "example:\n"
  "  perfsweep-batch --items 200000 --batch-size 500 --workers 2 --batch-cost-us 100\n";

struct shared {
  struct batch_params p;
  atomic_uint_fast64_t next;
  atomic_uint_fast64_t done_items, done_batches;
  atomic_uint_fast64_t live_bytes, peak_bytes;
  int failed;
};

static uint64_t thread_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double wall(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Burns ns of this thread's CPU time. */
static void burn(uint64_t ns)
{
  if (!ns)
    return;
  uint64_t end = thread_cpu_ns() + ns;
  volatile uint64_t sink = 0;
  while (thread_cpu_ns() < end)
    for (int i = 0; i < 64; i++)
      sink += (uint64_t)i;
}

static void *worker(void *arg)
{
  struct shared *s = arg;
  const struct batch_params *p = &s->p;
  for (;;) {
    uint64_t b = atomic_fetch_add(&s->next, 1);
    uint64_t first = b * p->batch_size;
    if (first >= p->items)
      break;
    uint64_t n = p->items - first < p->batch_size ? p->items - first : p->batch_size;
    size_t bytes = (size_t)(n * p->item_bytes);
    unsigned char *mem = bytes ? malloc(bytes) : NULL;
    if (bytes && !mem) {
      s->failed = 1;
      break;
    }
    if (bytes)
      memset(mem, (int)(b & 0xff), bytes); /* touch every page: the batch's memory is real */
    uint64_t live = atomic_fetch_add(&s->live_bytes, bytes) + bytes;
    uint64_t peak = atomic_load(&s->peak_bytes);
    while (live > peak && !atomic_compare_exchange_weak(&s->peak_bytes, &peak, live))
      ;
    burn(p->batch_cost_ns + n * p->item_cost_ns);
    atomic_fetch_sub(&s->live_bytes, bytes);
    free(mem);
    atomic_fetch_add(&s->done_items, n);
    atomic_fetch_add(&s->done_batches, 1);
  }
  return NULL;
}

static int parse_num(const char *flag, const char *s, uint64_t min, uint64_t *out)
{
  uint64_t v = 0;
  const char *q = s;
  if (!*q)
    goto bad;
  for (; *q; q++) {
    if (*q < '0' || *q > '9' || v > (UINT64_MAX - 9) / 10)
      goto bad;
    v = v * 10 + (uint64_t)(*q - '0');
  }
  if (v < min)
    goto bad;
  *out = v;
  return 0;
bad:
  fprintf(stderr, "perfsweep-batch: error: %s %s: must be a whole number >= %llu; see "
          "perfsweep-batch --help\n", flag, s, (unsigned long long)min);
  return -1;
}

static int metrics_lines(const char *path, const struct shared *s, double secs, long rss)
{
  char buf[2048];
  int n = 0;
  const char *stages[] = {"compute", "total"};
  for (int i = 0; i < 2; i++)
    n += snprintf(buf + n, sizeof buf - (size_t)n,
                  "{\"schema\":\"perfsweep.metrics/1\",\"workload\":\"perfsweep-batch\","
                  "\"stage\":\"%s\",\"seconds\":%.6f,\"records_in\":%llu,\"records_out\":%llu,"
                  "\"errors\":{\"missing_fields\":0,\"invalid_data\":0,\"duplicates\":0,"
                  "\"fk_violations\":0},\"batches\":%llu,\"workers\":%llu,\"success_rate\":1,"
                  "\"peak_rss_kb\":%ld,\"batch_size\":%llu,\"batch_buffer_bytes\":%llu}\n",
                  stages[i], secs, (unsigned long long)s->p.items,
                  (unsigned long long)atomic_load(&s->done_items),
                  (unsigned long long)atomic_load(&s->done_batches),
                  (unsigned long long)s->p.workers, rss, (unsigned long long)s->p.batch_size,
                  (unsigned long long)atomic_load(&s->peak_bytes));
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  int ok = write(fd, buf, (size_t)n) == n;
  return close(fd) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"items", required_argument, 0, 'n'}, {"batch-size", required_argument, 0, 'b'},
    {"workers", required_argument, 0, 'w'}, {"batch-cost-us", required_argument, 0, 'f'},
    {"item-cost-ns", required_argument, 0, 'c'}, {"item-bytes", required_argument, 0, 'm'},
    {"memory-limit", required_argument, 0, 'L'}, {"json", no_argument, 0, 'j'},
    {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
  struct shared s = {.p = {100000, 1000, 1, 200000, 1000, 1024}};
  uint64_t us = 200, limit = 0;
  int json = 0, c, rc = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': rc = parse_num("--items", optarg, 1, &s.p.items); break;
    case 'b': rc = parse_num("--batch-size", optarg, 1, &s.p.batch_size); break;
    case 'w': rc = parse_num("--workers", optarg, 1, &s.p.workers); break;
    case 'f': rc = parse_num("--batch-cost-us", optarg, 0, &us); break;
    case 'c': rc = parse_num("--item-cost-ns", optarg, 0, &s.p.item_cost_ns); break;
    case 'm': rc = parse_num("--item-bytes", optarg, 0, &s.p.item_bytes); break;
    case 'L': rc = parse_num("--memory-limit", optarg, 1, &limit); break;
    case 'j': json = 1; break;
    case 'h': fputs(usage, stdout); return PS_EXIT_OK;
    case 'V': printf("perfsweep-batch %s\n", PERFSWEEP_VERSION); return PS_EXIT_OK;
    case ':':
      fprintf(stderr, "perfsweep-batch: error: %s needs a value; see perfsweep-batch --help\n",
              argv[optind - 1]);
      return PS_EXIT_USAGE;
    default:
      fprintf(stderr, "perfsweep-batch: error: unknown option '%s'; see perfsweep-batch --help\n",
              argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
    if (rc)
      return PS_EXIT_USAGE;
  }
  if (optind < argc) {
    fprintf(stderr, "perfsweep-batch: error: unexpected argument '%s'; see perfsweep-batch "
            "--help\n", argv[optind]);
    return PS_EXIT_USAGE;
  }
  if (s.p.workers > 1024 || s.p.items > (1ull << 40) || us > 60000000ull ||
      s.p.item_cost_ns > 1000000000ull || s.p.item_bytes > (1ull << 30)) {
    fprintf(stderr, "perfsweep-batch: error: a value is out of range (workers <= 1024, items <= "
            "2^40, batch cost <= 60 s, item cost <= 1 s, item bytes <= 1 GiB); lower it\n");
    return PS_EXIT_USAGE;
  }
  s.p.batch_cost_ns = us * 1000;

  pthread_t *th = calloc(s.p.workers, sizeof *th);
  uint64_t started = 0;
  double t0 = wall();
  for (; th && started < s.p.workers; started++)
    if (pthread_create(&th[started], NULL, worker, &s) != 0)
      break;
  for (uint64_t i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  double secs = wall() - t0;
  free(th);
  if (started < s.p.workers || s.failed) {
    fprintf(stderr, "perfsweep-batch: error: could not start %llu workers or allocate a batch of "
            "%llu bytes; lower --workers, --batch-size or --item-bytes\n",
            (unsigned long long)s.p.workers,
            (unsigned long long)(s.p.batch_size * s.p.item_bytes));
    return PS_EXIT_ENVIRONMENT;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
  double model_cpu = batch_model_cpu_seconds(&s.p);
  double model_s = batch_model_seconds(&s.p);
  uint64_t model_b = batch_model_peak_bytes(&s.p);
  uint64_t best = limit ? batch_model_best_batch(&s.p, limit) : 0;
  if (json) {
    printf("{\"items\":%llu,\"batch_size\":%llu,\"workers\":%llu,\"batch_cost_ns\":%llu,"
           "\"item_cost_ns\":%llu,\"item_bytes\":%llu,\"batches\":%llu,\"seconds\":%.6f,"
           "\"model_seconds\":%.6f,\"cpu_seconds\":%.6f,\"model_cpu_seconds\":%.6f,\"peak_batch_bytes\":%llu,\"model_peak_batch_bytes\":%llu,"
           "\"peak_rss_kb\":%ld",
           (unsigned long long)s.p.items, (unsigned long long)s.p.batch_size,
           (unsigned long long)s.p.workers, (unsigned long long)s.p.batch_cost_ns,
           (unsigned long long)s.p.item_cost_ns, (unsigned long long)s.p.item_bytes,
           (unsigned long long)atomic_load(&s.done_batches), secs, model_s, cpu, model_cpu,
           (unsigned long long)atomic_load(&s.peak_bytes), (unsigned long long)model_b,
           ru.ru_maxrss);
    if (limit)
      printf(",\"memory_limit\":%llu,\"model_best_batch_size\":%llu", (unsigned long long)limit,
             (unsigned long long)best);
    printf("}\n");
  } else {
    printf("%-22s %14s %14s\n", "", "measured", "model");
    printf("%-22s %14.4f %14.4f\n", "seconds", secs, model_s);
    printf("%-22s %14.4f %14.4f\n", "cpu seconds", cpu, model_cpu);
    printf("%-22s %14llu %14llu\n", "peak batch bytes",
           (unsigned long long)atomic_load(&s.peak_bytes), (unsigned long long)model_b);
    printf("%-22s %14llu %14llu\n", "batches", (unsigned long long)atomic_load(&s.done_batches),
           (unsigned long long)batch_model_batches(&s.p));
    printf("%-22s %14ld\n", "peak rss kb", ru.ru_maxrss);
    if (limit)
      printf("best batch size under %llu bytes (model): %llu\n", (unsigned long long)limit,
             (unsigned long long)best);
  }
  const char *mpath = getenv("PERFSWEEP_METRICS");
  if (mpath && *mpath && metrics_lines(mpath, &s, secs, ru.ru_maxrss) != 0) {
    fprintf(stderr, "perfsweep-batch: error: PERFSWEEP_METRICS=%s: cannot append; point it at a "
            "writable file\n", mpath);
    return PS_EXIT_IO;
  }
  return PS_EXIT_OK;
}
