/* alloc-truth.c - ground-truth programs for the allocation tracer: each scenario makes an exactly
 * known number of allocation calls from named sites (noinline functions), so tests can assert the
 * tracer's counts, leaks and peak. No stdio before the scenario's end (stdio allocates).
 *
 *   alloc-truth sites|peak|threads|realloc|aligned|fork|dlopen|crash|sigkill|mmap|bench [N]
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink; /* keeps the compiler from dropping allocations */
static void *volatile keep[100000];

/* sites: 1000 temporary mallocs of 24 B, 10 leaked callocs of 100 B, 5 mallocs of 100 B freed
 * at the end. */
NOINLINE static void site_temporary(void)
{
  for (int i = 0; i < 1000; i++) {
    void *p = malloc(24);
    sink = p;
    free(p);
  }
}

NOINLINE static void site_leak(void)
{
  for (int i = 0; i < 10; i++) {
    keep[i] = calloc(4, 25);
    sink = keep[i];
  }
  for (int i = 0; i < 10; i++)
    keep[i] = NULL; /* lost: a leak */
}

NOINLINE static void site_kept(void **out)
{
  for (int i = 0; i < 5; i++)
    out[i] = malloc(100);
}

static int scenario_sites(void)
{
  void *held[5];
  site_temporary();
  site_leak();
  site_kept(held);
  for (int i = 0; i < 5; i++)
    free(held[i]);
  return 0;
}

/* peak: 8 x 1024 live, all freed; then 3 x 4096 + 100 live = 12388 B, the peak. */
NOINLINE static void peak_phase1(void)
{
  void *b[8];
  for (int i = 0; i < 8; i++)
    b[i] = malloc(1024);
  for (int i = 0; i < 8; i++)
    free(b[i]);
}

NOINLINE static void peak_phase2(void)
{
  void *b[4];
  for (int i = 0; i < 3; i++)
    b[i] = malloc(4096);
  b[3] = malloc(100);
  sink = b[3];
  for (int i = 0; i < 4; i++)
    free(b[i]);
}

/* threads: 8 threads; thread i allocates 1000 blocks of 64 B and passes each through a pipe to
 * thread (i+1)%8, which frees it. */
#define NTHREADS 8
#define PER_THREAD 1000
static int pipes[NTHREADS][2];

NOINLINE static void *thread_alloc_block(void)
{
  void *p = malloc(64);
  sink = p; /* not a tail call: the site is this function */
  return p;
}

static void *thread_main(void *arg)
{
  int i = (int)(intptr_t)arg;
  int out = pipes[(i + 1) % NTHREADS][1], in = pipes[i][0];
  for (int k = 0; k < PER_THREAD; k++) {
    void *p = thread_alloc_block();
    if (write(out, &p, sizeof p) != sizeof p)
      abort();
    void *q;
    if (read(in, &q, sizeof q) != sizeof q)
      abort();
    free(q);
  }
  return NULL;
}

static int scenario_threads(void)
{
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    if (pipe(pipes[i]))
      return 1;
  for (int i = 0; i < NTHREADS; i++)
    pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  return 0;
}

/* realloc: realloc(NULL,16) then 8 growths to 4096 (9 calls), realloc(p,0) (1 call, frees);
 * reallocarray(NULL,10,10) freed. */
NOINLINE static void realloc_chain(void)
{
  void *p = realloc(NULL, 16);
  for (size_t n = 32; n <= 4096; n *= 2)
    p = realloc(p, n);
  sink = p;
  p = realloc(p, 0);
  sink = p;
  void *a = reallocarray(NULL, 10, 10);
  sink = a;
  free(a);
}

/* aligned: one call of each aligned variant, each freed. */
NOINLINE static void aligned_all(void)
{
  void *p[5];
  if (posix_memalign(&p[0], 64, 100))
    abort();
  p[1] = aligned_alloc(64, 128);
  p[2] = memalign(32, 200);
  p[3] = valloc(300);
  p[4] = pvalloc(400);
  for (int i = 0; i < 5; i++)
    free(p[i]);
}

