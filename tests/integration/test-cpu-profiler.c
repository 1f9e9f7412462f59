/* test-cpu-profiler.c - libperfsweep-cpu.so on the ground-truth programs of workloads/cpu-truth:
 * known function and thread shares (with and without frame pointers, perf_event and timer
 * engines), sample count against CPU time, a blocking target that behaves the same profiled and
 * whose sleep shows in wall mode, and targets that must not break (threads, fork, exec, dlopen,
 * crash). The probe is driven directly: ps_probe_env() + fork/exec, then cpu_analyze().
 * Assertions are on shares and counts only, never on seconds.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu-analysis.h"
#include "probe-env.h"
#include "util.h"
#include "test-tmp.h"

struct run {
  char dir[64];       /* trace folder */
  int status;
  struct rusage ru;
  char *out;          /* the target's stdout */
  int timed_out;
};

/* Runs argv under the CPU probe (mode, freq; extra: one more NAME=VALUE or NULL; cpu off when
 * mode is PS_CPU_OFF), with a 60 s watchdog. */
static void run_target(struct run *r, char *const *argv, enum ps_cpu_mode mode, unsigned freq,
                       const char *extra)
{
  memset(r, 0, sizeof *r);
  strcpy(r->dir, "/tmp/ps-test-cpu-XXXXXX");
  ps_test_mkdtemp(r->dir);
  char **env = NULL;
  if (mode != PS_CPU_OFF) {
    struct ps_probe_opts o = {.cpu = mode, .cpu_freq = freq, .trace_dir = r->dir};
    const char *missing = NULL;
    setenv("PERFSWEEP_LIBDIR", PERFSWEEP_LIB_DIR, 1);
    env = ps_probe_env(&o, NULL, &missing);
    cr_assert_not_null(env, "probe library %s not found in %s", missing, PERFSWEEP_LIB_DIR);
    size_t n = 0;
    while (env[n])
      n++;
    env = ps_xrealloc(env, (n + 3) * sizeof *env);
    env[n++] = ps_xasprintf("LD_LIBRARY_PATH=%s", PERFSWEEP_LIB_DIR);
    env[n++] = extra ? ps_xstrdup(extra) : ps_xstrdup("PERFSWEEP_TEST=1");
    env[n] = NULL;
  }
  char *outpath = ps_xasprintf("%s/stdout", r->dir);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    if (env)
      execve(argv[0], argv, env);
    else
      execv(argv[0], argv);
    _exit(127);
  }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    pid_t w = wait4(pid, &r->status, WNOHANG, &r->ru);
    if (w == pid)
      break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - t0.tv_sec > 60) {
      kill(pid, SIGKILL);
      wait4(pid, &r->status, 0, &r->ru);
      r->timed_out = 1;
      break;
    }
    usleep(5000);
  }
  size_t len;
  if (ps_read_file(outpath, &r->out, &len) < 0)
    r->out = ps_xstrdup("");
  free(outpath);
  if (env)
    ps_env_free(env);
}

/* cpu_analyze over every cpu.*.pst of the run; returns the summary (asserts success). */
static json_t *analyze(struct run *r, size_t *ntraces)
{
  DIR *d = opendir(r->dir);
  cr_assert_not_null(d);
  char *paths[64];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64)
    if (!strncmp(e->d_name, "cpu.", 4) && strstr(e->d_name, ".pst"))
      paths[n++] = ps_xasprintf("%s/%s", r->dir, e->d_name);
  closedir(d);
  if (ntraces)
    *ntraces = n;
  cr_assert_gt(n, 0, "no cpu.<pid>.pst in %s", r->dir);
  char *out = ps_xasprintf("%s/out", r->dir);
  struct cpu_analysis_opts o = {.out_dir = out};
  json_t *s = NULL;
  int rc = cpu_analyze(paths, n, &o, &s);
  cr_assert_eq(rc, 0, "cpu_analyze failed on %s", r->dir);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(out);
  return s;
}

