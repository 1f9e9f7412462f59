/* sweep-run.c - the sweep executor: schedule, launch, record each run atomically, profile,
 * and rebuild results.json with per-cell statistics. Never loses a finished run: its line is
 * appended to the run journal (runs.jsonl) before the next run starts.
 */
#include "sweep-run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc-analysis.h"
#include "cpu-analysis.h"
#include "launch.h"
#include "logjson.h"
#include "metrics-read.h"
#include "probe-env.h"
#include "progress.h"
#include "results.h"
#include "stats.h"
#include "sweep-json.h"
#include "sweep-record.h"
#include "trace-compress.h"
#include "trace-reader.h"
#include "util.h"

static double mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A profile file: renamed into place (ps_results_write_nosync), so a reader or a resume after a
 * crash sees the whole file or none. No fsync per run: it costs milliseconds on ext4 and guards
 * only against a power loss; results.json at the end is fsynced. */
static int write_json(const char *path, json_t *o) { return ps_results_write_nosync(path, o, 1); }

/* The run journal, <out>/runs.jsonl: one line {"cell": N, "run": {...}} per finished run,
 * appended with a single write(2) on a descriptor kept open for the sweep (a run file per run
 * cost an inode, a link and two path lookups each time). A line is whole once its newline is
 * written: a crash or a full disk mid-write leaves a tail without one, which the next load
 * ignores and cuts off before appending again (journal_open). */
#define JOURNAL_FILE "runs.jsonl"

struct journal {
  int fd;
  off_t size; /* bytes of whole lines */
};

/* Opens the journal for appending after its last whole line. read_err: how reading it for the
 * load failed (0 if it did not): then it is left untouched, never cut to what was read. */
static int journal_open(struct journal *j, const char *out, off_t whole, int read_err)
{
  char *path = ps_xasprintf("%s/%s", out, JOURNAL_FILE);
  j->fd = read_err ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int err = read_err ? read_err : j->fd < 0 ? -errno : 0;
  struct stat st;
  if (!err && fstat(j->fd, &st) == 0 && st.st_size != whole && ftruncate(j->fd, whole) < 0)
    err = -errno;
  j->size = whole;
  if (read_err)
    ps_error("cannot read %s: %s; it is left as it was (check its permissions and the disk, "
             "then resume again)", path, strerror(-err));
  else if (err)
    ps_error("cannot open %s for appending: %s (check that the folder is writable)", path,
             strerror(-err));
  free(path);
  return err;
}

/* Appends the line {"cell":N,"run":<text>} (text: a run object, compact JSON) with one write.
 * Returns 0 or -errno; on failure the partial line is cut off again. */
static int journal_append(struct journal *j, size_t cell, const char *text, size_t len)
{
  struct ps_jbuf b = {ps_xmalloc(len + 48), 0, len + 48}; /* the whole line: no regrowth */
  b.p[0] = '\0';
  ps_jbuf_put(&b, "{\"cell\":", 8);
  ps_jbuf_int(&b, (long long)cell);
  ps_jbuf_put(&b, ",\"run\":", 7);
  ps_jbuf_put(&b, text, len);
  ps_jbuf_put(&b, "}\n", 2);
  ssize_t w = write(j->fd, b.p, b.len);
  int err = w == (ssize_t)b.len ? 0 : w < 0 ? -errno : -ENOSPC;
  size_t n = b.len;
  free(b.p);
  if (err) {
    (void)!ftruncate(j->fd, j->size); /* best effort: the next load cuts a partial line anyway */
    return err;
  }
  j->size += (off_t)n;
  return 0;
}

/* ---------------------------------------------------------------- existing run files */

/* The runs of a cell, in the order they were recorded (index order not guaranteed). */
struct cell_runs {
  struct ps_run_rec *r;
  size_t n, cap;
};

struct state {
  size_t ncells;      /* all cells of the matrix */
  struct cell_runs *runs; /* per cell */
  json_t **profile;   /* per cell: profile object or NULL */
  unsigned char **done; /* per cell: done[cell][index] = 1 once a run of that index is recorded */
  size_t *done_cap;
  off_t journal_whole;  /* bytes of runs.jsonl up to its last whole line */
  int journal_err;      /* reading runs.jsonl failed (not ENOENT): -errno, else 0 */
};

/* Run indices above this are not remembered in the done map (no schedule reaches them). */
#define STATE_MAX_INDEX (1u << 24)

/* Records run index v of cell as done (as has_run compares it). */
static void state_mark(struct state *st, size_t cell, long long v)
{
  if (v < 0 || v >= STATE_MAX_INDEX)
    return;
  size_t i = (size_t)v;
  if (i >= st->done_cap[cell]) {
    size_t cap = st->done_cap[cell] ? st->done_cap[cell] : 64;
    while (cap <= i)
      cap *= 2;
    st->done[cell] = ps_xrealloc(st->done[cell], cap);
    memset(st->done[cell] + st->done_cap[cell], 0, cap - st->done_cap[cell]);
    st->done_cap[cell] = cap;
  }
  st->done[cell][i] = 1;
}

/* A new record slot at the end of cell's runs (zeroed). */
static struct ps_run_rec *state_push(struct state *st, size_t cell)
{
  struct cell_runs *c = &st->runs[cell];
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->r = ps_xrealloc(c->r, c->cap * sizeof *c->r);
  }
  struct ps_run_rec *rec = &c->r[c->n++];
  memset(rec, 0, sizeof *rec);
  return rec;
}

