/* cmd-run.c - `perfsweep run`: run a workload across a sweep of parameters, timed and profiled.
 *
 *   $ perfsweep run --param n=1,2 --runs 5 -- ./prog --size {n}
 *   cell      ok   median      95% CI (median)      cv    max RSS   throughput
 *   n=1      5/5   0.0123 s   [0.0121, 0.0126]     1.2%   3.1 MiB   -
 *
 * Validates everything (axes, placeholders, command, output folder) before writing anything;
 * then each finished run is written atomically; SIGINT/SIGTERM keep what finished (exit 130).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "launch.h"
#include "logjson.h"
#include "machine.h"
#include "results.h"
#include "sweep-plan.h"
#include "sweep-run.h"
#include "util.h"

static const char run_usage[] =
    "usage: perfsweep run [options] features|batch\n"
    "       perfsweep run [options] --param NAME=VALUES... -- COMMAND [ARGS with {NAME}]\n"
    "       perfsweep run --resume DIR\n\n"
    "Runs a command for every cell of a parameter matrix, repeated and interleaved in a seeded\n"
    "shuffled order, measures each run (wall, CPU, RSS, faults, timeline, stage metrics),\n"
    "profiles one extra run per cell with the CPU and allocation probes, and writes\n"
    "DIR/results.json (perfsweep.results/1).\n\n"
    "Matrix:\n"
    "  --param NAME=VALUES     an axis substituted into {NAME}: 1,2,4 | 1..64*2 | 1..10+3\n"
    "  --env NAME=VALUES       an axis set as environment variable NAME\n"
    "  --allocator LIST        glibc,jemalloc (jemalloc is preloaded)\n"
    "  --batch-sizes VALUES    features/batch: the batch axis (default 100,1000,10000)\n"
    "  --workers VALUES        features/batch: the workers axis (default 1,2,4)\n"
    "  --scale S               features: dataset scale tiny|small|medium|large (default tiny)\n"
    "  --spec FILE             the matrix and options from a JSON file (docs/cli.md)\n"
    "  --shell                 run COMMAND with /bin/sh -c (values are shell-quoted)\n"
    "Repeats:\n"
    "  --runs N (5)  --warmup N (1)  --min-time S (0)  --timeout S (600)  --seed N (random)\n"
    "  --profile cpu,alloc|cpu|alloc|none (cpu,alloc)   --poll-interval S (0.01)\n"
    "  --shard K/N             run the K-th of N deterministic subsets of the cells\n"
    "Output:\n"
    "  -o, --out DIR           output folder (default ./perfsweep-runs/<date-time>)\n"
    "  --resume DIR            complete an interrupted sweep in DIR\n"
    "  --json                  print the summary as JSON   -q, --quiet  no progress\n"
    "  --log-json FILE         structured log lines (level, time, event, fields)\n\n"
    "Examples:\n"
    "  perfsweep run features --batch-sizes 100,1000,10000 --workers 1,2,4 --scale tiny\n"
    "  perfsweep run --param batch=100,1000 --param w=1..4*2 -- ./prog --batch {batch} -t {w}\n"
    "  perfsweep run --allocator glibc,jemalloc --runs 10 -- ./prog\n"
    "  perfsweep run --shard 1/2 -o part1 features && perfsweep merge part1 part2 -o all\n\n"
    "Exit: 0 all runs ok, 3 bad input, 4 environment, 5 some run failed (recorded),\n"
    "      6 output not writable, 130 interrupted (resume with --resume DIR).\n";

enum {
  OPT_PARAM = 256, OPT_ENV, OPT_ALLOC, OPT_BATCH, OPT_WORKERS, OPT_SCALE, OPT_SPEC, OPT_SHELL,
  OPT_RUNS, OPT_WARMUP, OPT_MINTIME, OPT_TIMEOUT, OPT_SEED, OPT_PROFILE, OPT_POLL, OPT_SHARD,
  OPT_RESUME, OPT_JSON, OPT_LOG
};

static const struct option run_options[] = {
  {"param", required_argument, NULL, OPT_PARAM},
  {"env", required_argument, NULL, OPT_ENV},
  {"allocator", required_argument, NULL, OPT_ALLOC},
  {"batch-sizes", required_argument, NULL, OPT_BATCH},
  {"workers", required_argument, NULL, OPT_WORKERS},
  {"scale", required_argument, NULL, OPT_SCALE},
  {"spec", required_argument, NULL, OPT_SPEC},
  {"shell", no_argument, NULL, OPT_SHELL},
  {"runs", required_argument, NULL, OPT_RUNS},
  {"warmup", required_argument, NULL, OPT_WARMUP},
  {"min-time", required_argument, NULL, OPT_MINTIME},
  {"timeout", required_argument, NULL, OPT_TIMEOUT},
  {"seed", required_argument, NULL, OPT_SEED},
  {"profile", required_argument, NULL, OPT_PROFILE},
  {"poll-interval", required_argument, NULL, OPT_POLL},
  {"shard", required_argument, NULL, OPT_SHARD},
  {"out", required_argument, NULL, 'o'},
  {"resume", required_argument, NULL, OPT_RESUME},
  {"json", no_argument, NULL, OPT_JSON},
  {"log-json", required_argument, NULL, OPT_LOG},
  {"quiet", no_argument, NULL, 'q'},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
  (void)sig;
  run_stop = 1;
}

static int parse_uint(const char *opt, const char *s, unsigned *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || !*s || s[0] == '-' || v > 1000000) {
    ps_error("%s '%s' is not a whole number (0 .. 1000000)", opt, s);
    return -1;
  }
  *out = (unsigned)v;
  return 0;
}

static int parse_seconds(const char *opt, const char *s, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (*end || !*s || !(v >= 0) || !isfinite(v)) {
    ps_error("%s '%s' is not a number of seconds >= 0", opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* NAME=VALUES into an axis. */