static double fshare(const json_t *s, const char *fn, const char *which)
{
  const json_t *f = json_object_get(json_object_get(s, "functions"), fn);
  return f ? json_real_value(json_object_get(f, which)) : 0.0;
}

static long long jint(const json_t *s, const char *k)
{
  return (long long)json_integer_value(json_object_get(s, k));
}

static char *bin(const char *name) { return ps_xasprintf("%s/%s", PERFSWEEP_BIN_DIR, name); }

/* tol: share tolerance; scale: rounds of 100 units (~0.14 s each here) */
static void check_split_mode(const char *prog, enum ps_cpu_mode mode, const char *extra,
                             const char *engine, double tol, const char *scale)
{
  char *path = bin(prog);
  char *argv[] = {path, (char *)scale, NULL};
  struct run r;
  run_target(&r, argv, mode, 3999, extra);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s failed: status %d", prog,
            r.status);
  json_t *s = analyze(&r, NULL);
  long long n = jint(s, "samples");
  cr_assert_geq(n, 2000, "%s: only %lld samples", prog, n);
  cr_assert_str_eq(json_string_value(json_object_get(s, "event")), ps_cpu_mode_name(mode));
  if (engine) {
    cr_assert_str_eq(json_string_value(json_object_get(s, "engine")), engine);
    if (!strcmp(engine, "timer_create"))
      cr_assert(json_is_string(json_object_get(s, "engine_reason")), "the fallback says why");
    else
      cr_assert(json_is_null(json_object_get(s, "engine_reason")), "no fallback, no reason");
  }
  struct { const char *fn; double self, total; } want[] = {
      {"work_a", 0.40, 0.40}, {"work_b", 0.30, 0.30}, {"work_c", 0.10, 0.30},
      {"work_d", 0.20, 0.20}, {"main", 0.0, 1.0}};
  for (size_t i = 0; i < PS_ARRAY_SIZE(want); i++) {
    double self = fshare(s, want[i].fn, "self_share"), tot = fshare(s, want[i].fn, "total_share");
    cr_expect(fabs(self - want[i].self) <= tol, "%s %s self share %.3f, want %.2f +- %.2f", prog,
              want[i].fn, self, want[i].self, tol);
    cr_expect(fabs(tot - want[i].total) <= tol, "%s %s total share %.3f, want %.2f +- %.2f",
              prog, want[i].fn, tot, want[i].total, tol);
  }
  json_decref(s);
  free(path);
}

static void check_split(const char *prog, const char *extra, const char *engine, double tol,
                        const char *scale)
{
  check_split_mode(prog, PS_CPU_CLOCK, extra, engine, tol, scale);
}

TestSuite(cpu_profiler, .timeout = 240);

Test(cpu_profiler, split_shares_on_task_clock)
{
  check_split_mode("cpu-split-fp", PS_CPU_TASK_CLOCK, NULL, "perf_event", 0.03, "5");
}

Test(cpu_profiler, split_shares_without_frame_pointers)
{
  check_split("cpu-split-nofp", NULL, "perf_event", 0.03, "5");
}
Test(cpu_profiler, split_shares_with_frame_pointers)
{
  check_split("cpu-split-fp", NULL, "perf_event", 0.03, "5");
}
/* The fallback's CPU-clock timer only fires at the scheduler tick (CONFIG_HZ, 250 here): its
 * samples carry the overruns as weight, so fewer independent samples: a wider tolerance. */
Test(cpu_profiler, split_shares_on_the_timer_engine)
{
  check_split("cpu-split-nofp", "PERFSWEEP_CPU_ENGINE=timer", "timer_create", 0.05, "10");
}

/* The perf_event overflow delivered as SIGTRAP (attr.sigtrap; an older kernel falls back to the
 * classic delivery): the same shares, and a target's own SIGTRAP still reaches its handler. */
Test(cpu_profiler, split_shares_on_sigtrap_delivery)
{
  check_split("cpu-split-nofp", "PERFSWEEP_CPU_ENGINE=sigtrap", "perf_event", 0.03, "5");
}

