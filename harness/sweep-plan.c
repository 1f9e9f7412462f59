/* sweep-plan.c - the sweep plan: defaults, spec files, validation, the JSON form stored in
 * results.json, and the argv/environment of each cell. See sweep-plan.h.
 */
#include "sweep-plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-target.h"
#include "exit-codes.h"
#include "probe-env.h"
#include "results.h"
#include "util.h"

extern char **environ;

#define seterr ps_results_errf

static const char *kind_names[] = {"param", "env", "allocator"};

void ps_plan_init(struct ps_plan *p)
{
  memset(p, 0, sizeof(*p));
  p->kind = ps_xstrdup("command");
  p->runs = 5;
  p->warmup = 1;
  p->max_runs = 1000;
  p->timeout = 600;
  p->poll_interval = 0.01;
  p->shard_k = p->shard_n = 1;
  p->prof_cpu = p->prof_alloc = 1;
  p->profile_runs = 1;
}

void ps_argv_free(char **argv)
{
  if (!argv)
    return;
  for (char **a = argv; *a; a++)
    free(*a);
  free(argv);
}

void ps_plan_release(struct ps_plan *p)
{
  free(p->kind);
  ps_argv_free(p->argv);
  ps_sweep_release(&p->sweep);
  free(p->jemalloc);
  memset(p, 0, sizeof(*p));
}

void ps_plan_set_argv(struct ps_plan *p, char *const *argv, size_t argc)
{
  ps_argv_free(p->argv);
  p->argv = ps_xcalloc(argc + 1, sizeof(char *));
  for (size_t i = 0; i < argc; i++)
    p->argv[i] = ps_xstrdup(argv[i]);
  p->argc = argc;
}

int ps_plan_set_profile(struct ps_plan *p, const char *spec, char *err, size_t errlen)
{
  p->prof_cpu = p->prof_alloc = 0;
  if (!strcmp(spec, "none")) {
    p->profile_runs = 0;
    return 0;
  }
  char *copy = ps_xstrdup(spec), *save = NULL;
  int rc = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strcmp(t, "cpu"))
      p->prof_cpu = 1;
    else if (!strcmp(t, "alloc"))
      p->prof_alloc = 1;
    else
      rc = seterr(-1, err, errlen,
                  "--profile '%s': '%s' is not a probe; use cpu, alloc, cpu,alloc or none", spec,
                  t);
  }
  free(copy);
  if (!rc && !p->prof_cpu && !p->prof_alloc)
    rc = seterr(-1, err, errlen, "--profile '%s' names no probe; use cpu,alloc or none", spec);
  if (!rc && !p->profile_runs)
    p->profile_runs = 1;
  return rc;
}

/* ---------------------------------------------------------------- spec files */

/* An axis from a spec value: a string list/range or an array of scalars. */
static int spec_axis(struct ps_plan *p, const char *name, enum ps_axis_kind kind, json_t *v,
                     const char *path, char *err, size_t errlen)
{
  char sub[512];
  int rc;
  if (json_is_string(v)) {
    rc = ps_sweep_add_axis(&p->sweep, name, kind, json_string_value(v), sub, sizeof(sub));
  } else if (json_is_array(v)) {
    size_t n = json_array_size(v);
    char **vals = ps_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
      json_t *e = json_array_get(v, i);
      vals[i] = json_is_string(e) ? ps_xstrdup(json_string_value(e))
                : json_is_integer(e) ? ps_xasprintf("%lld", (long long)json_integer_value(e))
                : json_is_real(e)    ? ps_xasprintf("%g", json_real_value(e))
                                     : ps_xstrdup("");
    }
    rc = ps_sweep_add_axis_values(&p->sweep, name, kind, vals, n, sub, sizeof(sub));
    ps_argv_free(vals);
  } else {
    snprintf(sub, sizeof(sub), "values of '%s' must be a string like \"1,2,4\" or an array",
             name);
    rc = -1;
  }
  return rc ? seterr(PS_EXIT_USAGE, err, errlen, "%s: %s", path, sub) : 0;
}