static int add_axis_opt(struct ps_plan *p, const char *opt, const char *arg, enum ps_axis_kind k)
{
  const char *eq = strchr(arg, '=');
  if (!eq) {
    ps_error("%s '%s' must be NAME=VALUES, e.g. %s batch=100,1000", opt, arg, opt);
    return -1;
  }
  char *name = ps_xasprintf("%.*s", (int)(eq - arg), arg);
  char err[512];
  int rc = ps_sweep_add_axis(&p->sweep, name, k, eq + 1, err, sizeof(err));
  if (rc)
    ps_error("%s: %s", opt, err);
  free(name);
  return rc;
}

static char *utc_now(const char *fmt)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), fmt, &tm);
  return ps_xstrdup(buf);
}

static char *default_out(void)
{
  char *stamp = utc_now("%Y%m%d-%H%M%S");
  char *dir = ps_xasprintf("perfsweep-runs/%s", stamp);
  for (int i = 2; access(dir, F_OK) == 0; i++) {
    free(dir);
    dir = ps_xasprintf("perfsweep-runs/%s-%d", stamp, i);
  }
  free(stamp);
  return dir;
}

/* Creates out and its subfolders; refuses a folder that already holds a sweep. */
static int prepare_out(const char *out, int resume)
{
  char *res = ps_xasprintf("%s/%s", out, PS_RESULTS_FILE);
  int exists = access(res, F_OK) == 0;
  free(res);
  if (exists && !resume) {
    ps_error("%s already holds a sweep (results.json); continue it with 'perfsweep run --resume "
             "%s' or choose another folder with -o",
             out, out);
    return PS_EXIT_USAGE;
  }
  const char *subs[] = {"", "/runs", "/logs", "/metrics"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(subs); i++) {
    char *d = ps_xasprintf("%s%s", out, subs[i]);
    int rc = ps_mkdir_p(d, 0755);
    if (rc == 0 && access(d, W_OK) != 0)
      rc = -errno;
    if (rc < 0) {
      ps_error("cannot create the output folder %s: %s; choose a writable folder with -o", d,
               strerror(-rc));
      free(d);
      return PS_EXIT_IO;
    }
    free(d);
  }
  return 0;
}