/* One recorded object {"cell": N, "run"|"profile": {...}} into the state. */
static void state_add(struct state *st, json_t *o)
{
  json_t *c = json_object_get(o, "cell");
  if (!json_is_integer(c) || json_integer_value(c) < 0 ||
      (size_t)json_integer_value(c) >= st->ncells)
    return;
  size_t cell = (size_t)json_integer_value(c);
  if (json_object_get(o, "run")) {
    struct ps_run_rec *rec = state_push(st, cell);
    if (ps_run_rec_from_json(rec, json_object_get(o, "run"), 1) < 0)
      st->runs[cell].n--; /* not a run object: nothing to keep */
    else
      state_mark(st, cell, rec->index);
  } else if (json_object_get(o, "profile")) {
    json_decref(st->profile[cell]);
    st->profile[cell] = json_incref(json_object_get(o, "profile"));
  }
}

static void journal_load(struct state *st, const char *out)
{
  char *path = ps_xasprintf("%s/%s", out, JOURNAL_FILE), *data = NULL;
  size_t len = 0, line_no = 0;
  int rc = ps_read_file(path, &data, &len);
  if (rc < 0 && rc != -ENOENT)
    st->journal_err = rc;
  if (rc == 0) {
    char *p = data, *end = data + len;
    while (p < end) {
      char *nl = memchr(p, '\n', (size_t)(end - p));
      line_no++;
      if (!nl) {
        ps_warn("%s: the last line is cut short (the sweep was stopped while writing it); that "
                "run is not counted and will run again", path);
        break;
      }
      json_error_t e;
      json_t *o = json_loadb(p, (size_t)(nl - p), 0, &e);
      if (o)
        state_add(st, o);
      else
        ps_warn("%s:%zu: not a run record (%s); skipped", path, line_no, e.text);
      json_decref(o);
      p = nl + 1;
      st->journal_whole = (off_t)(p - data);
    }
  }
  free(data);
  free(path);
}

static void state_load(struct state *st, const char *out)
{
  journal_load(st, out);
  /* runs/: profile files, and the run files of sweeps written before the journal */
  char *dir = ps_xasprintf("%s/runs", out);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 5, ".json"))
      continue; /* also skips a *.json.tmp left by a crash */
    char *path = ps_xasprintf("%s/%s", dir, e->d_name);
    json_t *o = json_load_file(path, 0, NULL);
    free(path);
    state_add(st, o);
    json_decref(o);
  }
  if (d)
    closedir(d);
  free(dir);
}

static int has_run(const struct state *st, size_t cell, unsigned index)
{
  return index < st->done_cap[cell] && st->done[cell][index];
}

/* Timed wall seconds recorded so far, and the highest index + 1. */
static double timed_total(const struct state *st, size_t cell, unsigned *next_index)
{
  double sum = 0;
  unsigned next = 0;
  const struct cell_runs *c = &st->runs[cell];
  for (size_t i = 0; i < c->n; i++) {
    unsigned idx = (unsigned)(c->r[i].index < 0 ? 0 : c->r[i].index);
    if (idx + 1 > next)
      next = idx + 1;
    if (!c->r[i].warmup && isfinite(c->r[i].v[PS_REC_WALL]))
      sum += c->r[i].v[PS_REC_WALL];
  }
  if (next_index)
    *next_index = next;
  return sum;
}

/* ---------------------------------------------------------------- one run */

static const char *status_of(const struct ps_launch_result *r)
{
  if (!r->started)
    return "error";
  if (r->timed_out)
    return "timeout";
  if (r->signal)
    return "crashed";
  return r->exit_code ? "failed" : "ok";
}

static char *tail_of(const char *path)
{
  char *data = NULL;
  size_t len = 0;
  if (ps_read_file(path, &data, &len) < 0 || len == 0) {
    free(data);
    return NULL;
  }
  while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
    data[--len] = '\0';
  char *start = len > 300 ? data + len - 300 : data;
  char *t = ps_xstrdup(start);
  free(data);
  return t;
}

static json_t *timeline_json(const struct ps_timeline *tl, double interval)
{
  json_t *t = json_array(), *rss = json_array(), *cpu = json_array();
  for (size_t i = 0; i < tl->n; i++) {
    json_array_append_new(t, json_real(tl->t[i]));
    json_array_append_new(rss, json_integer(tl->rss_kb[i]));
    json_array_append_new(cpu, json_real(tl->cpu_pct[i]));
  }
  return json_pack("{sfsososo}", "interval", interval, "t", t, "rss_kb", rss, "cpu_pct", cpu);
}

/* The error sentence of a run whose status is not ok: what happened and its stderr's tail. */
static char *run_error(const struct ps_launch_result *r, const struct ps_plan *p,
                       const char *errpath)
{
  char *why = ps_launch_describe(r, p->timeout);
  char *tail = errpath ? tail_of(errpath) : NULL;
  char *msg = tail ? ps_xasprintf("%s: %s", why, tail) : ps_xstrdup(why);
  free(why);
  free(tail);
  return msg;
}

/* The record of a finished run (sweep-record.c): its status, error sentence and the workload's
 * stage metrics (the metrics file is then removed: the next run of the cell starts without it). */
static void run_record(struct ps_run_rec *rec, const struct ps_launch_result *r, unsigned index,
                       int warmup, const struct ps_plan *p, const char *metrics,
                       const char *errpath)
{
  const char *status = status_of(r);
  char *error = strcmp(status, "ok") ? run_error(r, p, errpath) : NULL;
  long long records = -1;
  int skipped = 0;
  json_t *stages = metrics ? ps_metrics_read(metrics, &records, &skipped) : NULL;
  if (stages)
    unlink(metrics);
  ps_run_rec_make(rec, r, index, warmup, status, error, stages, records, skipped);
  free(error);
}

