/* cmd-doctor.c - `perfsweep doctor`: can this machine profile? Each check prints its status and,
 * when it is not ok, the fix.
 *
 *   $ perfsweep doctor
 *   ok    perf-events   perf_event_open(cpu-clock) works (perf_event_paranoid = 2)
 *   FAIL  alloc-probe   libperfsweep-alloc.so not found
 *         fix: build the probes (scripts/build.sh) or set PERFSWEEP_LIBDIR
 *
 * Exit 0 when every needed part works, PS_EXIT_ENVIRONMENT otherwise. Never prints a password.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "builtin.h"
#include "launch.h"
#include "probe-env.h"
#include "sweep-plan.h"
#include "dsn.h"
#include "util.h"

static const char doctor_usage[] =
    "usage: perfsweep doctor [--dsn DSN] [--json]\n\n"
    "Checks that this machine can profile: perf events, the allocation and CPU probes load and\n"
    "record, libunwind unwinds, gnuplot and jemalloc are present, and (with --dsn) that the\n"
    "PostgreSQL server answers. Each problem comes with its fix. Exit 4 if a needed part fails.\n\n"
    "Examples:\n"
    "  perfsweep doctor\n"
    "  perfsweep doctor --dsn postgresql://bench@localhost/perfsweep --json\n";

enum level { OK, WARN, FAIL };
static const char *level_names[] = {"ok", "warn", "FAIL"};

struct check {
  const char *name;
  int needed;
  enum level level;
  char *detail, *fix;
};

static void set(struct check *c, enum level l, char *detail, char *fix)
{
  c->level = l;
  c->detail = detail;
  c->fix = fix;
}

static char *read_first_line(const char *path)
{
  char *d = NULL;
  size_t n;
  if (ps_read_file(path, &d, &n) < 0)
    return NULL;
  d[strcspn(d, "\n")] = '\0';
  return d;
}

static void check_perf(struct check *c)
{
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.disabled = 1;
  long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
  char *par = read_first_line("/proc/sys/kernel/perf_event_paranoid");
  if (fd >= 0) {
    close((int)fd);
    set(c, OK, ps_xasprintf("perf_event_open(cpu-clock) works (perf_event_paranoid = %s)",
                            par ? par : "?"),
        NULL);
  } else if (errno == EACCES || errno == EPERM) {
    set(c, WARN, ps_xasprintf("perf_event_open refused (%s; perf_event_paranoid = %s); the CPU "
                              "probe falls back to timer_create",
                              strerror(errno), par ? par : "?"),
        ps_xstrdup("sudo sysctl kernel.perf_event_paranoid=2 (or 1); in a container allow "
                   "perf_event_open in the seccomp profile"));
  } else {
    set(c, WARN, ps_xasprintf("perf_event_open unavailable (%s); the CPU probe falls back to "
                              "timer_create",
                              strerror(errno)),
        ps_xstrdup("use a kernel built with CONFIG_PERF_EVENTS, or accept the timer fallback"));
  }
  free(par);
}

/* Runs a tiny child with one probe on, and looks for its trace. */
static void check_probe(struct check *c, const char *probe)
{
  char *lib = ps_probe_lib_path(probe);
  if (!lib) {
    set(c, FAIL, ps_xasprintf("libperfsweep-%s.so not found", probe),
        ps_xstrdup("build the probes with scripts/build.sh, or set PERFSWEEP_LIBDIR to the "
                   "folder holding libperfsweep-*.so"));
    return;
  }
  char dir[] = "/tmp/perfsweep-doctor-XXXXXX";
  if (!mkdtemp(dir)) {
    set(c, FAIL, ps_xasprintf("cannot create a temporary folder: %s", strerror(errno)),
        ps_xstrdup("make /tmp writable"));
    free(lib);
    return;
  }
  struct ps_probe_opts o = {.trace_dir = dir};
  if (!strcmp(probe, "alloc"))
    o.alloc = PS_ALLOC_EXACT;
  else
    o.cpu = PS_CPU_CLOCK;
  const char *missing = NULL;
  char **env = ps_probe_env(&o, NULL, &missing);
  /* the shell allocates, loops a little (CPU samples) and forks ls (a traced child) */
  char *argv[] = {"/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; ls / >/dev/null",
                  NULL};
  struct ps_launch_opts lo = {.timeout = 20};
  struct ps_launch_result r;
  int rc = env ? ps_launch(argv, env, &lo, &r) : -ENOENT;
  size_t traces = 0;
  long long bytes = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, probe, strlen(probe)))
      continue;
    char *p = ps_xasprintf("%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(p, &st) == 0 && st.st_size > 0) {
      traces++;
      bytes += st.st_size;
    }
    unlink(p);
    free(p);
  }
  if (d)
    closedir(d);
  rmdir(dir);
  if (rc < 0 || !r.started) {
    set(c, FAIL, ps_xstrdup("could not run /bin/sh with the probe preloaded"),
        ps_xstrdup("check that /bin/sh exists and that LD_PRELOAD is allowed"));
  } else if (r.signal || r.exit_code) {
    set(c, FAIL, ps_xasprintf("a child with the %s probe failed (%s)", probe,
                              r.signal ? strsignal(r.signal) : "non-zero exit"),
        ps_xasprintf("rebuild the probes; run 'perfsweep profile --%s -- /bin/true' to see the "
                     "error",
                     probe));
  } else if (!traces) {
    set(c, FAIL, ps_xasprintf("the %s probe loaded but wrote no trace", probe),
        ps_xstrdup("check that the target is dynamically linked and not setuid, and that "
                   "PERFSWEEP_TRACE_DIR is writable"));
  } else {
    set(c, OK, ps_xasprintf("%s intercepts: %zu trace file(s), %lld bytes", lib, traces, bytes),
        NULL);
  }
  if (env)
    ps_launch_result_release(&r);
  ps_env_free(env);
  free(lib);
}

