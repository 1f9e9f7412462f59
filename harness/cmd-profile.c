/* cmd-profile.c - `perfsweep profile`: runs one command with the allocation tracer and/or the CPU
 * profiler preloaded, waits for it, analyses the traces of every process it started and writes
 * profile.json (an object with "alloc" and/or "cpu", docs/results-schema.md) into the output
 * folder, then prints the summaries.
 *
 *   $ perfsweep profile --alloc -o prof -- ./myprog input.txt
 *   Allocations (exact): 12034 calls, 3.1 MiB allocated
 *   Peak heap: 1.2 MiB at 0.412 s; peak RSS 9.8 MiB
 *   Leaked at exit: 3 blocks, 96 B
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc-analysis.h"
#include "alloc-target.h"
#include "builtin.h"
#include "cpu-analysis.h"
#include "probe-env.h"
#include "trace-compress.h"
#include "trace-reader.h"
#include "util.h"

static const char profile_usage[] =
    "usage: perfsweep profile [--alloc[=exact|sample]] [--cpu[=cpu-clock|task-clock|wall]]\n"
    "                         [--freq HZ] [--sample-interval BYTES] [--depth N] [--mmap]\n"
    "                         [--preload LIB] [-o DIR] [--json] [--top N] [--diff BASE]\n"
    "                         [--no-compress | --keep-raw]\n"
    "                         -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD (no shell) with perfsweep's probes preloaded, then analyses the traces of every\n"
    "process it started (children and exec'd programs included) and writes DIR/profile.json.\n"
    "With neither --alloc nor --cpu, both run.\n"
    "\n"
    "  --alloc[=MODE]         allocation tracer: exact (default) or sample (Poisson byte sampling)\n"
    "  --cpu[=EVENT]          CPU sampling profiler: cpu-clock (default), task-clock or wall\n"
    "  --freq HZ              CPU samples per second (default 999)\n"
    "  --sample-interval B    mean bytes between samples in --alloc=sample (default 524288)\n"
    "  --depth N              deepest stack recorded (default 64)\n"
    "  --mmap                 also trace anonymous mmap/munmap\n"
    "  --preload LIB          preload LIB after the probes (e.g. libjemalloc.so.2)\n"
    "  -o, --output DIR       output folder (default perfsweep-profile)\n"
    "  --json                 print profile.json instead of the human summary (the command's\n"
    "                         own stdout then goes to stderr)\n"
    "  --top N                rows in the top tables (default 20)\n"
    "  --diff BASE            compare with an earlier profile folder or trace (sites that grew)\n"
    "  --no-compress          keep the raw traces *.pst; by default, after the analysis, each\n"
    "                         is replaced by its packed, zstd-compressed *.pst.zst (about 3x\n"
    "                         smaller; 'perfsweep analyze' reads both; --compress is accepted)\n"
    "  --keep-raw             keep the raw *.pst beside the *.pst.zst\n"
    "  --no-symbol-cache      symbolize from the debug files only, neither reading nor writing\n"
    "                         the persistent symbol cache (same as PERFSWEEP_SYMCACHE=off)\n"
    "\n"
    "Example:\n"
    "  perfsweep profile --alloc -o prof -- ./build/bin/perfsweep-features run --workers 2\n"
    "  perfsweep profile --alloc=sample --cpu -o prof2 --diff prof -- ./myprog\n"
    "\n"
    "Exit: 0 ok; 5 the command failed (the profile is still written); 3 bad usage;\n"
    "4 the command cannot be preloaded (static or setuid) or a probe library is missing.\n";

enum { OPT_ALLOC = 256, OPT_CPU, OPT_FREQ, OPT_INTERVAL, OPT_DEPTH, OPT_MMAP, OPT_JSON, OPT_TOP,
       OPT_DIFF, OPT_PRELOAD, OPT_HELP, OPT_KEEP_RAW, OPT_COMPRESS, OPT_NO_COMPRESS,
       OPT_NO_SYMCACHE };

static const struct option profile_options[] = {
    {"alloc", optional_argument, NULL, OPT_ALLOC},
    {"cpu", optional_argument, NULL, OPT_CPU},
    {"freq", required_argument, NULL, OPT_FREQ},
    {"sample-interval", required_argument, NULL, OPT_INTERVAL},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"mmap", no_argument, NULL, OPT_MMAP},
    {"preload", required_argument, NULL, OPT_PRELOAD},
    {"output", required_argument, NULL, 'o'},
    {"json", no_argument, NULL, OPT_JSON},
    {"top", required_argument, NULL, OPT_TOP},
    {"diff", required_argument, NULL, OPT_DIFF},
    {"keep-raw", no_argument, NULL, OPT_KEEP_RAW},
    {"compress", no_argument, NULL, OPT_COMPRESS},
    {"no-compress", no_argument, NULL, OPT_NO_COMPRESS},
    {"no-symbol-cache", no_argument, NULL, OPT_NO_SYMCACHE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

static volatile pid_t child_pid;

static void forward_signal(int sig)
{
  if (child_pid > 0)
    kill(child_pid, sig);
}

static int parse_ulong(const char *flag, const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || end == s || v < min || v > max || s[0] == '-') {
    ps_error("%s expects a whole number between %lu and %lu, not '%s'", flag, min, max, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* Removes traces a previous profile left in dir, so they are not mixed into this one. */