/* The run object of the profiled run: the same text as a timed run's, parsed so that its
 * timeline can be added. */
static json_t *run_json(const struct ps_launch_result *r, const struct ps_plan *p,
                        const char *metrics, const char *errpath)
{
  struct ps_run_rec rec;
  run_record(&rec, r, 0, 0, p, metrics, errpath);
  json_t *o = json_loadb(rec.text, rec.len, 0, NULL);
  ps_run_rec_release(&rec);
  return o ? o : json_object();
}

struct ctx {
  struct ps_plan *p;
  const struct ps_runner_opts *o;
  struct state st;
  struct ps_progress prog;
  int failed, io_error;
  char ***argvs, ***envs; /* per cell, built at its first run: PATH lookups and environment
                           * copies are not repeated for every run */
  char **metrics;         /* per cell: the $PERFSWEEP_METRICS file, built at its first run */
  char **ids;             /* per cell: its id, built at its first run */
  struct journal journal;
  char *errpath;          /* logs/last-run.stderr: the last run's stderr, for its error line */
  int err_fd;             /* open on errpath for the whole sweep, emptied before each run */
};

static char *cell_dirname(const struct ps_plan *p, size_t cell)
{
  char *id = ps_sweep_cell_id(&p->sweep, cell);
  for (char *c = id; *c; c++)
    if (*c == '/' || *c == ' ')
      *c = '_';
  return id;
}

/* Runs one timed or warm-up run and records it. Returns 0, or -1 when interrupted. */
static int do_run(struct ctx *x, size_t cell, unsigned index, int warmup)
{
  struct ps_plan *p = x->p;
  if (!x->argvs[cell]) {
    const char *missing = NULL;
    x->metrics[cell] = ps_xasprintf("%s/metrics/%zu.jsonl", x->o->out, cell);
    unlink(x->metrics[cell]); /* left by an interrupted sweep; afterwards each read removes it */
    x->argvs[cell] = ps_plan_cell_argv(p, cell);
    x->ids[cell] = ps_sweep_cell_id(&p->sweep, cell);
    x->envs[cell] = ps_plan_cell_env(p, cell, x->metrics[cell], NULL, &missing);
  }
  const char *metrics = x->metrics[cell];
  char **argv = x->argvs[cell], **env = x->envs[cell];
  /* emptied when the last run wrote to it (O_APPEND: the child writes from 0); fstat first: a
   * truncation updates the file's times even when it is empty (on ext4, a journal transaction
   * per run). A failure only leaves an older tail in front of this run's stderr. */
  struct stat est;
  if (x->err_fd >= 0 && (fstat(x->err_fd, &est) < 0 || est.st_size > 0))
    (void)!ftruncate(x->err_fd, 0);
  struct ps_launch_opts lo = {.timeout = p->timeout, .poll_interval = p->poll_interval,
                              .stderr_path = x->errpath, .stderr_fd = x->err_fd,
                              .stop = x->o->stop};
  struct ps_launch_result r;
  ps_launch(argv, env, &lo, &r);
  int rc = 0;
  if (r.interrupted) {
    rc = -1;
  } else {
    const char *status = status_of(&r);
    struct ps_run_rec rec;
    run_record(&rec, &r, index, warmup, p, metrics, x->errpath);
    x->failed += !rec.ok;
    int wr = journal_append(&x->journal, cell, rec.text, rec.len);
    if (wr < 0) {
      ps_error("cannot append to %s/%s: %s; the sweep stops here (what finished is kept)",
               x->o->out, JOURNAL_FILE, strerror(-wr));
      x->io_error = 1;
      rc = -1;
      ps_run_rec_release(&rec);
    } else {
      *state_push(&x->st, cell) = rec;
      state_mark(&x->st, cell, index);
    }
    const char *id = x->ids[cell];
    if (ps_log_enabled())
      ps_log(strcmp(status, "ok") ? "warn" : "info", "run",
             json_pack("{sssIsbsssf}", "cell", id, "index", (json_int_t)index, "warmup", warmup,
                       "status", status, "wall", r.wall));
    ps_progress_step(&x->prog, id, status, r.wall);
  }
  ps_launch_result_release(&r);
  return rc;
}

/* Lists the trace files of a kind ("alloc." / "cpu.") in dir. */
static size_t list_traces(const char *dir, const char *prefix, char ***out)
{
  *out = NULL;
  size_t n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, strlen(prefix)) || l < 4 || !ps_trace_name_ok(dir, e->d_name))
      continue;
    *out = ps_xrealloc(*out, (n + 1) * sizeof(char *));
    (*out)[n++] = ps_xasprintf("%s/%s", dir, e->d_name);
  }
  if (d)
    closedir(d);
  return n;
}

/* Analyses the traces of a kind in dir; compresses them afterwards unless `compressing` (a
 * compression job already runs beside the analysis). */