Test(cpu_profiler, sigtrap_delivery_chains_the_targets_own_sigtrap)
{
  char *path = bin("cpu-stress-nofp");
  char *argv[] = {path, "owntrap", NULL};
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, 999, "PERFSWEEP_CPU_ENGINE=sigtrap");
  cr_assert(!r.timed_out, "owntrap hung");
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "owntrap: status %d, output: %s",
            r.status, r.out);
  json_t *s = analyze(&r, NULL);
  cr_expect_gt(jint(s, "samples"), 100, "our samples go on while the target raises SIGTRAP");
  json_decref(s);
  free(path);
}

Test(cpu_profiler, thread_k_does_k_units)
{
  char *path = bin("cpu-threads-nofp");
  char *argv[] = {path, "4", "40", NULL}; /* ~2,500 samples: 2,000 with margin under load */
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, 3999, NULL);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
  json_t *s = analyze(&r, NULL);
  double total = (double)jint(s, "samples");
  cr_assert_geq(total, 2000);
  size_t i;
  const json_t *t;
  int seen = 0;
  json_array_foreach(json_object_get(s, "threads"), i, t)
  {
    const char *name = json_string_value(json_object_get(t, "name"));
    unsigned k;
    if (sscanf(name, "truth-%u", &k) != 1)
      continue;
    seen++;
    double share = (double)json_integer_value(json_object_get(t, "samples")) / total;
    cr_expect(fabs(share - k / 10.0) <= 0.03, "thread %s share %.3f, want %.2f", name, share,
              k / 10.0);
  }
  cr_assert_eq(seen, 4, "the four named worker threads are in the profile");
  json_decref(s);
  free(path);
}

Test(cpu_profiler, sample_count_matches_frequency_times_cpu_time)
{
  char *path = bin("cpu-split-nofp");
  char *argv[] = {path, "6", NULL};
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, 999, NULL);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
  json_t *s = analyze(&r, NULL);
  double user = (double)r.ru.ru_utime.tv_sec + r.ru.ru_utime.tv_usec / 1e6;
  double want = 999 * user, got = (double)jint(s, "samples");
  cr_expect(fabs(got - want) <= 0.10 * want, "%.0f samples for %.3f s of user CPU at 999 Hz "
            "(want %.0f +- 10%%)", got, user, want);
  cr_expect_eq(jint(s, "degraded"), 0);
  json_decref(s);
  free(path);
}

Test(cpu_profiler, blocking_target_behaves_the_same_and_wall_mode_shows_sleep)
{
  char *path = bin("cpu-io-nofp");
  char *argv[] = {path, "300", NULL};
  struct run plain, cpu, wall;
  run_target(&plain, argv, PS_CPU_OFF, 0, NULL);
  run_target(&cpu, argv, PS_CPU_CLOCK, 999, NULL);
  run_target(&wall, argv, PS_CPU_WALL, 999, NULL);
  cr_assert(WIFEXITED(plain.status) && WEXITSTATUS(plain.status) == 0);
  cr_assert_not_null(strstr(plain.out, "slept whole: yes"), "unprofiled: %s", plain.out);
  cr_expect_str_eq(cpu.out, plain.out, "cpu-clock changed the output");
  cr_expect_str_eq(wall.out, plain.out, "wall mode changed the output (sleep cut short?)");
  json_t *s = analyze(&wall, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(s, "event")), "wall");
  double sleep = fshare(s, "sleep_phase", "total_share");
  double wait = fshare(s, "wait_phase", "total_share");
  cr_expect_geq(sleep, 0.15, "wall mode: sleep_phase is %.3f of the samples, the sleep must show",
                sleep);
  cr_expect_gt(wait, 0.02, "wall mode: the condition-variable wait shows (%.3f)", wait);
  json_decref(s);
  json_t *c = analyze(&cpu, NULL);
  cr_expect_lt(fshare(c, "sleep_phase", "total_share"), 0.05,
               "cpu-clock: sleeping costs no CPU samples");
  json_decref(c);
  free(path);
}