static void check_unwind(struct check *c)
{
  void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    set(c, FAIL, ps_xstrdup("libunwind.so.8 cannot be loaded"),
        ps_xstrdup("apt-get install libunwind8 (libunwind-dev to build)"));
    return;
  }
  int (*bt)(void **, int) = (int (*)(void **, int))dlsym(h, "unw_backtrace");
  void *ips[32];
  int n = bt ? bt(ips, 32) : 0;
  if (n >= 2)
    set(c, OK, ps_xasprintf("unw_backtrace unwound %d frames", n), NULL);
  else
    set(c, FAIL, ps_xasprintf("unw_backtrace returned %d frames", n),
        ps_xstrdup("reinstall libunwind8; check that binaries carry .eh_frame"));
  dlclose(h);
}

static char *which(const char *cmd)
{
  const char *path = getenv("PATH");
  char *copy = ps_xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL, *found = NULL;
  for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
    char *f = ps_xasprintf("%s/%s", d, cmd);
    if (access(f, X_OK) == 0)
      found = f;
    else
      free(f);
  }
  free(copy);
  return found;
}

static void check_pg(struct check *c, const char *dsn)
{
  char *masked = ps_dsn_mask(dsn);
  PGPing p = PQping(dsn);
  if (p == PQPING_OK) {
    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) == CONNECTION_OK)
      set(c, OK, ps_xasprintf("%s reachable, connected (server %d)", masked,
                              PQserverVersion(conn)),
          NULL);
    else
      set(c, FAIL, ps_xasprintf("%s answers but refused the connection", masked),
          ps_xstrdup("check the user, password and database in the DSN and pg_hba.conf"));
    PQfinish(conn);
  } else if (p == PQPING_REJECT) {
    set(c, FAIL, ps_xasprintf("%s is up but rejects connections (starting or shutting down)",
                              masked),
        ps_xstrdup("wait for the server to finish starting, or check max_connections"));
  } else if (p == PQPING_NO_RESPONSE) {
    set(c, FAIL, ps_xasprintf("no PostgreSQL server answers at %s", masked),
        ps_xstrdup("start the server (scripts/pg-start.sh) or fix host and port in the DSN"));
  } else {
    set(c, FAIL, ps_xasprintf("the DSN %s is malformed", masked),
        ps_xstrdup("write it as postgresql://user@host:port/db or 'host=... dbname=...'"));
  }
  free(masked);
}