static void clear_old_traces(const char *dir)
{
  static const char *kinds[] = {"alloc", "cpu"};
  for (int k = 0; k < 2; k++) {
    char **paths = NULL;
    size_t n = 0;
    if (ps_trace_find(dir, kinds[k], &paths, &n) == 0) {
      if (n)
        ps_warn("removing %zu %s trace(s) of an earlier profile from %s", n, kinds[k], dir);
      for (size_t i = 0; i < n; i++)
        unlink(paths[i]);
    }
    ps_trace_paths_free(paths, n);
  }
}

static int errno_exit(int err)
{
  if (err == -ENOSYS)
    return PS_EXIT_ENVIRONMENT;
  if (err == -EIO || err == -ENOSPC || err == -EACCES || err == -EROFS)
    return PS_EXIT_IO;
  return PS_EXIT_USAGE;
}

int cmd_profile(int argc, char **argv)
{
  struct ps_probe_opts po = {0};
  const char *out_dir = "perfsweep-profile", *diff = NULL;
  int keep_raw = 0, compress = 1, no_compress = 0; /* compressed by default (trace-compress.h) */
  int json_out = 0, any = 0;
  unsigned long top = 20, v;
  int cpu_explicit = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "+o:", profile_options, NULL)) != -1) {
    switch (c) {
    case OPT_ALLOC: {
      int m = optarg ? ps_alloc_mode_parse(optarg) : PS_ALLOC_EXACT;
      if (m < 0) {
        ps_error("--alloc=%s: unknown mode; use exact, sample or off", optarg);
        return PS_EXIT_USAGE;
      }
      po.alloc = (enum ps_alloc_mode)m;
      any = 1;
      break;
    }
    case OPT_CPU: {
      int m = optarg ? ps_cpu_mode_parse(optarg) : PS_CPU_CLOCK;
      if (m < 0) {
        ps_error("--cpu=%s: unknown event; use cpu-clock, task-clock, wall or off", optarg);
        return PS_EXIT_USAGE;
      }
      po.cpu = (enum ps_cpu_mode)m;
      any = cpu_explicit = 1;
      break;
    }
    case OPT_FREQ:
      if (parse_ulong("--freq", optarg, 1, 100000, &v))
        return PS_EXIT_USAGE;
      po.cpu_freq = (unsigned)v;
      break;
    case OPT_INTERVAL:
      if (parse_ulong("--sample-interval", optarg, 1, 1ul << 40, &v))
        return PS_EXIT_USAGE;
      po.alloc_sample_bytes = v;
      break;
    case OPT_DEPTH:
      if (parse_ulong("--depth", optarg, 1, 256, &v))
        return PS_EXIT_USAGE;
      po.depth = (unsigned)v;
      break;
    case OPT_MMAP:
      po.alloc_mmap = 1;
      break;
    case OPT_PRELOAD:
      po.extra_preload = optarg;
      break;
    case 'o':
      out_dir = optarg;
      break;
    case OPT_JSON:
      json_out = 1;
      break;
    case OPT_TOP:
      if (parse_ulong("--top", optarg, 1, 100000, &top))
        return PS_EXIT_USAGE;
      break;
    case OPT_NO_SYMCACHE:
      setenv("PERFSWEEP_SYMCACHE", "off", 1);
      break;
    case OPT_KEEP_RAW:
      keep_raw = 1;
      break;
    case OPT_COMPRESS: /* the default since compression got packed; kept for old scripts */
      break;
    case OPT_NO_COMPRESS:
      no_compress = 1;
      compress = 0;
      break;
    case OPT_DIFF:
      diff = optarg;
      break;
    case OPT_HELP:
      fputs(profile_usage, stdout);
      return PS_EXIT_OK;
    default:
      fputs(profile_usage, stderr);
      return PS_EXIT_USAGE;
    }
  }
  if (no_compress && keep_raw) {
    ps_error("--keep-raw keeps the raw traces beside the compressed ones; with --no-compress "
             "nothing is compressed: use one of the two");
    return PS_EXIT_USAGE;
  }
  if (optind >= argc) {
    ps_error("no command to profile; put it after --, e.g. perfsweep profile --alloc -- ./prog");
    return PS_EXIT_USAGE;
  }
  if (!any) {
    po.alloc = PS_ALLOC_EXACT;
    char *lib = ps_probe_lib_path("cpu");
    po.cpu = lib ? PS_CPU_CLOCK : PS_CPU_OFF;
    free(lib);
  }
  if (po.alloc == PS_ALLOC_OFF && po.cpu == PS_CPU_OFF) {
    ps_error("both probes are off; use --alloc and/or --cpu");
    return PS_EXIT_USAGE;
  }
  (void)cpu_explicit;
  char **cmd = argv + optind;
  char *path = ps_target_resolve(cmd[0]);
  int rc = ps_target_check_preloadable(cmd[0], path);
  if (rc) {
    free(path);
    return rc;
  }
  int err = ps_mkdir_p(out_dir, 0755);
  if (err) {
    ps_error("cannot create the output folder %s: %s", out_dir, strerror(-err));
    free(path);
    return PS_EXIT_IO;
  }
  clear_old_traces(out_dir);
  char *abs_dir = realpath(out_dir, NULL);
  po.trace_dir = abs_dir;
  const char *missing = NULL;
  char **env = ps_probe_env(&po, NULL, &missing);
  if (!env) {
    ps_error("libperfsweep-%s.so was not found (looked in $PERFSWEEP_LIBDIR and next to the "
             "perfsweep binary in ../lib); build it or set PERFSWEEP_LIBDIR", missing);
    free(path);
    free(abs_dir);
    return PS_EXIT_ENVIRONMENT;
  }

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    ps_error("cannot start %s: fork failed: %s", cmd[0], strerror(errno));
    ps_env_free(env);
    free(path);
    free(abs_dir);
    return PS_EXIT_ENVIRONMENT;
  }
  if (pid == 0) {
    if (json_out) /* keep our stdout pure JSON: the target's output goes to stderr */
      dup2(STDERR_FILENO, STDOUT_FILENO);
    execve(path, cmd, env);
    fprintf(stderr, "perfsweep profile: error: cannot run %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  child_pid = pid;
  struct sigaction sa = {.sa_handler = forward_signal}, old_int, old_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int status = 0;
  struct rusage ru = {0};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
    ;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ps_env_free(env);
  double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  if (WIFSIGNALED(status))
    ps_warn("%s was killed by signal %d (%s); analysing what was traced up to then", cmd[0],
            WTERMSIG(status), strsignal(WTERMSIG(status)));
  else if (failed)
    ps_warn("%s exited with status %d; the profile is still written", cmd[0], WEXITSTATUS(status));

  json_t *prof = json_object();
  json_t *jargv = json_array();
  for (char **a = cmd; *a; a++)
    json_array_append_new(jargv, json_string(*a));
  json_object_set_new(prof, "schema", json_string("perfsweep.profile/1"));
  json_object_set_new(prof, "argv", jargv);
  json_object_set_new(prof, "exit_code", WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null());
  json_object_set_new(prof, "signal", WIFSIGNALED(status) ? json_integer(WTERMSIG(status)) : json_null());
  json_object_set_new(prof, "wall", json_real(wall));
  json_object_set_new(prof, "max_rss_kb", json_integer(ru.ru_maxrss));

  /* the traces are finished: compress them (like heaptrack's .zst) beside their analysis, which
   * only reads them; the raw ones go once both are done */
  struct ps_trace_compress_job *zjob =
      compress ? ps_trace_compress_dir_start(abs_dir, PS_TRACE_ZSTD_LEVEL) : NULL;
  int arc = 0;
  const char *kinds[2] = {po.alloc != PS_ALLOC_OFF ? "alloc" : NULL, po.cpu != PS_CPU_OFF ? "cpu" : NULL};
  for (int k = 0; k < 2 && !arc; k++) {
    if (!kinds[k])
      continue;
    char **traces = NULL;
    size_t n = 0;
    ps_trace_find(abs_dir, kinds[k], &traces, &n);
    if (n == 0) {
      ps_error("no %s trace appeared in %s: %s did not load the probe (a static or setuid "
               "program, one that clears LD_PRELOAD, or the probe could not write there)",
               kinds[k], out_dir, cmd[0]);
      arc = PS_EXIT_ENVIRONMENT;
    } else if (k == 0) {
      struct alloc_analysis_opts ao = {.out_dir = abs_dir, .top_n = top, .diff_base = diff};
      json_t *sum = NULL;
      err = alloc_analyze(traces, n, &ao, &sum);
      if (err)
        arc = errno_exit(err);
      else {
        json_object_set_new(sum, "peak_rss_kb", json_integer(ru.ru_maxrss));
        json_object_set_new(prof, "alloc", sum);
      }
    } else {
      struct cpu_analysis_opts co = {.out_dir = abs_dir, .top_n = top, .diff_base = diff};
      json_t *sum = NULL;
      err = cpu_analyze(traces, n, &co, &sum);
      if (err)
        arc = errno_exit(err);
      else
        json_object_set_new(prof, "cpu", sum);
    }
    ps_trace_paths_free(traces, n);
  }
  if (zjob && ps_trace_compress_dir_finish(zjob, keep_raw) && !arc)
    arc = PS_EXIT_IO;
  else if (compress && !zjob && ps_trace_compress_dir(abs_dir, PS_TRACE_ZSTD_LEVEL, keep_raw) &&
           !arc)
    arc = PS_EXIT_IO;
  char *pj = ps_xasprintf("%s/profile.json", abs_dir);
  char *text = json_dumps(prof, JSON_INDENT(2) | JSON_SORT_KEYS);
  size_t tl = strlen(text);
  text = ps_xrealloc(text, tl + 2);
  text[tl] = '\n';
  text[tl + 1] = 0;
  err = ps_write_file_atomic(pj, text, tl + 1);
  if (err) {
    ps_error("cannot write %s: %s", pj, strerror(-err));
    if (!arc)
      arc = PS_EXIT_IO;
  }
  if (json_out) {
    fputs(text, stdout);
  } else {
    if (json_object_get(prof, "alloc"))
      alloc_print_summary(stdout, json_object_get(prof, "alloc"));
    if (json_object_get(prof, "cpu")) {
      if (json_object_get(prof, "alloc"))
        fputc('\n', stdout);
      cpu_print_summary(stdout, json_object_get(prof, "cpu"));
    }
    printf("\nProfile written to %s\n", pj);
  }
  free(text);
  free(pj);
  json_decref(prof);
  free(path);
  free(abs_dir);
  if (failed)
    return PS_EXIT_TARGET;
  return arc;
}
