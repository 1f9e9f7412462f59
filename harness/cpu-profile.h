/* cpu-profile.h - the CPU profile in memory: CPU sample traces (cpu.<pid>.pst) read with the
 * shared trace reader, symbolized offline with the shared symbolizer (inlined frames expanded),
 * and aggregated into weighted stacks per thread. Every CPU output (summary, folded, speedscope,
 * pprof, flame graph) is computed from this one structure.
 */
#ifndef PERFSWEEP_CPU_PROFILE_H
#define PERFSWEEP_CPU_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* A symbolized frame: one function of one module (lines merged). */
struct cpu_frame {
  char *function;   /* never NULL */
  char *module;     /* basename, NULL when unknown */
  char *file;       /* NULL when unknown */
  int line;         /* first line seen, 0 when unknown */
};

struct cpu_pthread {
  int pid;
  uint32_t tid;
  char *name;       /* never NULL ("" when unknown) */
  uint64_t samples, lost, degraded;
};

/* A distinct call stack of one thread: frames root first, weight in samples. */
struct cpu_stack {
  uint32_t thread;  /* index into threads */
  uint32_t n;
  uint32_t *frames; /* indexes into frames, root first */
  uint64_t weight;
};

struct cpu_profile {
  struct cpu_frame *frames;
  size_t nframes;
  struct cpu_pthread *threads;
  size_t nthreads;
  struct cpu_stack *stacks;
  size_t nstacks;
  uint64_t samples, lost, degraded;
  unsigned frequency;
  int mode;               /* enum ps_cpu_mode of the first trace */
  char *engine;           /* "perf_event" / "timer_create" / "unknown" */
  char *engine_reason;    /* NULL when the first choice ran */
  size_t processes;
  int truncated;          /* a trace ended in a torn chunk (crash, kill) */
  size_t threads_fallback; /* threads sampled by timer_create while the process ran perf_event */
  /* private: hash indexes */
  void *ix_frames, *ix_stacks;
  size_t cap_frames, cap_threads, cap_stacks;
};

/* Reads and symbolizes the traces into a new profile. Returns 0 and *out, or a negative errno
 * with a message printed naming the file (-EINVAL: not a CPU trace or corrupt). Free with
 * cpu_profile_free. */
int cpu_profile_load(char *const *traces, size_t ntraces, struct cpu_profile **out);
void cpu_profile_free(struct cpu_profile *p);

/* Adds weight to the stack frames[0..n) (root first) of thread index t, creating what is needed.
 * Used by the loader and by tests that build profiles by hand. Never fails. */
uint32_t cpu_profile_frame(struct cpu_profile *p, const char *function, const char *module,
                           const char *file, int line);
uint32_t cpu_profile_thread(struct cpu_profile *p, int pid, uint32_t tid, const char *name);
void cpu_profile_add(struct cpu_profile *p, uint32_t thread, const uint32_t *frames, uint32_t n,
                     uint64_t weight);
/* A new empty profile (never fails). */
struct cpu_profile *cpu_profile_new(void);

#endif