static void analyse(json_t *prof, const char *kind, const char *dir, json_t *warnings,
                    int compressing)
{
  char **traces;
  size_t n = list_traces(dir, !strcmp(kind, "cpu") ? "cpu." : "alloc.", &traces);
  json_t *summary = NULL;
  char *reason = NULL;
  if (!n) {
    reason = ps_xstrdup("the probe wrote no trace (static binary, setuid, or probe not built)");
  } else {
    int rc;
    if (!strcmp(kind, "cpu")) {
      struct cpu_analysis_opts co = {.out_dir = dir, .top_n = 20};
      rc = cpu_analyze(traces, n, &co, &summary);
    } else {
      struct alloc_analysis_opts ao = {.out_dir = dir, .top_n = 20};
      rc = alloc_analyze(traces, n, &ao, &summary);
    }
    if (rc < 0)
      reason = ps_xasprintf("analysis failed: %s", strerror(-rc));
    for (size_t i = 0; i < n && !compressing; i++) /* finished and analysed: keep them compressed */
      if (strlen(traces[i]) > 4 && !strcmp(traces[i] + strlen(traces[i]) - 4, ".pst"))
        ps_trace_compress(traces[i], PS_TRACE_ZSTD_LEVEL, 0);
  }
  if (summary) {
    json_object_set_new(prof, kind, summary);
  } else {
    json_object_set_new(prof, kind, json_null());
    json_object_set_new(prof, !strcmp(kind, "cpu") ? "cpu_unavailable" : "alloc_unavailable",
                        json_string(reason));
    char *w = ps_xasprintf("%s profile unavailable: %s", kind, reason);
    json_array_append_new(warnings, json_string(w));
    free(w);
  }
  free(reason);
  for (size_t i = 0; i < n; i++)
    free(traces[i]);
  free(traces);
}

/* jemalloc's own statistics, printed as JSON at exit (MALLOC_CONF stats_print, option J) into
 * the profiled run's stderr: the totals, or NULL when absent. */