int cmd_doctor(int argc, char **argv)
{
  static const struct option opts[] = {{"dsn", required_argument, NULL, 'd'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *dsn = NULL;
  int json = 0, c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    if (c == 'd')
      dsn = optarg;
    else if (c == 'j')
      json = 1;
    else if (c == 'h') {
      fputs(doctor_usage, stdout);
      return PS_EXIT_OK;
    } else {
      ps_error("unknown option or missing value '%s'; see 'perfsweep doctor --help'",
               argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    ps_error("unexpected argument '%s'; see 'perfsweep doctor --help'", argv[optind]);
    return PS_EXIT_USAGE;
  }
  struct check checks[8] = {
    {.name = "perf-events", .needed = 0}, {.name = "alloc-probe", .needed = 1},
    {.name = "cpu-probe", .needed = 1},   {.name = "libunwind", .needed = 1},
    {.name = "gnuplot", .needed = 0},     {.name = "jemalloc", .needed = 0},
    {.name = "postgresql", .needed = 1},
  };
  size_t n = dsn ? 7 : 6;
  check_perf(&checks[0]);
  check_probe(&checks[1], "alloc");
  check_probe(&checks[2], "cpu");
  check_unwind(&checks[3]);
  char *gp = which("gnuplot");
  if (gp)
    set(&checks[4], OK, ps_xasprintf("%s", gp), NULL);
  else
    set(&checks[4], WARN, ps_xstrdup("gnuplot not found: perfsweep report draws no charts"),
        ps_xstrdup("apt-get install gnuplot-nox (or use perfsweep report --no-charts)"));
  free(gp);
  char *je = ps_find_jemalloc();
  if (je)
    set(&checks[5], OK, ps_xasprintf("%s", je), NULL);
  else
    set(&checks[5], WARN, ps_xstrdup("libjemalloc.so.2 not found: --allocator jemalloc fails"),
        ps_xstrdup("apt-get install libjemalloc2, or set PERFSWEEP_JEMALLOC"));
  free(je);
  if (dsn)
    check_pg(&checks[6], dsn);

  int failed = 0;
  for (size_t i = 0; i < n; i++)
    failed += checks[i].needed && checks[i].level == FAIL;
  if (json) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(arr, json_pack("{sssssbssso}", "name", checks[i].name, "status",
                                           checks[i].level == FAIL ? "fail"
                                                                   : level_names[checks[i].level],
                                           "needed", checks[i].needed, "detail", checks[i].detail,
                                           "fix", checks[i].fix ? json_string(checks[i].fix)
                                                                : json_null()));
    json_t *o = json_pack("{sosb}", "checks", arr, "ok", !failed);
    char *t = json_dumps(o, JSON_INDENT(2));
    printf("%s\n", t);
    free(t);
    json_decref(o);
  } else {
    int color = ps_use_color(stdout);
    for (size_t i = 0; i < n; i++) {
      const char *on = "", *off = color ? "\033[0m" : "";
      if (color)
        on = checks[i].level == OK ? "\033[32m" : checks[i].level == WARN ? "\033[33m" : "\033[31m";
      printf("%s%-5s%s %-12s %s\n", on, level_names[checks[i].level], color ? off : "",
             checks[i].name, checks[i].detail);
      if (checks[i].fix)
        printf("      fix: %s\n", checks[i].fix);
    }
    printf(failed ? "\n%d needed part(s) missing: this machine cannot profile yet.\n"
                  : "\nthis machine can profile.\n",
           failed);
  }
  for (size_t i = 0; i < n; i++) {
    free(checks[i].detail);
    free(checks[i].fix);
  }
  return failed ? PS_EXIT_ENVIRONMENT : PS_EXIT_OK;
}