static void fmt_kb(char *buf, size_t n, double kb)
{
  if (!isfinite(kb))
    snprintf(buf, n, "-");
  else if (kb >= 1024 * 1024)
    snprintf(buf, n, "%.2f GiB", kb / 1048576);
  else
    snprintf(buf, n, "%.1f MiB", kb / 1024);
}

static double stat_of(json_t *cell, const char *metric, const char *key)
{
  json_t *v = json_object_get(json_object_get(json_object_get(cell, "stats"), metric), key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static void print_table(json_t *root, const char *path)
{
  printf("%-32s %7s %11s %23s %7s %10s %12s\n", "cell", "ok", "median", "95% CI (median)", "cv",
         "max RSS", "records/s");
  size_t i;
  json_t *cell;
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    size_t ok = 0, timed = 0, j;
    json_t *r;
    json_array_foreach(json_object_get(cell, "runs"), j, r) {
      if (json_is_true(json_object_get(r, "warmup")))
        continue;
      timed++;
      ok += !strcmp(json_string_value(json_object_get(r, "status")) ?: "", "ok");
    }
    char okb[32], ci[64], rss[32], thr[32], cv[16];
    snprintf(okb, sizeof(okb), "%zu/%zu", ok, timed);
    json_t *c95 = json_object_get(json_object_get(json_object_get(cell, "stats"), "wall"),
                                  "ci95_median");
    if (json_is_number(json_array_get(c95, 0)))
      snprintf(ci, sizeof(ci), "[%.4f, %.4f]", json_number_value(json_array_get(c95, 0)),
               json_number_value(json_array_get(c95, 1)));
    else
      snprintf(ci, sizeof(ci), "-");
    double c = stat_of(cell, "wall", "cv");
    if (isfinite(c))
      snprintf(cv, sizeof(cv), "%.1f%%", c * 100);
    else
      snprintf(cv, sizeof(cv), "-");
    fmt_kb(rss, sizeof(rss), stat_of(cell, "max_rss_kb", "median"));
    double t = stat_of(cell, "throughput", "median");
    if (isfinite(t))
      snprintf(thr, sizeof(thr), "%.0f", t);
    else
      snprintf(thr, sizeof(thr), "-");
    double med = stat_of(cell, "wall", "median");
    char meds[32];
    if (isfinite(med))
      snprintf(meds, sizeof(meds), "%.4f s", med);
    else
      snprintf(meds, sizeof(meds), "-");
    printf("%-32.32s %7s %11s %23s %7s %10s %12s\n", json_string_value(json_object_get(cell, "id")),
           okb, meds, ci, cv, rss, thr);
    json_t *w;
    json_array_foreach(json_object_get(cell, "warnings"), j, w)
      printf("    warning: %s\n", json_string_value(w));
  }
  json_t *s = json_object_get(root, "summary");
  printf("\n%lld cells, %lld runs, %lld failed, %.1f s; results: %s\n",
         (long long)json_integer_value(json_object_get(s, "cells")),
         (long long)json_integer_value(json_object_get(s, "runs")),
         (long long)json_integer_value(json_object_get(s, "failed_runs")),
         json_number_value(json_object_get(s, "duration")), path);
}

static void print_json(json_t *root, const char *path)
{
  json_t *cells = json_array();
  size_t i;
  json_t *cell;
  json_array_foreach(json_object_get(root, "cells"), i, cell) {
    json_t *st = json_object_get(cell, "stats");
    json_array_append_new(cells, json_pack("{sOsOsOsOsOsOsO}", "id", json_object_get(cell, "id"),
                                           "params", json_object_get(cell, "params"),
                                           "success_rate", json_object_get(cell, "success_rate"),
                                           "wall", json_object_get(st, "wall") ?: json_null(),
                                           "max_rss_kb",
                                           json_object_get(st, "max_rss_kb") ?: json_null(),
                                           "throughput",
                                           json_object_get(st, "throughput") ?: json_null(),
                                           "warnings", json_object_get(cell, "warnings")));
  }
  json_t *o = json_pack("{sssOso}", "results", path, "summary", json_object_get(root, "summary"),
                        "cells", cells);
  char *text = json_dumps(o, JSON_INDENT(2));
  printf("%s\n", text);
  free(text);
  json_decref(o);
}

/* The built-in workloads: features and batch. */
static int set_workload(struct ps_plan *p, const char *name, const char *batches,
                        const char *workers, const char *scale)
{
  char *exe = ps_exe_dir();
  char *bin = ps_xasprintf("%s/perfsweep-%s", exe, name);
  free(exe);
  int rc = 0;
  if (strcmp(name, "features") && strcmp(name, "batch")) {
    ps_error("'%s' is not a built-in workload (features, batch); to run a command put it after "
             "--, e.g. perfsweep run --param n=1,2 -- ./prog {n}",
             name);
    rc = PS_EXIT_USAGE;
  } else if (access(bin, X_OK) != 0) {
    ps_error("the %s workload is not built (%s is missing); build it with scripts/build.sh", name,
             bin);
    rc = PS_EXIT_ENVIRONMENT;
  }
  if (rc) {
    free(bin);
    return rc;
  }
  char err[512];
  if (ps_sweep_add_axis(&p->sweep, "batch", PS_AXIS_PARAM, batches ? batches : "100,1000,10000",
                        err, sizeof(err)) ||
      ps_sweep_add_axis(&p->sweep, "workers", PS_AXIS_PARAM, workers ? workers : "1,2,4", err,
                        sizeof(err))) {
    ps_error("%s", err);
    free(bin);
    return PS_EXIT_USAGE;
  }
  char *src = ps_xasprintf("gen:%s", scale ? scale : "tiny");
  if (!strcmp(name, "features")) {
    char *w[] = {bin, "run", "--source", src, "--batch-size", "{batch}", "--workers", "{workers}",
                 "--sink", "none"};
    ps_plan_set_argv(p, w, PS_ARRAY_SIZE(w));
  } else {
    char *w[] = {bin, "--batch-size", "{batch}", "--workers", "{workers}"};
    ps_plan_set_argv(p, w, PS_ARRAY_SIZE(w));
  }
  free(p->kind);
  p->kind = ps_xstrdup(name);
  free(src);
  free(bin);
  return 0;
}

int cmd_run(int argc, char **argv)
{
  struct ps_plan plan;
  ps_plan_init(&plan);
  const char *out = NULL, *resume = NULL, *log_path = NULL, *spec = NULL;
  const char *batches = NULL, *workers = NULL, *scale = NULL;
  int json = 0, quiet = 0, have_seed = 0, rc = PS_EXIT_USAGE, shell = 0;
  char err[1024];
  struct { int set; unsigned v; } runs = {0, 0}, warmup = {0, 0};
  double min_time = -1, timeout = -1, poll = -1;
  const char *profile = NULL, *shard = NULL;
  uint64_t seed = 0;
  json_t *header = NULL;
  char *outdir = NULL;

  int nopts = argc;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--")) {
      nopts = i;
      break;
    }
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(nopts, argv, ":o:qh", run_options, NULL)) != -1) {
    switch (c) {
    case OPT_PARAM:
    case OPT_ENV:
      if (add_axis_opt(&plan, c == OPT_PARAM ? "--param" : "--env", optarg,
                       c == OPT_PARAM ? PS_AXIS_PARAM : PS_AXIS_ENV))
        goto out;
      break;
    case OPT_ALLOC:
      if (ps_sweep_add_axis(&plan.sweep, "allocator", PS_AXIS_ALLOCATOR, optarg, err,
                            sizeof(err))) {
        ps_error("--allocator: %s", err);
        goto out;
      }
      break;
    case OPT_BATCH: batches = optarg; break;
    case OPT_WORKERS: workers = optarg; break;
    case OPT_SCALE: scale = optarg; break;
    case OPT_SPEC: spec = optarg; break;
    case OPT_SHELL: shell = 1; break;
    case OPT_RUNS:
      if (parse_uint("--runs", optarg, &runs.v))
        goto out;
      runs.set = 1;
      break;
    case OPT_WARMUP:
      if (parse_uint("--warmup", optarg, &warmup.v))
        goto out;
      warmup.set = 1;
      break;
    case OPT_MINTIME: if (parse_seconds("--min-time", optarg, &min_time)) goto out; break;
    case OPT_TIMEOUT: if (parse_seconds("--timeout", optarg, &timeout)) goto out; break;
    case OPT_POLL: if (parse_seconds("--poll-interval", optarg, &poll)) goto out; break;
    case OPT_SEED: {
      char *end;
      errno = 0;
      seed = strtoull(optarg, &end, 10);
      if (*end || !*optarg || optarg[0] == '-' || errno) {
        ps_error("--seed '%s' is not a whole number", optarg);
        goto out;
      }
      have_seed = 1;
      break;
    }
    case OPT_PROFILE: profile = optarg; break;
    case OPT_SHARD: shard = optarg; break;
    case 'o': out = optarg; break;
    case OPT_RESUME: resume = optarg; break;
    case OPT_JSON: json = 1; break;
    case OPT_LOG: log_path = optarg; break;
    case 'q': quiet = 1; break;
    case 'h':
      fputs(run_usage, stdout);
      rc = PS_EXIT_OK;
      goto out;
    case ':':
      ps_error("option '%s' needs a value; see 'perfsweep run --help'", argv[optind - 1]);
      goto out;
    default:
      ps_error("unknown option '%s'; see 'perfsweep run --help'", argv[optind - 1]);
      goto out;
    }
  }

  if (resume && (plan.sweep.naxes || spec || shell || runs.set || warmup.set || min_time >= 0 ||
                 timeout >= 0 || poll >= 0 || have_seed || profile || shard || out ||
                 batches || workers || scale || optind < nopts || nopts < argc)) {
    ps_error("--resume takes the plan from %s/results.json; give it alone (with -q, --json or "
             "--log-json at most)",
             resume);
    rc = PS_EXIT_USAGE;
    goto out;
  }
  if (resume) {
    json_t *old;
    if ((rc = ps_results_load_or_report(resume, &old)))
      goto out;
    if ((rc = ps_plan_from_results(&plan, old, err, sizeof(err)))) {
      ps_error("%s: %s", resume, err);
      json_decref(old);
      goto out;
    }
    header = old;
    json_object_del(header, "cells");
    outdir = ps_xstrdup(resume);
  } else {
    if (spec && (rc = ps_plan_load_spec(&plan, spec, err, sizeof(err)))) {
      ps_error("%s", err);
      goto out;
    }
    if (nopts < argc) {
      if (optind < nopts) {
        ps_error("'%s' before -- is not an option; put the command after --", argv[optind]);
        rc = PS_EXIT_USAGE;
        goto out;
      }
      if (nopts + 1 >= argc) {
        ps_error("nothing after --; give the command to run, e.g. -- ./prog {n}");
        rc = PS_EXIT_USAGE;
        goto out;
      }
      ps_plan_set_argv(&plan, argv + nopts + 1, (size_t)(argc - nopts - 1));
      free(plan.kind);
      plan.kind = ps_xstrdup("command");
      if (shell) {
        /* one script: the words joined by spaces, as a shell would read them */
        size_t len = 1;
        for (int i = nopts + 1; i < argc; i++)
          len += strlen(argv[i]) + 1;
        char *script = ps_xcalloc(len, 1);
        for (int i = nopts + 1; i < argc; i++) {
          strcat(script, argv[i]);
          if (i + 1 < argc)
            strcat(script, " ");
        }
        char *w[] = {script};
        ps_plan_set_argv(&plan, w, 1);
        free(script);
      }
    } else if (optind < nopts) {
      if (optind + 1 < nopts) {
        ps_error("unexpected argument '%s'; put a command after --", argv[optind + 1]);
        rc = PS_EXIT_USAGE;
        goto out;
      }
      if ((rc = set_workload(&plan, argv[optind], batches, workers, scale)))
        goto out;
    }
    if (shell)
      plan.shell = 1;
    if ((batches || workers || scale) && strcmp(plan.kind, "features") && strcmp(plan.kind, "batch")) {
      ps_error("--batch-sizes, --workers and --scale belong to the features and batch workloads; "
               "for a command use --param batch=... and {batch}");
      rc = PS_EXIT_USAGE;
      goto out;
    }
    if (runs.set)
      plan.runs = runs.v;
    if (warmup.set)
      plan.warmup = warmup.v;
    if (min_time >= 0)
      plan.min_time = min_time;
    if (timeout >= 0)
      plan.timeout = timeout;
    if (poll >= 0)
      plan.poll_interval = poll;
    if (profile && ps_plan_set_profile(&plan, profile, err, sizeof(err)) < 0) {
      ps_error("%s", err);
      rc = PS_EXIT_USAGE;
      goto out;
    }
    if (shard && ps_shard_parse(shard, &plan.shard_k, &plan.shard_n, err, sizeof(err)) < 0) {
      ps_error("%s", err);
      rc = PS_EXIT_USAGE;
      goto out;
    }
    if (have_seed)
      plan.seed = seed;
    else if (!spec || !plan.seed)
      plan.seed = ((uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid()) % 1000000007u;
  }
  if ((rc = ps_plan_check(&plan, err, sizeof(err)))) {
    ps_error("%s", err);
    goto out;
  }
  if (!resume) {
    outdir = out ? ps_xstrdup(out) : default_out();
    if ((rc = prepare_out(outdir, 0)))
      goto out;
    char *created = utc_now("%Y-%m-%dT%H:%M:%SZ");
    json_t *jargv = json_array();
    json_array_append_new(jargv, json_string("perfsweep"));
    for (int i = 0; i < argc; i++)
      json_array_append_new(jargv, json_string(argv[i]));
    header = json_pack("{sssssssososososo}", "schema", PS_RESULTS_SCHEMA, "perfsweep_version",
                       PERFSWEEP_VERSION, "created", created, "argv", jargv, "workload",
                       ps_plan_workload_json(&plan), "sweep", ps_plan_sweep_json(&plan),
                       "machine", ps_machine_info(), "summary", json_pack("{sf}", "duration", 0.0));
    free(created);
    /* results.json exists from the start so that --resume works even after a SIGKILL */
    json_t *first = ps_runner_collect(&plan, header, outdir, 0, 0);
    char *path = ps_xasprintf("%s/%s", outdir, PS_RESULTS_FILE);
    int wr = ps_runner_write_results(path, first, 0);
    json_decref(first);
    if (wr < 0) {
      ps_error("cannot write %s: %s; choose a writable folder with -o", path, strerror(-wr));
      free(path);
      rc = PS_EXIT_IO;
      goto out;
    }
    free(path);
  } else if ((rc = prepare_out(outdir, 1))) {
    goto out;
  }
  if (log_path && ps_log_open(log_path) < 0) {
    ps_error("cannot open the log file %s: %s", log_path, strerror(errno));
    rc = PS_EXIT_IO;
    goto out;
  }

  struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
  sigemptyset(&sa.sa_mask);
  run_stop = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct ps_runner_opts ro = {.out = outdir, .quiet = quiet, .stop = &run_stop};
  json_t *root = NULL; /* what was written to results.json: printed without reading it back */
  sigset_t old_mask; /* the runs are waited for by SIGCHLD (launch.h); no thread exists yet */
  int by_signal = ps_launch_wait_by_signal(&old_mask) == 0;
  rc = ps_runner_execute(&plan, header, &ro, &root);
  if (by_signal)
    ps_launch_wait_by_pidfd(&old_mask);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  ps_log_close();

  char *path = ps_xasprintf("%s/%s", outdir, PS_RESULTS_FILE);
  if (rc != PS_EXIT_IO && root) {
    if (json)
      print_json(root, path);
    else
      print_table(root, path);
  }
  json_decref(root);
  if (rc == PS_EXIT_INTERRUPTED)
    ps_error("interrupted: the finished runs are kept in %s; complete the sweep with "
             "'perfsweep run --resume %s'",
             outdir, outdir);
  else if (rc == PS_EXIT_TARGET)
    ps_warn("some runs failed; they are recorded with their error in %s", path);
  free(path);
out:
  json_decref(header);
  free(outdir);
  ps_plan_release(&plan);
  return rc;
}