static json_t *jemalloc_stats(const char *errpath)
{
  char *data = NULL;
  size_t len = 0;
  if (ps_read_file(errpath, &data, &len) < 0) {
    free(data);
    return NULL;
  }
  char *start = strstr(data, "{\"jemalloc\":");
  json_t *doc = start ? json_loads(start, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
  free(data);
  json_t *js = json_object_get(json_object_get(doc, "jemalloc"), "stats");
  json_t *out = NULL;
  if (json_is_object(js)) {
    out = json_object();
    const char *keys[] = {"allocated", "active", "metadata", "resident", "mapped", "retained"};
    for (size_t i = 0; i < PS_ARRAY_SIZE(keys); i++)
      if (json_is_integer(json_object_get(js, keys[i])))
        json_object_set(out, keys[i], json_object_get(js, keys[i]));
    json_t *ver = json_object_get(json_object_get(doc, "jemalloc"), "version");
    if (json_is_string(ver))
      json_object_set(out, "version", ver);
  }
  json_decref(doc);
  return out;
}

/* Appends NAME=VALUE to a malloc'd environment (ps_env_free frees it). */
static char **env_add(char **env, const char *entry)
{
  size_t n = 0;
  while (env[n])
    n++;
  env = ps_xrealloc(env, (n + 2) * sizeof(char *));
  env[n] = ps_xstrdup(entry);
  env[n + 1] = NULL;
  return env;
}

/* The profiled run of a cell: probes on, traces into profiles/<cell id>/, analysed. */
static int do_profile(struct ctx *x, size_t cell)
{
  struct ps_plan *p = x->p;
  char *name = cell_dirname(p, cell);
  char *rel = ps_xasprintf("profiles/%s", name);
  char *dir = ps_xasprintf("%s/%s", x->o->out, rel);
  char *metrics = ps_xasprintf("%s/metrics.jsonl", dir);
  char *errpath = ps_xasprintf("%s/stderr.txt", dir);
  ps_mkdir_p(dir, 0755);
  unlink(metrics);
  json_t *prof = json_pack("{ss}", "dir", rel), *warnings = json_array();
  const char *missing = NULL;
  char **argv = ps_plan_cell_argv(p, cell);
  char **env = ps_plan_cell_env(p, cell, metrics, dir, &missing);
  int rc = 0;
  if (!env) {
    char *w = ps_xasprintf("profile unavailable: the %s probe library (libperfsweep-%s.so) was "
                           "not found; build the probes or set PERFSWEEP_LIBDIR",
                           missing, missing);
    json_array_append_new(warnings, json_string(w));
    json_object_set_new(prof, "unavailable", json_string(w));
    free(w);
  } else {
    int jemalloc = !strcmp(ps_plan_cell_allocator(p, cell), "jemalloc");
    if (jemalloc && !getenv("MALLOC_CONF"))
      env = env_add(env, "MALLOC_CONF=stats_print:true,stats_print_opts:J");
    struct ps_launch_opts lo = {.timeout = p->timeout, .poll_interval = p->poll_interval,
                                .stderr_path = errpath, .keep_timeline = 1, .stop = x->o->stop};
    struct ps_launch_result r;
    ps_launch(argv, env, &lo, &r);
    if (r.interrupted) {
      rc = -1;
    } else {
      json_t *run = run_json(&r, p, metrics, errpath);
      json_object_set_new(run, "timeline", timeline_json(&r.timeline, p->poll_interval));
      json_object_set_new(prof, "run", run);
      json_t *js = jemalloc ? jemalloc_stats(errpath) : NULL;
      if (js)
        json_object_set_new(prof, "jemalloc", js);
      /* the traces are finished: compressed in a thread while they are analysed (both only
       * read them), the raw files removed once both are done */
      struct ps_trace_compress_job *zj = ps_trace_compress_dir_start(dir, PS_TRACE_ZSTD_LEVEL);
      if (p->prof_cpu)
        analyse(prof, "cpu", dir, warnings, zj != NULL);
      if (p->prof_alloc)
        analyse(prof, "alloc", dir, warnings, zj != NULL);
      if (zj)
        ps_trace_compress_dir_finish(zj, 0);
      char *id = ps_sweep_cell_id(&p->sweep, cell);
      ps_progress_step(&x->prog, id, "profiled", r.wall);
      free(id);
    }
    ps_launch_result_release(&r);
  }
  json_object_set_new(prof, "warnings", warnings);
  if (!rc) {
    json_t *file = json_pack("{sIsO}", "cell", (json_int_t)cell, "profile", prof);
    char *path = ps_xasprintf("%s/runs/%zu-profile.json", x->o->out, cell);
    int wr = write_json(path, file);
    if (wr < 0) {
      ps_error("cannot write %s: %s", path, strerror(-wr));
      x->io_error = 1;
      rc = -1;
    } else {
      json_decref(x->st.profile[cell]);
      x->st.profile[cell] = json_incref(prof);
    }
    free(path);
    json_decref(file);
  }
  json_decref(prof);
  ps_env_free(env);
  ps_argv_free(argv);
  free(name);
  free(rel);
  free(dir);
  free(metrics);
  free(errpath);
  return rc;
}

/* ---------------------------------------------------------------- statistics */

/* Records in index order (equal indices keep their recorded order): pointers into runs. */
static int cmp_rec(const void *a, const void *b)
{
  const struct ps_run_rec *x = *(const struct ps_run_rec *const *)a;
  const struct ps_run_rec *y = *(const struct ps_run_rec *const *)b;
  if (x->index != y->index)
    return (x->index > y->index) - (x->index < y->index);
  return (x > y) - (x < y);
}

static const struct ps_run_rec **sorted_recs(const struct ps_run_rec *runs, size_t n)
{
  const struct ps_run_rec **s = ps_xcalloc(n + 1, sizeof *s);
  for (size_t i = 0; i < n; i++)
    s[i] = &runs[i];
  qsort(s, n, sizeof *s, cmp_rec);
  return s;
}

/* The metrics of a cell waiting for their statistics: those present in every ok run are
 * summarised together (one set of bootstrap draws for all their means), the others alone. */
struct stat_req {
  char *name;
  double *v;
  size_t n;
};

static void add_req(struct stat_req **reqs, size_t *nreq, const char *name, const double *v,
                    size_t n)
{
  if (!n)
    return;
  *reqs = ps_xrealloc(*reqs, (*nreq + 1) * sizeof **reqs);
  struct stat_req *r = &(*reqs)[(*nreq)++];
  r->name = ps_xstrdup(name);
  r->v = ps_xmalloc(n * sizeof *r->v);
  memcpy(r->v, v, n * sizeof *r->v);
  r->n = n;
}

static void emit_stats(json_t *stats, struct stat_req *reqs, size_t nreq, size_t nok,
                       uint64_t seed)
{
  struct ps_summary *sum = ps_xcalloc(nreq + 1, sizeof *sum);
  const double **group = ps_xcalloc(nreq + 1, sizeof *group);
  size_t *gi = ps_xcalloc(nreq + 1, sizeof *gi), ng = 0;
  for (size_t i = 0; i < nreq; i++) {
    if (reqs[i].n == nok) {
      group[ng] = reqs[i].v;
      gi[ng++] = i;
    } else {
      ps_summary_compute(reqs[i].v, reqs[i].n, seed + 100 + i, &sum[i]);
    }
  }
  struct ps_summary *gs = ps_xcalloc(ng + 1, sizeof *gs);
  ps_summary_compute_many(group, ng, nok, seed, gs);
  for (size_t g = 0; g < ng; g++)
    sum[gi[g]] = gs[g];
  for (size_t i = 0; i < nreq; i++) {
    json_object_set_new(stats, reqs[i].name, ps_results_stats_json(&sum[i]));
    ps_summary_release(&sum[i]);
    free(reqs[i].name);
    free(reqs[i].v);
  }
  free(gs);
  free(gi);
  free(group);
  free(sum);
}

/* The stats, success_rate, error_rate and warnings of cell from its runs in index order. */
static void finalize_recs(json_t *cell, const struct ps_run_rec *const *all, size_t total,
                          uint64_t seed)
{
  const struct ps_run_rec **ok = ps_xcalloc(total + 1, sizeof *ok);
  size_t timed = 0, nok = 0, nfail = 0;
  const char *first_error = NULL;
  for (size_t i = 0; i < total; i++) {
    if (all[i]->warmup)
      continue;
    timed++;
    if (all[i]->ok) {
      ok[nok++] = all[i];
    } else {
      nfail++;
      if (!first_error)
        first_error = all[i]->error;
    }
  }
  double *v = ps_xcalloc(total + 1, sizeof(double));
  json_t *stats = json_object();
  struct stat_req *reqs = NULL;
  size_t nreq = 0;
  const char *names[PS_REC_NV] = {"wall", "user", "sys", "cpu", "max_rss_kb", "avg_rss_kb",
                                  "cpu_pct", "throughput"};
  /* the order of the keys in "stats": as the schema's example lists them */
  const int order[PS_REC_NV] = {PS_REC_WALL, PS_REC_USER, PS_REC_SYS, PS_REC_CPU, PS_REC_MAX_RSS,
                                PS_REC_THROUGHPUT, PS_REC_AVG_RSS, PS_REC_CPU_PCT};
  for (size_t o = 0; o < PS_REC_NV; o++) {
    int k = order[o];
    size_t m = 0;
    for (size_t i = 0; i < nok; i++)
      if (isfinite(ok[i]->v[k]))
        v[m++] = ok[i]->v[k];
    add_req(&reqs, &nreq, names[k], v, m);
  }
  /* stage.<name>.seconds: the stage names of the first ok run that has any */
  json_t *stage;
  size_t si;
  json_array_foreach(nok ? ok[0]->stages : NULL, si, stage) {
    const char *sname = json_string_value(json_object_get(stage, "stage"));
    if (!sname)
      continue;
    size_t k = 0;
    for (size_t i = 0; i < nok; i++) {
      size_t sj;
      json_t *s2;
      json_array_foreach(ok[i]->stages, sj, s2) {
        if (!strcmp(json_string_value(json_object_get(s2, "stage")) ?: "", sname) &&
            json_is_number(json_object_get(s2, "seconds"))) {
          v[k++] = json_number_value(json_object_get(s2, "seconds"));
          break;
        }
      }
    }
    char *key = ps_xasprintf("stage.%s.seconds", sname);
    add_req(&reqs, &nreq, key, v, k);
    free(key);
  }
  emit_stats(stats, reqs, nreq, nok, seed);
  free(reqs);
  json_object_set_new(cell, "stats", stats);
  json_object_set_new(cell, "success_rate", timed ? json_real((double)nok / (double)timed)
                                                  : json_null());
  json_object_set_new(cell, "error_rate", timed ? json_real((double)nfail / (double)timed)
                                                : json_null());
  json_t *warnings = json_array();
  json_t *wall = json_object_get(stats, "wall");
  double cv = json_number_value(json_object_get(wall, "cv"));
  if (json_is_number(json_object_get(wall, "cv")) && cv > PS_STATS_CV_WARN) {
    char *w = ps_xasprintf("coefficient of variation %.0f%% of wall time is high: the machine is "
                           "noisy or the cell unstable; add --runs or quiet the machine",
                           cv * 100);
    json_array_append_new(warnings, json_string(w));
    free(w);
  }
  size_t oi;
  json_t *out;
  json_array_foreach(json_object_get(wall, "outliers"), oi, out) {
    if (json_integer_value(json_object_get(out, "index")) == 0)
      json_array_append_new(warnings, json_string("the first timed run is an outlier (cold "
                                                  "caches?): add --warmup"));
  }
  if (nfail) {
    char *w = ps_xasprintf("%zu of %zu runs failed; first: %s", nfail, timed,
                           first_error ? first_error : "?");
    json_array_append_new(warnings, json_string(w));
    free(w);
  }
  if (nok && nok < 3)
    json_array_append_new(warnings, json_string("fewer than 3 successful runs: the confidence "
                                                "intervals mean little; add --runs"));
  json_t *prof = json_object_get(cell, "profile");
  size_t pi;
  json_t *pw;
  json_array_foreach(json_object_get(prof, "warnings"), pi, pw) json_array_append(warnings, pw);
  json_object_set_new(cell, "warnings", warnings);
  free(v);
  free(ok);
}

void ps_cell_finalize(json_t *cell, uint64_t seed)
{
  json_t *runs = json_object_get(cell, "runs");
  size_t total = json_array_size(runs), n = 0;
  struct ps_run_rec *recs = ps_xcalloc(total + 1, sizeof *recs);
  json_t **objs = ps_xcalloc(total + 1, sizeof *objs);
  for (size_t i = 0; i < total; i++) {
    ps_run_rec_from_json(&recs[n], json_array_get(runs, i), 0); /* a non-object: index -1 */
    objs[n++] = json_array_get(runs, i);
  }
  const struct ps_run_rec **sorted = sorted_recs(recs, n);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append(arr, objs[sorted[i] - recs]);
  json_object_set_new(cell, "runs", arr);
  finalize_recs(cell, sorted, n, seed);
  for (size_t i = 0; i < n; i++)
    ps_run_rec_release(&recs[i]);
  free(sorted);
  free(objs);
  free(recs);
}

/* ---------------------------------------------------------------- results.json */

static void state_init(struct state *st, struct ps_plan *p, const char *out)
{
  memset(st, 0, sizeof *st);
  st->ncells = ps_sweep_ncells(&p->sweep);
  st->runs = ps_xcalloc(st->ncells, sizeof *st->runs);
  st->profile = ps_xcalloc(st->ncells, sizeof(json_t *));
  st->done = ps_xcalloc(st->ncells, sizeof(unsigned char *));
  st->done_cap = ps_xcalloc(st->ncells, sizeof(size_t));
  state_load(st, out);
}

static void state_release(struct state *st)
{
  for (size_t c = 0; c < st->ncells; c++) {
    for (size_t i = 0; i < st->runs[c].n; i++)
      ps_run_rec_release(&st->runs[c].r[i]);
    free(st->runs[c].r);
    json_decref(st->profile[c]);
    free(st->done[c]);
  }
  free(st->done);
  free(st->done_cap);
  free(st->runs);
  free(st->profile);
}

/* The results document with each cell's "runs" as a placeholder (an empty array of its own)
 * whose text is written from the records (built_hook): the runs' text is never rebuilt. */
struct built {
  json_t *root;
  size_t n;                         /* cells in root */
  struct built_cell {
    const json_t *ph;               /* the placeholder (borrowed from root) */
    const struct ps_run_rec **runs; /* in index order (pointers into the state) */
    size_t nruns;
  } *cells;                         /* sorted by ph, for bsearch */
};

static int cmp_ph(const void *a, const void *b)
{
  const json_t *x = ((const struct built_cell *)a)->ph, *y = ((const struct built_cell *)b)->ph;
  return (x > y) - (x < y);
}

static void build(struct ps_plan *p, const json_t *header, struct state *st, int complete,
                  double duration, struct built *out)
{
  /* its own keys; the header's values shared, never changed (json_copy takes no const) */
  json_t *root = json_copy((json_t *)header);
  json_t *cells = json_array();
  size_t nruns = 0, nfailed = 0;
  out->cells = ps_xcalloc(st->ncells + 1, sizeof *out->cells);
  out->n = 0;
  for (size_t c = 0; c < st->ncells; c++) {
    if (!ps_shard_has(c, p->shard_k, p->shard_n))
      continue;
    char *id = ps_sweep_cell_id(&p->sweep, c);
    json_t *params = json_object();
    for (size_t a = 0; a < p->sweep.naxes; a++)
      json_object_set_new(params, p->sweep.axes[a].name,
                          json_string(ps_sweep_value(&p->sweep, c, a)));
    char **argv = ps_plan_cell_argv(p, c);
    json_t *ja = json_array();
    for (char **w = argv; *w; w++)
      json_array_append_new(ja, json_string(*w));
    ps_argv_free(argv);
    json_t *ph = json_array();
    json_t *cell = json_pack("{sIsssosossso}", "index", (json_int_t)c, "id", id, "params", params,
                             "argv", ja, "allocator", ps_plan_cell_allocator(p, c), "runs", ph);
    json_object_set_new(cell, "profile", st->profile[c] ? json_deep_copy(st->profile[c])
                                                        : json_null());
    struct built_cell *bc = &out->cells[out->n++];
    bc->ph = ph;
    bc->nruns = st->runs[c].n;
    bc->runs = sorted_recs(st->runs[c].r, bc->nruns);
    finalize_recs(cell, bc->runs, bc->nruns, p->seed ^ (0x9E3779B97F4A7C15ULL * (c + 1)));
    for (size_t i = 0; i < bc->nruns; i++) {
      nruns++;
      nfailed += !bc->runs[i]->ok;
    }
    json_array_append_new(cells, cell);
    free(id);
  }
  qsort(out->cells, out->n, sizeof *out->cells, cmp_ph);
  json_object_set_new(root, "cells", cells);
  json_object_set_new(root, "summary",
                      json_pack("{sIsIsIsfsb}", "cells", (json_int_t)json_array_size(cells),
                                "runs", (json_int_t)nruns, "failed_runs", (json_int_t)nfailed,
                                "duration", duration, "complete", complete));
  out->root = root;
}

static const struct built_cell *built_find(const struct built *bt, const json_t *v)
{
  struct built_cell key = {.ph = v};
  return bsearch(&key, bt->cells, bt->n, sizeof *bt->cells, cmp_ph);
}

/* Writes a placeholder's runs: one compact run object per line (indented), or "[]". */
static int built_hook(struct ps_jbuf *b, const json_t *v, int indent, size_t depth, void *ctx)
{
  if (!json_is_array(v) || json_array_size(v))
    return 0;
  const struct built_cell *bc = built_find(ctx, v);
  if (!bc)
    return 0;
  if (!bc->nruns) {
    ps_jbuf_put(b, "[]", 2);
    return 1;
  }
  ps_jbuf_put(b, "[", 1);
  for (size_t i = 0; i < bc->nruns; i++) {
    if (i)
      ps_jbuf_put(b, ",", 1);
    ps_jbuf_newline(b, indent, depth + 1);
    ps_jbuf_put(b, bc->runs[i]->text, bc->runs[i]->len);
  }
  ps_jbuf_newline(b, indent, depth);
  ps_jbuf_put(b, "]", 1);
  return 1;
}

/* Puts the runs into the placeholders of bt's root: the whole run objects (parsed back from
 * their text) when full, else {"index", "warmup", "status"} of each. */
static void built_fill(struct built *bt, int full)
{
  for (size_t c = 0; c < bt->n; c++) {
    json_t *ph = (json_t *)bt->cells[c].ph;
    for (size_t i = 0; i < bt->cells[c].nruns; i++) {
      const struct ps_run_rec *r = bt->cells[c].runs[i];
      json_t *o = full ? json_loadb(r->text, r->len, 0, NULL) : NULL;
      if (!o) { /* (json_pack parses its format each time: slower per run than these calls) */
        o = json_object();
        json_object_set_new_nocheck(o, "index", json_integer((json_int_t)r->index));
        json_object_set_new_nocheck(o, "warmup", json_boolean(r->warmup));
        json_object_set_new_nocheck(o, "status", json_string_nocheck(r->status));
      }
      json_array_append_new(ph, o);
    }
  }
}

static void built_release(struct built *bt)
{
  for (size_t c = 0; c < bt->n; c++)
    free(bt->cells[c].runs);
  free(bt->cells);
  json_decref(bt->root);
}

static int write_built(const char *path, struct built *bt)
{
  struct ps_jbuf b = {0};
  ps_jbuf_dump_hook(&b, bt->root, 1, built_hook, bt);
  ps_jbuf_put(&b, "\n", 1);
  int rc = ps_write_file_replace(path, b.p, b.len, 1);
  free(b.p);
  return rc;
}

int ps_runner_write_results(const char *path, const json_t *root, int sync)
{
  struct ps_jbuf b = {0};
  ps_jbuf_dump(&b, root, 1);
  ps_jbuf_put(&b, "\n", 1);
  int rc = ps_write_file_replace(path, b.p, b.len, sync);
  free(b.p);
  return rc;
}

json_t *ps_runner_collect(struct ps_plan *p, const json_t *header, const char *out, int complete,
                          double duration)
{
  struct state st;
  state_init(&st, p, out);
  struct built bt;
  build(p, header, &st, complete, duration, &bt);
  built_fill(&bt, 1);
  json_t *root = json_incref(bt.root);
  built_release(&bt);
  state_release(&st);
  return root;
}

int ps_runner_execute(struct ps_plan *p, const json_t *header, const struct ps_runner_opts *o,
                      json_t **root_out)
{
  if (root_out)
    *root_out = NULL;
  struct ctx x = {.p = p, .o = o};
  state_init(&x.st, p, o->out);
  x.argvs = ps_xcalloc(x.st.ncells, sizeof(char **));
  x.envs = ps_xcalloc(x.st.ncells, sizeof(char **));
  x.metrics = ps_xcalloc(x.st.ncells, sizeof(char *));
  x.ids = ps_xcalloc(x.st.ncells, sizeof(char *));
  x.errpath = ps_xasprintf("%s/logs/last-run.stderr", o->out);
  x.err_fd = open(x.errpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  int stopped = 0, no_journal = 0;
  if (journal_open(&x.journal, o->out, x.st.journal_whole, x.st.journal_err) < 0) {
    x.io_error = 1;
    stopped = no_journal = 1; /* nothing runs, and results.json is left as it was */
  }
  double t0 = mono();
  double prev = json_number_value(json_object_get(json_object_get(header, "summary"), "duration"));
  size_t ncells = 0;
  size_t *cells = ps_xcalloc(x.st.ncells, sizeof(size_t));
  for (size_t c = 0; c < x.st.ncells; c++)
    if (ps_shard_has(c, p->shard_k, p->shard_n))
      cells[ncells++] = c;
  struct ps_slot *slots;
  size_t nslots = ps_sweep_schedule(cells, ncells, p->warmup, p->runs, p->seed, &slots);
  size_t done = 0, profiles_left = 0;
  for (size_t i = 0; i < nslots; i++)
    done += has_run(&x.st, slots[i].cell, slots[i].index);
  for (size_t i = 0; i < ncells; i++)
    profiles_left += p->profile_runs && !x.st.profile[cells[i]];
  ps_progress_start(&x.prog, nslots + profiles_left, done, o->quiet);
  ps_log("info", "sweep_start", json_pack("{sIsIsI}", "cells", (json_int_t)ncells, "runs",
                                          (json_int_t)nslots, "done", (json_int_t)done));
  for (size_t i = 0; i < nslots && !stopped; i++) {
    if (has_run(&x.st, slots[i].cell, slots[i].index))
      continue;
    if ((o->stop && *o->stop) || do_run(&x, slots[i].cell, slots[i].index, slots[i].warmup) < 0)
      stopped = 1;
  }
  /* --min-time: extra interleaved rounds for the cells still short of it */
  size_t *order = ps_xcalloc(ncells + 1, sizeof(size_t));
  for (unsigned round = p->warmup + p->runs; !stopped && p->min_time > 0; round++) {
    ps_sweep_round_order(cells, ncells, round, p->seed, order);
    int any = 0;
    for (size_t i = 0; i < ncells && !stopped; i++) {
      unsigned next;
      double sum = timed_total(&x.st, order[i], &next);
      if (sum >= p->min_time || next >= p->max_runs + p->warmup || next > round)
        continue;
      any = 1;
      x.prog.total++;
      if ((o->stop && *o->stop) || do_run(&x, order[i], round, 0) < 0)
        stopped = 1;
    }
    if (!any)
      break;
  }
  free(order);
  for (size_t i = 0; i < ncells && !stopped && p->profile_runs; i++) {
    if (x.st.profile[cells[i]])
      continue;
    if ((o->stop && *o->stop) || do_profile(&x, cells[i]) < 0)
      stopped = 1;
  }
  ps_progress_end(&x.prog);
  double duration = prev + (mono() - t0);
  struct built bt;
  build(p, header, &x.st, !stopped, duration, &bt);
  json_t *root = bt.root;
  char *path = ps_xasprintf("%s/%s", o->out, PS_RESULTS_FILE);
  int wr = no_journal ? 0 : write_built(path, &bt);
  int rc = PS_EXIT_OK;
  if (wr < 0) {
    ps_error("cannot write %s: %s; the runs recorded in %s/" JOURNAL_FILE " are intact, retry "
             "with 'perfsweep run --resume %s'",
             path, strerror(-wr), o->out, o->out);
    rc = PS_EXIT_IO;
  } else if (x.io_error) {
    rc = PS_EXIT_IO;
  } else if (stopped) {
    rc = PS_EXIT_INTERRUPTED;
  } else if (x.failed || json_integer_value(json_object_get(json_object_get(root, "summary"),
                                                            "failed_runs")) > 0) {
    rc = PS_EXIT_TARGET;
  }
  ps_log(rc ? "warn" : "info", "sweep_end", json_pack("{sisfsb}", "exit", rc, "duration", duration,
                                                      "complete", !stopped));
  if (root_out && wr >= 0 && !no_journal) {
    built_fill(&bt, 0);
    *root_out = json_incref(root);
  }
  built_release(&bt);
  free(path);
  free(slots);
  free(cells);
  for (size_t c = 0; c < x.st.ncells; c++) {
    ps_argv_free(x.argvs[c]);
    ps_env_free(x.envs[c]);
    free(x.metrics[c]);
    free(x.ids[c]);
  }
  free(x.argvs);
  free(x.envs);
  free(x.metrics);
  free(x.ids);
  free(x.errpath);
  if (x.err_fd >= 0)
    close(x.err_fd);
  if (x.journal.fd >= 0)
    close(x.journal.fd);
  state_release(&x.st);
  return rc;
}