/* fork: parent leaks 10 x 16 B before the fork, the child leaks 20 x 32 B. */
NOINLINE static void parent_allocs(void)
{
  for (int i = 0; i < 10; i++)
    keep[i] = malloc(16);
}

NOINLINE static void child_allocs(void)
{
  for (int i = 0; i < 20; i++)
    keep[100 + i] = malloc(32);
}

static int scenario_fork(void)
{
  parent_allocs();
  pid_t pid = fork();
  if (pid == 0) {
    child_allocs();
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* dlopen: the plugin's plugin_alloc leaks 7 x 48 B, then the plugin is dlclose'd. */
static int scenario_dlopen(const char *self)
{
  char path[4096];
  strncpy(path, self, sizeof path - 64);
  path[sizeof path - 64] = 0;
  char *slash = strrchr(path, '/');
  strcpy(slash ? slash + 1 : path, "../lib/libtruthplugin.so");
  void *h = dlopen(path, RTLD_NOW);
  if (!h)
    return 2;
  void (*fn)(int) = (void (*)(int))dlsym(h, "plugin_alloc");
  if (!fn)
    return 3;
  fn(7);
  dlclose(h);
  return 0;
}

NOINLINE static void crash_allocs(void)
{
  for (int i = 0; i < 100; i++)
    keep[i] = malloc(8);
}

/* mmap: 3 anonymous 1 MiB mappings, 2 unmapped (traced with PERFSWEEP_ALLOC_MMAP=1). */
NOINLINE static void map_regions(void)
{
  void *m[3];
  for (int i = 0; i < 3; i++)
    m[i] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(m[0], 1 << 20);
  munmap(m[1], 1 << 20);
  keep[0] = m[2];
}

/* bench: 2 threads x n allocations of mixed small sizes, most freed soon, some kept a while. */
static long bench_n = 5000000;

NOINLINE static void *bench_alloc(size_t n)
{
  void *p = malloc(n);
  sink = p;
  return p;
}

static void *bench_thread(void *arg)
{
  uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
  void *ring[256] = {0};
  for (long i = 0; i < bench_n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t sz = 16 + (x & 255);
    unsigned slot = (unsigned)(x >> 32) & 255;
    free(ring[slot]);
    ring[slot] = bench_alloc(sz);
  }
  for (int i = 0; i < 256; i++)
    free(ring[i]);
  return NULL;
}

static int scenario_bench(void)
{
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, bench_thread, (void *)(uintptr_t)(i + 1));
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  return 0;
}

int main(int argc, char **argv)
{
  const char *s = argc > 1 ? argv[1] : "sites";
  if (argc > 2)
    bench_n = atol(argv[2]);
  if (!strcmp(s, "sites"))
    return scenario_sites();
  if (!strcmp(s, "peak")) {
    peak_phase1();
    peak_phase2();
    return 0;
  }
  if (!strcmp(s, "threads"))
    return scenario_threads();
  if (!strcmp(s, "realloc")) {
    realloc_chain();
    return 0;
  }
  if (!strcmp(s, "aligned")) {
    aligned_all();
    return 0;
  }
  if (!strcmp(s, "fork"))
    return scenario_fork();
  if (!strcmp(s, "dlopen"))
    return scenario_dlopen(argv[0]);
  if (!strcmp(s, "crash")) {
    crash_allocs();
    abort();
  }
  if (!strcmp(s, "sigkill")) { /* 50000 temporaries from site_temporary, then SIGKILL */
    for (int i = 0; i < 50; i++)
      site_temporary();
    raise(SIGKILL);
  }
  if (!strcmp(s, "mmap")) {
    map_regions();
    return 0;
  }
  if (!strcmp(s, "bench"))
    return scenario_bench();
  static const char msg[] = "usage: alloc-truth sites|peak|threads|realloc|aligned|fork|dlopen|"
                            "crash|sigkill|mmap|bench [N]\n";
  (void)!write(2, msg, sizeof msg - 1);
  return 3;
}
