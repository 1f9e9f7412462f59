/* cpu-stress.c - what must not break a profiled target: `threads` (64 short-lived threads),
 * `fork` (the child works and exits), `exec` (re-executes itself with `spin`), `dlopen` (loads,
 * calls and unloads libcpu-truth-lib.so repeatedly), `crash` (dies of SIGSEGV after working),
 * `ownprof` (its own SIGPROF handler and ITIMER_PROF must keep working), `owntrap` (its own
 * SIGTRAP handler, for the sigtrap delivery), `blocked` (works with
 * SIGPROF blocked: the profiler must count lost samples), `emfile` (threads started with no file
 * descriptor left), `poll` (poll() with a timeout must not return early with EINTR).
 * Usage: cpu-stress MODE [LIBPATH]. Prints "ok MODE" when it finished normally.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "truth-spin.h"

__attribute__((noinline)) static uint64_t spin_units(unsigned u)
{
  uint64_t acc = u;
  TRUTH_SPIN(u, acc);
  return acc;
}

static volatile sig_atomic_t prof_ticks;
static void on_prof(int sig) { prof_ticks++; }
static volatile sig_atomic_t trap_count;
static void on_trap(int sig) { (void)sig; trap_count++; }

static void *work_thread(void *p)
{
  return (void *)(uintptr_t)(spin_units(60) & 1);
}

static void *short_thread(void *p)
{
  return (void *)(uintptr_t)(spin_units(2) & 1);
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "threads";
  if (!strcmp(mode, "spin")) {
    spin_units(300);
  } else if (!strcmp(mode, "threads")) {
    for (int round = 0; round < 4; round++) {
      pthread_t th[16];
      for (int i = 0; i < 16; i++)
        if (pthread_create(&th[i], NULL, short_thread, NULL) != 0)
          return 4;
      for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    }
  } else if (!strcmp(mode, "fork")) {
    spin_units(100);
    pid_t pid = fork();
    if (pid == 0) {
      spin_units(200);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      return 5;
  } else if (!strcmp(mode, "exec")) {
    spin_units(100);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "spin", (char *)NULL);
    return 4;
  } else if (!strcmp(mode, "dlopen")) {
    const char *lib = argc > 2 ? argv[2] : "libcpu-truth-lib.so";
    for (int i = 0; i < 20; i++) {
      void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
        return 4;
      }
      uint64_t (*fn)(unsigned) = (uint64_t(*)(unsigned))dlsym(h, "truth_lib_work");
      if (!fn)
        return 4;
      fn(15);
      dlclose(h);
    }
  } else if (!strcmp(mode, "ownprof")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prof;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_PROF, &it, NULL);
    spin_units(200);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    if (prof_ticks < 5) {
      printf("own SIGPROF handler ran only %d times\n", (int)prof_ticks);
      return 5;
    }
  } else if (!strcmp(mode, "owntrap")) {
    /* the target's own SIGTRAP handler (the profiler's signal under PERFSWEEP_CPU_ENGINE=sigtrap) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sigaction(SIGTRAP, &sa, NULL);
    for (int i = 0; i < 10; i++) {
      spin_units(20);
      raise(SIGTRAP);
    }
    if (trap_count != 10) {
      printf("own SIGTRAP handler ran %d times of 10\n", (int)trap_count);
      return 5;
    }
  } else if (!strcmp(mode, "blocked")) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    spin_units(200);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    spin_units(100);
  } else if (!strcmp(mode, "emfile")) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit low = {64, rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &low);
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
      n++;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
      if (pthread_create(&th[i], NULL, work_thread, NULL) != 0)
        return 4;
    for (int i = 0; i < 4; i++)
      pthread_join(th[i], NULL);
    while (n > 0)
      close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &rl);
  } else if (!strcmp(mode, "poll")) {
    int pfd[2];
    if (pipe(pfd) < 0)
      return 4;
    struct pollfd p = {pfd[0], POLLIN, 0};
    int r = poll(&p, 1, 300);
    if (r != 0) {
      printf("poll returned %d (%s) instead of timing out\n", r, r < 0 ? strerror(errno) : "ready");
      return 5;
    }
  } else if (!strcmp(mode, "seccomp")) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      perror("seccomp");
      return 4;
    }
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "spin", (char *)NULL);
    return 4;
  } else if (!strcmp(mode, "crash")) {
    spin_units(200);
    fflush(stdout);
    raise(SIGSEGV);
  } else {
    fprintf(stderr, "cpu-stress: unknown mode '%s'\n", mode);
    return 3;
  }
  printf("ok %s\n", mode);
  return 0;
}
