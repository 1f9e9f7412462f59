/* cpu-io.c - a target that blocks: reads lines from a pipe fed by a thread, sleeps, and waits on
 * a condition variable. Its output is deterministic, so profiled and unprofiled runs must print
 * the same; in wall mode its sleeping (sleep_phase) shows. Usage: cpu-io [MILLISECONDS] (300).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "truth-spin.h"

static int pfd[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static unsigned ms = 300;

static void *writer(void *p)
{
  char line[64];
  for (int i = 0; i < 50; i++) {
    int n = snprintf(line, sizeof line, "line %d\n", i);
    if (write(pfd[1], line, (size_t)n) != n)
      return NULL;
    usleep(ms * 1000 / 100);
  }
  close(pfd[1]);
  /* longer than main's sleep, so main really waits on the condition variable */
  unsigned long long ns = (unsigned long long)ms * 1500000ull;
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  nanosleep(&ts, NULL);
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

__attribute__((noinline)) static long read_phase(void)
{
  char buf[256];
  long total = 0, lines = 0;
  for (;;) {
    ssize_t n = read(pfd[0], buf, sizeof buf);
    if (n < 0) {
      printf("read failed: %s\n", strerror(errno));
      return -1;
    }
    if (n == 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      lines += buf[i] == '\n';
    total += n;
  }
  printf("read %ld bytes, %ld lines\n", total, lines);
  return total;
}

__attribute__((noinline)) static void sleep_phase(void)
{
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  unsigned left = 0;
  if (ms >= 1000)
    left = sleep(ms / 1000);
  struct timespec ts = {0, (long)(ms % 1000) * 1000000L};
  int r = nanosleep(&ts, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double got = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  printf("slept whole: %s, nanosleep %d, sleep left %u\n", got >= ms - 1 ? "yes" : "no", r, left);
}

__attribute__((noinline)) static void wait_phase(void)
{
  pthread_mutex_lock(&mu);
  while (!ready)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  puts("condition met");
}

int main(int argc, char **argv)
{
  if (argc > 1)
    ms = (unsigned)atoi(argv[1]);
  if (pipe(pfd) < 0)
    return 4;
  pthread_t th;
  pthread_create(&th, NULL, writer, NULL);
  read_phase();
  sleep_phase();
  wait_phase();
  pthread_join(th, NULL);
  uint64_t acc = 1;
  TRUTH_SPIN(20, acc);
  printf("checksum %llu\n", (unsigned long long)(acc & 0xf));
  return 0;
}