int ps_plan_load_spec(struct ps_plan *p, const char *path, char *err, size_t errlen)
{
  json_error_t je;
  json_t *s = json_load_file(path, 0, &je);
  if (!s && je.line < 1)
    return seterr(PS_EXIT_USAGE, err, errlen, "cannot read the spec file %s: %s", path, je.text);
  if (!s)
    return seterr(PS_EXIT_USAGE, err, errlen, "the spec file %s is not valid JSON (line %d: %s)",
                  path, je.line, je.text);
  int rc = 0;
  if (!json_is_object(s)) {
    rc = seterr(PS_EXIT_USAGE, err, errlen, "%s: a spec file is a JSON object", path);
    goto out;
  }
  json_t *cmd = json_object_get(s, "command");
  if (json_is_boolean(json_object_get(s, "shell")))
    p->shell = json_is_true(json_object_get(s, "shell"));
  if (json_is_string(cmd)) {
    char *w[] = {(char *)json_string_value(cmd)};
    ps_plan_set_argv(p, w, 1);
    p->shell = 1;
  } else if (json_is_array(cmd) && json_array_size(cmd) > 0) {
    size_t n = json_array_size(cmd);
    char **w = ps_xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
      w[i] = (char *)(json_string_value(json_array_get(cmd, i)) ?: "");
    ps_plan_set_argv(p, w, n);
    free(w);
  } else if (cmd) {
    rc = seterr(PS_EXIT_USAGE, err, errlen,
                "%s: \"command\" must be an array of words or a shell string", path);
    goto out;
  }
  const char *groups[] = {"params", "env"};
  enum ps_axis_kind kinds[] = {PS_AXIS_PARAM, PS_AXIS_ENV};
  for (int g = 0; g < 2; g++) {
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(s, groups[g]), name, v) {
      if ((rc = spec_axis(p, name, kinds[g], v, path, err, errlen)))
        goto out;
    }
  }
  json_t *alloc = json_object_get(s, "allocator");
  if (alloc && (rc = spec_axis(p, "allocator", PS_AXIS_ALLOCATOR, alloc, path, err, errlen)))
    goto out;
  json_t *v;
  if ((v = json_object_get(s, "runs")) && json_is_integer(v))
    p->runs = (unsigned)json_integer_value(v);
  if ((v = json_object_get(s, "warmup")) && json_is_integer(v))
    p->warmup = (unsigned)json_integer_value(v);
  if ((v = json_object_get(s, "min_time")) && json_is_number(v))
    p->min_time = json_number_value(v);
  if ((v = json_object_get(s, "timeout")) && json_is_number(v))
    p->timeout = json_number_value(v);
  if ((v = json_object_get(s, "seed")) && json_is_integer(v))
    p->seed = (uint64_t)json_integer_value(v);
  if ((v = json_object_get(s, "profile")) && json_is_string(v) &&
      ps_plan_set_profile(p, json_string_value(v), err, errlen) < 0)
    rc = PS_EXIT_USAGE;
out:
  json_decref(s);
  return rc;
}

/* ---------------------------------------------------------------- checks */

/* The executable a command word names: itself when it has a '/', else the first match on PATH.
 * malloc'd, or NULL when there is none. */
/* The command's path (ps_target_resolve: PATH searched like execvp), malloc'd, or NULL. The
 * last answer is kept: a sweep asks for its command at planning, at the start of the runs and
 * for the results, and each search stats every PATH entry. */
static char *command_path(const char *cmd)
{
  static char *memo_cmd, *memo_path;
  if (!memo_cmd || strcmp(memo_cmd, cmd)) {
    free(memo_cmd);
    free(memo_path);
    memo_cmd = ps_xstrdup(cmd);
    memo_path = ps_target_resolve(cmd);
  }
  return memo_path ? ps_xstrdup(memo_path) : NULL;
}

static int command_exists(const char *cmd)
{
  char *p = command_path(cmd);
  free(p);
  return p != NULL;
}

