/* probe-env.h - the contract between the harness and the probes: which libraries are
 * preloaded and which PERFSWEEP_* variables configure them.
 *
 * Variables the probes read (documented in docs/probes.md):
 *   PERFSWEEP_TRACE_DIR   directory the traces go to: alloc.<pid>.pst, cpu.<pid>.pst
 *   PERFSWEEP_ALLOC       exact | sample | off (unset = off: a probe does nothing unless enabled)
 *   PERFSWEEP_ALLOC_SAMPLE  mean byte interval of sample mode (default 524288)
 *   PERFSWEEP_ALLOC_MMAP  1 = also trace mmap/munmap
 *   PERFSWEEP_CPU         cpu-clock | task-clock | wall | off (unset = off)
 *   PERFSWEEP_CPU_FREQ    samples per second (default 999)
 *   PERFSWEEP_CPU_SIGNAL  signal number used for samples (default SIGPROF)
 *   PERFSWEEP_DEPTH       deepest stack recorded (default 64)
 *   PERFSWEEP_METRICS     file the workload appends its stage metrics to (JSON lines)
 */
#ifndef PERFSWEEP_PROBE_ENV_H
#define PERFSWEEP_PROBE_ENV_H

enum ps_alloc_mode { PS_ALLOC_OFF, PS_ALLOC_EXACT, PS_ALLOC_SAMPLE };
enum ps_cpu_mode { PS_CPU_OFF, PS_CPU_CLOCK, PS_CPU_TASK_CLOCK, PS_CPU_WALL };

struct ps_probe_opts {
  enum ps_alloc_mode alloc;
  unsigned long alloc_sample_bytes; /* 0 = default */
  int alloc_mmap;
  enum ps_cpu_mode cpu;
  unsigned cpu_freq;                /* 0 = default */
  int cpu_signal;                   /* 0 = default */
  unsigned depth;                   /* 0 = default */
  const char *trace_dir;            /* required when a probe is on */
  const char *metrics_path;         /* NULL = not set */
  const char *extra_preload;        /* e.g. jemalloc, preloaded after the probes; may be NULL */
};

/* Path of a probe library ("alloc" -> .../libperfsweep-alloc.so), malloc'd; NULL when it is
 * not found. Looks only in $PERFSWEEP_LIBDIR when it is set, else in <exe dir>/../lib, then
 * <exe dir>/../lib/perfsweep. */
char *ps_probe_lib_path(const char *probe);

/* A new environment for a child: base_env (NULL = environ) with the probe libraries put first in
 * LD_PRELOAD and PERFSWEEP_* set from opts. Returns a malloc'd NULL-terminated array (free with
 * ps_env_free), or NULL with *missing set to the probe whose library was not found. */
char **ps_probe_env(const struct ps_probe_opts *opts, char *const *base_env, const char **missing);
void ps_env_free(char **env);

/* Parses "exact"/"sample"/"off" and "cpu-clock"/"task-clock"/"wall"/"off"; -1 if unknown. */
int ps_alloc_mode_parse(const char *s);
int ps_cpu_mode_parse(const char *s);
const char *ps_alloc_mode_name(enum ps_alloc_mode m);
const char *ps_cpu_mode_name(enum ps_cpu_mode m);

#endif