static json_t *stress_at(const char *mode, unsigned freq, int *status, size_t *ntraces)
{
  char *path = bin("cpu-stress-nofp");
  char *lib = ps_xasprintf("%s/libcpu-truth-lib.so", PERFSWEEP_LIB_DIR);
  char *argv[] = {path, (char *)mode, lib, NULL};
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, freq, NULL);
  cr_assert(!r.timed_out, "%s: the profiled target hung", mode);
  *status = r.status;
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) {
    char *want = ps_xasprintf("ok %s", !strcmp(mode, "exec") ? "spin" : mode);
    cr_expect_not_null(strstr(r.out, want), "%s printed: %s", mode, r.out);
    free(want);
  }
  free(path);
  free(lib);
  return analyze(&r, ntraces);
}

static json_t *stress(const char *mode, int *status, size_t *ntraces)
{
  return stress_at(mode, 1999, status, ntraces);
}

Test(cpu_profiler, survives_64_short_threads)
{
  int st;
  size_t n;
  json_t *s = stress("threads", &st, &n);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
  cr_expect_geq(json_array_size(json_object_get(s, "threads")), 65, "64 threads + main");
  cr_expect_gt(fshare(s, "short_thread", "total_share") + fshare(s, "spin_units", "total_share"),
               0.5);
  json_decref(s);
}

Test(cpu_profiler, fork_gives_the_child_its_own_profile)
{
  int st;
  size_t n;
  json_t *s = stress("fork", &st, &n);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
  cr_expect_eq(n, 2, "parent and child traces");
  cr_expect_eq(jint(s, "processes"), 2);
  json_decref(s);
}

Test(cpu_profiler, exec_is_profiled_through_the_environment)
{
  int st;
  size_t n;
  json_t *s = stress("exec", &st, &n);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
  cr_expect_eq(n, 2, "before and after exec");
  json_decref(s);
}

Test(cpu_profiler, dlopen_dlclose_library_is_symbolized)
{
  int st;
  size_t n;
  json_t *s = stress("dlopen", &st, &n);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
  cr_expect_gt(fshare(s, "truth_lib_work", "self_share"), 0.5,
               "samples in the unloaded library carry its function name");
  json_decref(s);
}

/* At 10 kHz some signals land inside dlopen/dlclose: they must give degraded (leaf-only)
 * samples, counted, and never a hang in libunwind. */
Test(cpu_profiler, samples_inside_the_loader_are_degraded_not_deadlocked)
{
  int st;
  size_t n;
  json_t *s = stress_at("dlopen", 9999, &st, &n);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
  cr_expect_gt(jint(s, "degraded"), 0, "signals in the loader are counted as degraded samples");
  cr_expect_lt(jint(s, "degraded"), jint(s, "samples") / 10);
  json_decref(s);
}

Test(cpu_profiler, crashing_target_leaves_a_readable_profile)
{
  int st;
  size_t n;
  json_t *s = stress("crash", &st, &n);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "the target's own SIGSEGV, status %d",
            st);
  cr_expect_gt(jint(s, "samples"), 50, "what ran before the crash is in the profile");
  json_decref(s);
}

/* run cpu-stress MODE under the given mode/signal; returns the summary, asserts a clean exit */
static json_t *stress_mode(const char *mode, enum ps_cpu_mode cm, int signo)
{
  char *path = bin("cpu-stress-nofp");
  char *argv[] = {path, (char *)mode, NULL};
  struct run r;
  memset(&r, 0, sizeof r);
  char *extra = signo ? ps_xasprintf("PERFSWEEP_CPU_SIGNAL=%d", signo) : NULL;
  run_target(&r, argv, cm, 999, extra);
  cr_assert(!r.timed_out, "%s hung", mode);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: status %d, output: %s", mode,
            r.status, r.out);
  free(extra);
  free(path);
  return analyze(&r, NULL);
}

Test(cpu_profiler, target_keeps_its_own_sigprof_handler)
{
  json_t *s = stress_mode("ownprof", PS_CPU_CLOCK, 0); /* same signal as ours: shared */
  cr_expect_gt(jint(s, "samples"), 100, "our samples go on while the target uses SIGPROF");
  json_decref(s);
  s = stress_mode("ownprof", PS_CPU_CLOCK, SIGRTMIN + 2); /* a signal of its own: no clash */
  cr_expect_gt(jint(s, "samples"), 100);
  json_decref(s);
}

