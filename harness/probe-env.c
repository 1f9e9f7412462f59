/* probe-env.c - builds the environment of a profiled child: LD_PRELOAD and PERFSWEEP_*.
 * See probe-env.h for the variables; the probes read the same names.
 */
#include "probe-env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static const char *alloc_names[] = {"off", "exact", "sample"};
static const char *cpu_names[] = {"off", "cpu-clock", "task-clock", "wall"};

int ps_alloc_mode_parse(const char *s)
{
  for (size_t i = 0; i < PS_ARRAY_SIZE(alloc_names); i++)
    if (!strcmp(s, alloc_names[i]))
      return (int)i;
  return -1;
}

int ps_cpu_mode_parse(const char *s)
{
  for (size_t i = 0; i < PS_ARRAY_SIZE(cpu_names); i++)
    if (!strcmp(s, cpu_names[i]))
      return (int)i;
  return -1;
}

const char *ps_alloc_mode_name(enum ps_alloc_mode m) { return alloc_names[m]; }
const char *ps_cpu_mode_name(enum ps_cpu_mode m) { return cpu_names[m]; }

char *ps_probe_lib_path(const char *probe)
{
  char *dirs[3] = {NULL, NULL, NULL};
  const char *env = getenv("PERFSWEEP_LIBDIR");
  char *exe = ps_exe_dir();
  if (env && *env) {
    dirs[0] = ps_xstrdup(env); /* an explicit folder is the only one searched */
  } else {
    dirs[1] = ps_xasprintf("%s/../lib", exe);
    dirs[2] = ps_xasprintf("%s/../lib/perfsweep", exe);
  }
  free(exe);
  char *found = NULL;
  for (int i = 0; i < 3; i++) {
    if (!dirs[i] || found)
      continue;
    char *p = ps_xasprintf("%s/libperfsweep-%s.so", dirs[i], probe);
    char *real = realpath(p, NULL);
    free(p);
    if (real && access(real, R_OK) == 0)
      found = real;
    else
      free(real);
  }
  for (int i = 0; i < 3; i++)
    free(dirs[i]);
  return found;
}

static int is_var(const char *entry, const char *name)
{
  size_t n = strlen(name);
  return !strncmp(entry, name, n) && entry[n] == '=';
}

char **ps_probe_env(const struct ps_probe_opts *o, char *const *base, const char **missing)
{
  if (!base)
    base = environ;
  size_t n = 0;
  while (base[n])
    n++;
  char **env = ps_xcalloc(n + 16, sizeof(char *));
  size_t k = 0;
  const char *old_preload = NULL;
  for (size_t i = 0; i < n; i++) {
    if (is_var(base[i], "LD_PRELOAD")) {
      old_preload = base[i] + strlen("LD_PRELOAD=");
      continue;
    }
    if (!strncmp(base[i], "PERFSWEEP_", 10) && strncmp(base[i], "PERFSWEEP_LIBDIR=", 17))
      continue; /* ours are set below; never inherit stale ones */
    env[k++] = ps_xstrdup(base[i]);
  }

  char *preload = ps_xstrdup("");
  const char *probes[2] = {o->alloc != PS_ALLOC_OFF ? "alloc" : NULL,
                           o->cpu != PS_CPU_OFF ? "cpu" : NULL};
  for (int i = 0; i < 2; i++) {
    if (!probes[i])
      continue;
    char *lib = ps_probe_lib_path(probes[i]);
    if (!lib) {
      if (missing)
        *missing = probes[i];
      free(preload);
      env[k] = NULL;
      ps_env_free(env);
      return NULL;
    }
    char *next = ps_xasprintf("%s%s%s", preload, *preload ? ":" : "", lib);
    free(preload);
    free(lib);
    preload = next;
  }
  const char *extra[2] = {o->extra_preload, old_preload};
  for (int i = 0; i < 2; i++) {
    if (!extra[i] || !*extra[i])
      continue;
    char *next = ps_xasprintf("%s%s%s", preload, *preload ? ":" : "", extra[i]);
    free(preload);
    preload = next;
  }
  if (*preload)
    env[k++] = ps_xasprintf("LD_PRELOAD=%s", preload);
  free(preload);

  if (o->trace_dir)
    env[k++] = ps_xasprintf("PERFSWEEP_TRACE_DIR=%s", o->trace_dir);
  if (o->alloc != PS_ALLOC_OFF) {
    env[k++] = ps_xasprintf("PERFSWEEP_ALLOC=%s", ps_alloc_mode_name(o->alloc));
    if (o->alloc_sample_bytes)
      env[k++] = ps_xasprintf("PERFSWEEP_ALLOC_SAMPLE=%lu", o->alloc_sample_bytes);
    if (o->alloc_mmap)
      env[k++] = ps_xstrdup("PERFSWEEP_ALLOC_MMAP=1");
  }
  if (o->cpu != PS_CPU_OFF) {
    env[k++] = ps_xasprintf("PERFSWEEP_CPU=%s", ps_cpu_mode_name(o->cpu));
    if (o->cpu_freq)
      env[k++] = ps_xasprintf("PERFSWEEP_CPU_FREQ=%u", o->cpu_freq);
    if (o->cpu_signal)
      env[k++] = ps_xasprintf("PERFSWEEP_CPU_SIGNAL=%d", o->cpu_signal);
  }
  if (o->depth)
    env[k++] = ps_xasprintf("PERFSWEEP_DEPTH=%u", o->depth);
  if (o->metrics_path)
    env[k++] = ps_xasprintf("PERFSWEEP_METRICS=%s", o->metrics_path);
  env[k] = NULL;
  return env;
}

void ps_env_free(char **env)
{
  if (!env)
    return;
  for (char **p = env; *p; p++)
    free(*p);
  free(env);
}