char *ps_find_jemalloc(void)
{
  const char *cands[] = {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                         "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                         "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2",
                         "/usr/local/lib/libjemalloc.so.2"};
  const char *env = getenv("PERFSWEEP_JEMALLOC");
  if (env && *env && access(env, R_OK) == 0)
    return ps_xstrdup(env);
  for (size_t i = 0; i < PS_ARRAY_SIZE(cands); i++)
    if (access(cands[i], R_OK) == 0)
      return ps_xstrdup(cands[i]);
  return NULL;
}

int ps_plan_check(struct ps_plan *p, char *err, size_t errlen)
{
  if (!p->argv || !p->argc)
    return seterr(PS_EXIT_USAGE, err, errlen,
                  "no command to run; give a workload (features) or a command after --, e.g. "
                  "perfsweep run --param n=1,2 -- ./prog {n}");
  if (p->runs < 1)
    return seterr(PS_EXIT_USAGE, err, errlen, "--runs must be at least 1");
  if (p->poll_interval < 0.001)
    return seterr(PS_EXIT_USAGE, err, errlen, "--poll-interval must be at least 0.001 s");
  char sub[1024];
  if (ps_sweep_check_placeholders(&p->sweep, p->argv, p->argc, sub, sizeof(sub)) < 0)
    return seterr(PS_EXIT_USAGE, err, errlen, "%s", sub);
  size_t ncells = ps_sweep_ncells(&p->sweep);
  if (!p->shell) {
    for (size_t c = 0; c < ncells; c++) {
      char *cmd = ps_sweep_expand(&p->sweep, c, p->argv[0], 0);
      int ok = command_exists(cmd);
      if (!ok) {
        int rc = seterr(PS_EXIT_USAGE, err, errlen,
                        "the command '%s' does not exist or is not executable; check the path "
                        "(commands run without a shell: use --shell for shell syntax)",
                        cmd);
        free(cmd);
        return rc;
      }
      free(cmd);
    }
  }
  const struct ps_axis *al = ps_sweep_axis(&p->sweep, "allocator");
  if (al && al->kind == PS_AXIS_ALLOCATOR) {
    for (size_t i = 0; i < al->nvalues; i++) {
      if (!strcmp(al->values[i], "glibc"))
        continue;
      if (strcmp(al->values[i], "jemalloc"))
        return seterr(PS_EXIT_USAGE, err, errlen,
                      "--allocator '%s' is not known; use glibc and/or jemalloc", al->values[i]);
      if (!p->jemalloc && !(p->jemalloc = ps_find_jemalloc()))
        return seterr(PS_EXIT_ENVIRONMENT, err, errlen,
                      "--allocator jemalloc: libjemalloc.so.2 was not found; install it with "
                      "'apt-get install libjemalloc2' or set PERFSWEEP_JEMALLOC=/path/to/it");
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- JSON form */

json_t *ps_plan_workload_json(const struct ps_plan *p)
{
  json_t *argv = json_array();
  for (size_t i = 0; i < p->argc; i++)
    json_array_append_new(argv, json_string(p->argv[i]));
  return json_pack("{sssosb}", "kind", p->kind, "argv", argv, "shell", p->shell);
}

json_t *ps_plan_sweep_json(const struct ps_plan *p)
{
  json_t *axes = json_array();
  for (size_t i = 0; i < p->sweep.naxes; i++) {
    const struct ps_axis *a = &p->sweep.axes[i];
    json_t *vals = json_array();
    for (size_t j = 0; j < a->nvalues; j++)
      json_array_append_new(vals, json_string(a->values[j]));
    json_array_append_new(axes, json_pack("{ssssso}", "name", a->name, "kind",
                                          kind_names[a->kind], "values", vals));
  }
  json_t *prof = json_array();
  if (p->profile_runs && p->prof_cpu)
    json_array_append_new(prof, json_string("cpu"));
  if (p->profile_runs && p->prof_alloc)
    json_array_append_new(prof, json_string("alloc"));
  return json_pack("{sosIsIsIsfsfsfsIsss{sIsI}sosI}", "axes", axes, "runs", (json_int_t)p->runs,
                   "warmup", (json_int_t)p->warmup, "max_runs", (json_int_t)p->max_runs,
                   "min_time", p->min_time, "timeout", p->timeout, "poll_interval",
                   p->poll_interval, "seed", (json_int_t)p->seed, "order", "shuffled", "shard",
                   "index", (json_int_t)p->shard_k, "count", (json_int_t)p->shard_n, "profile",
                   prof, "profile_runs", (json_int_t)p->profile_runs);
}

int ps_plan_from_results(struct ps_plan *p, const json_t *root, char *err, size_t errlen)
{
  json_t *w = json_object_get(root, "workload"), *s = json_object_get(root, "sweep");
  json_t *argv = json_object_get(w, "argv");
  if (!json_is_array(argv) || !json_is_object(s))
    return seterr(PS_EXIT_USAGE, err, errlen,
                  "the results file has no \"workload\"/\"sweep\" plan to resume from");
  free(p->kind);
  p->kind = ps_xstrdup(json_string_value(json_object_get(w, "kind")) ?: "command");
  size_t n = json_array_size(argv);
  char **words = ps_xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    words[i] = (char *)(json_string_value(json_array_get(argv, i)) ?: "");
  ps_plan_set_argv(p, words, n);
  free(words);
  p->shell = json_is_true(json_object_get(w, "shell"));
  size_t i;
  json_t *ax;
  json_array_foreach(json_object_get(s, "axes"), i, ax) {
    const char *name = json_string_value(json_object_get(ax, "name")) ?: "";
    const char *k = json_string_value(json_object_get(ax, "kind")) ?: "param";
    enum ps_axis_kind kind = !strcmp(k, "env")         ? PS_AXIS_ENV
                             : !strcmp(k, "allocator") ? PS_AXIS_ALLOCATOR
                                                       : PS_AXIS_PARAM;
    json_t *vals = json_object_get(ax, "values");
    size_t nv = json_array_size(vals);
    char **v = ps_xcalloc(nv + 1, sizeof(char *));
    for (size_t j = 0; j < nv; j++)
      v[j] = (char *)(json_string_value(json_array_get(vals, j)) ?: "");
    char sub[512];
    int rc = ps_sweep_add_axis_values(&p->sweep, name, kind, v, nv, sub, sizeof(sub));
    free(v);
    if (rc)
      return seterr(PS_EXIT_USAGE, err, errlen, "the results file's sweep is damaged: %s", sub);
  }
  p->runs = (unsigned)json_integer_value(json_object_get(s, "runs"));
  p->warmup = (unsigned)json_integer_value(json_object_get(s, "warmup"));
  if (json_is_integer(json_object_get(s, "max_runs")))
    p->max_runs = (unsigned)json_integer_value(json_object_get(s, "max_runs"));
  p->min_time = json_number_value(json_object_get(s, "min_time"));
  p->timeout = json_number_value(json_object_get(s, "timeout"));
  if (json_is_number(json_object_get(s, "poll_interval")))
    p->poll_interval = json_number_value(json_object_get(s, "poll_interval"));
  p->seed = (uint64_t)json_integer_value(json_object_get(s, "seed"));
  json_t *sh = json_object_get(s, "shard");
  if (sh) {
    p->shard_k = (unsigned)json_integer_value(json_object_get(sh, "index"));
    p->shard_n = (unsigned)json_integer_value(json_object_get(sh, "count"));
  }
  p->prof_cpu = p->prof_alloc = 0;
  json_t *pv;
  json_array_foreach(json_object_get(s, "profile"), i, pv) {
    if (!strcmp(json_string_value(pv) ?: "", "cpu"))
      p->prof_cpu = 1;
    if (!strcmp(json_string_value(pv) ?: "", "alloc"))
      p->prof_alloc = 1;
  }
  p->profile_runs = (unsigned)json_integer_value(json_object_get(s, "profile_runs"));
  if (!p->prof_cpu && !p->prof_alloc)
    p->profile_runs = 0;
  if (p->runs < 1 || p->shard_k < 1 || p->shard_k > p->shard_n)
    return seterr(PS_EXIT_USAGE, err, errlen, "the results file's sweep plan is damaged");
  return 0;
}

int ps_plan_same_sweep(const json_t *a, const json_t *b, char *err, size_t errlen)
{
  if (!json_equal(json_object_get(a, "workload"), json_object_get(b, "workload")))
    return seterr(0, err, errlen, "they ran different commands (\"workload\" differs)");
  json_t *sa = json_object_get(a, "sweep"), *sb = json_object_get(b, "sweep");
  const char *keys[] = {"axes", "runs", "warmup", "min_time", "seed", "profile"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(keys); i++)
    if (!json_equal(json_object_get(sa, keys[i]), json_object_get(sb, keys[i])))
      return seterr(0, err, errlen, "their sweeps differ in \"%s\"", keys[i]);
  json_t *ca = json_object_get(json_object_get(sa, "shard"), "count");
  json_t *cb = json_object_get(json_object_get(sb, "shard"), "count");
  if (!json_equal(ca, cb))
    return seterr(0, err, errlen, "they were split into different numbers of shards");
  return 1;
}

/* ---------------------------------------------------------------- per cell */

char **ps_plan_cell_argv(const struct ps_plan *p, size_t cell)
{
  if (p->shell) {
    char **argv = ps_xcalloc(4, sizeof(char *));
    argv[0] = ps_xstrdup("/bin/sh");
    argv[1] = ps_xstrdup("-c");
    argv[2] = ps_sweep_expand(&p->sweep, cell, p->argv[0], 1);
    return argv;
  }
  char **argv = ps_xcalloc(p->argc + 1, sizeof(char *));
  for (size_t i = 0; i < p->argc; i++)
    argv[i] = ps_sweep_expand(&p->sweep, cell, p->argv[i], 0);
  /* resolve PATH here, outside the timed window, not by execvp in the child */
  char *resolved = command_path(argv[0]);
  if (resolved) {
    free(argv[0]);
    argv[0] = resolved;
  }
  return argv;
}

const char *ps_plan_cell_allocator(const struct ps_plan *p, size_t cell)
{
  for (size_t a = 0; a < p->sweep.naxes; a++)
    if (p->sweep.axes[a].kind == PS_AXIS_ALLOCATOR)
      return ps_sweep_value(&p->sweep, cell, a);
  return "glibc";
}

char **ps_plan_cell_env(const struct ps_plan *p, size_t cell, const char *metrics,
                        const char *trace_dir, const char **missing)
{
  size_t n = 0;
  while (environ[n])
    n++;
  char **base = ps_xcalloc(n + p->sweep.naxes + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int replaced = 0;
    for (size_t a = 0; a < p->sweep.naxes; a++) {
      size_t l = strlen(p->sweep.axes[a].name);
      if (p->sweep.axes[a].kind == PS_AXIS_ENV && !strncmp(environ[i], p->sweep.axes[a].name, l) &&
          environ[i][l] == '=')
        replaced = 1;
    }
    if (!replaced)
      base[k++] = environ[i];
  }
  char **owned = ps_xcalloc(p->sweep.naxes + 1, sizeof(char *));
  size_t no = 0;
  for (size_t a = 0; a < p->sweep.naxes; a++)
    if (p->sweep.axes[a].kind == PS_AXIS_ENV)
      base[k++] = owned[no++] = ps_xasprintf("%s=%s", p->sweep.axes[a].name,
                                             ps_sweep_value(&p->sweep, cell, a));
  base[k] = NULL;
  struct ps_probe_opts o = {0};
  o.metrics_path = metrics;
  o.trace_dir = trace_dir;
  if (trace_dir) {
    o.alloc = p->prof_alloc ? PS_ALLOC_EXACT : PS_ALLOC_OFF;
    o.cpu = p->prof_cpu ? PS_CPU_CLOCK : PS_CPU_OFF;
  }
  if (!strcmp(ps_plan_cell_allocator(p, cell), "jemalloc"))
    o.extra_preload = p->jemalloc;
  char **env = ps_probe_env(&o, base, missing);
  for (size_t i = 0; i < no; i++)
    free(owned[i]);
  free(owned);
  free(base);
  return env;
}