Test(cpu_profiler, blocked_signal_counts_lost_samples)
{
  json_t *s = stress_mode("blocked", PS_CPU_CLOCK, 0);
  long long lost = jint(s, "lost"), got = jint(s, "samples");
  /* 200 of 300 units ran with the signal blocked */
  cr_expect_gt(lost, got, "lost %lld must outnumber the %lld samples taken", lost, got);
  json_decref(s);
}

Test(cpu_profiler, threads_without_descriptors_fall_back_to_timers)
{
  json_t *s = stress_mode("emfile", PS_CPU_CLOCK, 0);
  cr_expect_eq(jint(s, "threads_fallback"), 4, "the 4 threads born at EMFILE use timer_create");
  size_t i, sampled = 0;
  const json_t *t;
  json_array_foreach(json_object_get(s, "threads"), i, t) sampled +=
      json_integer_value(json_object_get(t, "samples")) > 10;
  cr_expect_geq(sampled, 4, "the fallback threads are sampled");
  json_decref(s);
}

Test(cpu_profiler, wall_mode_keeps_poll_timeouts_whole)
{
  json_t *s = stress_mode("poll", PS_CPU_WALL, 0);
  cr_expect_gt(jint(s, "samples"), 100, "the blocked poll is sampled in wall mode");
  json_decref(s);
}

Test(cpu_profiler, inlined_frames_are_their_own_functions)
{
  char *path = bin("cpu-inline-nofp");
  char *argv[] = {path, "5", NULL};
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, 3999, NULL);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
  json_t *s = analyze(&r, NULL);
  cr_assert_geq(jint(s, "samples"), 2000);
  double inner = fshare(s, "hot_inner", "self_share"), outer = fshare(s, "outer", "self_share");
  cr_expect(fabs(inner - 0.75) <= 0.03, "inlined hot_inner self %.3f, want 0.75", inner);
  cr_expect(fabs(outer - 0.25) <= 0.03, "outer self %.3f, want 0.25", outer);
  /* hot_inner is inlined into outer: every sample of it is also outer's (the symbolizer keeps
   * the caller of an inlined instance) */
  double outer_total = fshare(s, "outer", "total_share");
  cr_expect(fabs(outer_total - 1.0) <= 0.03, "outer inclusive %.3f, want 1.0", outer_total);
  json_decref(s);
  free(path);
}

/* A real refusal: a seccomp filter makes perf_event_open fail with EACCES before the target
 * re-executes itself; the new image's profiler must fall back to timer_create and say why. */
Test(cpu_profiler, refused_perf_events_fall_back_to_timers_with_the_reason)
{
  char *path = bin("cpu-stress-nofp");
  char *argv[] = {path, "seccomp", NULL};
  struct run r;
  run_target(&r, argv, PS_CPU_CLOCK, 999, NULL);
  cr_assert(!r.timed_out);
  cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status %d: %s", r.status, r.out);
  DIR *d = opendir(r.dir);
  cr_assert_not_null(d);
  char *after = NULL;
  struct dirent *e;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "cpu.", 4) && strstr(e->d_name, ".1.pst"))
      after = ps_xasprintf("%s/%s", r.dir, e->d_name);
  closedir(d);
  cr_assert_not_null(after, "the exec'd image wrote cpu.<pid>.1.pst");
  json_t *s = NULL;
  cr_assert_eq(cpu_analyze(&after, 1, NULL, &s), 0);
  cr_expect_str_eq(json_string_value(json_object_get(s, "engine")), "timer_create");
  const char *why = json_string_value(json_object_get(s, "engine_reason"));
  cr_expect(why && strstr(why, "EACCES"), "the reason names the refusal: %s", why ? why : "null");
  cr_expect_gt(jint(s, "samples"), 100, "the fallback samples");
  json_decref(s);
  free(after);
  free(path);
}
