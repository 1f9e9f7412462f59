/* cmd-analyze.c - `perfsweep analyze`: the analysis half of `perfsweep profile` on trace files
 * or folders already recorded; dispatches each trace to the allocation or the CPU analysis by the
 * kind in its header.
 *
 *   $ perfsweep analyze prof/
 *   Allocations (exact): 12034 calls, 3.1 MiB allocated
 *   ...
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc-analysis.h"
#include "builtin.h"
#include "cpu-analysis.h"
#include "trace-reader.h"
#include "util.h"

static const char analyze_usage[] =
    "usage: perfsweep analyze [--json] [--top N] [--diff BASE] [-o DIR] TRACE...|DIR...\n"
    "\n"
    "Analyses alloc.<pid>.pst[.zst] / cpu.<pid>.pst[.zst] traces (a folder stands for all of its traces),\n"
    "and prints the summaries; with -o (or a single folder argument) writes the folded stacks\n"
    "and flame graphs there.\n"
    "\n"
    "  --json        print {\"alloc\": ..., \"cpu\": ...} as JSON\n"
    "  --top N       rows in the top tables (default 20)\n"
    "  --diff BASE   compare with a base profile folder or trace: which sites grew or shrank\n"
    "  -o DIR        where folded stacks and SVG flame graphs go\n"
    "  --no-symbol-cache  symbolize from the debug files only, neither reading nor writing the\n"
    "                persistent symbol cache (same as PERFSWEEP_SYMCACHE=off)\n"
    "\n"
    "Example:\n"
    "  perfsweep analyze prof/\n"
    "  perfsweep analyze --json --diff prof-old/ prof/alloc.1234.pst\n"
    "\n"
    "Exit: 0 ok; 3 bad usage or a malformed / foreign-version trace; 6 an output not written.\n";

enum { OPT_JSON = 256, OPT_TOP, OPT_DIFF, OPT_HELP, OPT_DUMP, OPT_NO_SYMCACHE };

static const struct option analyze_options[] = {
    {"json", no_argument, NULL, OPT_JSON}, {"top", required_argument, NULL, OPT_TOP},
    {"diff", required_argument, NULL, OPT_DIFF}, {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, OPT_HELP}, {"dump", no_argument, NULL, OPT_DUMP},
    {"no-symbol-cache", no_argument, NULL, OPT_NO_SYMCACHE},
    {NULL, 0, NULL, 0}};

/* --dump: every record of each trace in seq order, one line each (for debugging the probes). */
static int dump_trace(const char *path)
{
  struct ps_trace *t;
  if (ps_trace_open(path, &t))
    return PS_EXIT_USAGE;
  const struct ps_trace_header *h = ps_trace_header(t);
  printf("# %s: kind %u pid %u ppid %u mode %u flags 0x%x exe %s\n", path, h->kind, h->pid,
         h->ppid, h->mode, h->flags, ps_trace_exe(t));
  int rc = ps_trace_merge_begin(t) ? PS_EXIT_USAGE : 0;
  struct ps_rec r;
  int ok;
  while (!rc && (ok = ps_trace_merge_next(t, &r)) > 0) {
    printf("%llu tid=%u type=%u fn=%s", (unsigned long long)r.seq, r.tid, r.type,
           ps_alloc_fn_name(r.fn));
    switch (r.type) {
    case PS_REC_MODULE:
      printf(" module %llu %.*s base=0x%llx size=0x%llx", (unsigned long long)r.id,
             (int)r.str_len, r.str, (unsigned long long)r.ptr, (unsigned long long)r.size);
      break;
    case PS_REC_STACK:
      printf(" stack %llu depth %u", (unsigned long long)r.id, r.nips);
      for (unsigned i = 0; i < r.nips; i++)
        printf(" 0x%llx", (unsigned long long)r.ips[i]);
      break;
    case PS_REC_THREAD:
    case PS_REC_NOTE:
      printf(" %llu %.*s", (unsigned long long)r.id, (int)r.str_len, r.str);
      break;
    default:
      printf(" size=%llu ptr=0x%llx old=0x%llx stack=%llu t=%llu", (unsigned long long)r.size,
             (unsigned long long)r.ptr, (unsigned long long)r.old_ptr,
             (unsigned long long)r.stack, (unsigned long long)r.time_ns);
    }
    putchar('\n');
  }
  if (ok < 0)
    rc = PS_EXIT_USAGE;
  ps_trace_close(t);
  return rc;
}

static void push(char ***v, size_t *n, const char *s)
{
  *v = ps_xrealloc(*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = ps_xstrdup(s);
}

/* Sorts one argument into alloc / cpu lists. Returns 0 or a PS_EXIT_* code (message printed). */
static int classify(const char *arg, char ***alloc, size_t *na, char ***cpu, size_t *nc)
{
  struct stat st;
  if (stat(arg, &st) != 0) {
    ps_error("cannot read %s: %s; pass trace files or profile folders", arg, strerror(errno));
    return PS_EXIT_USAGE;
  }
  if (S_ISDIR(st.st_mode)) {
    size_t before = *na + *nc;
    if (ps_trace_find(arg, "alloc", alloc, na) || ps_trace_find(arg, "cpu", cpu, nc))
      return PS_EXIT_USAGE;
    if (*na + *nc == before) {
      ps_error("%s holds no alloc.*.pst[.zst] or cpu.*.pst[.zst] trace; is it the folder of a 'perfsweep "
               "profile' run?", arg);
      return PS_EXIT_USAGE;
    }
    return 0;
  }
  /* a compressed trace named by the profiler: its name gives the kind (no need to open it) */
  const char *b = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
  size_t bl = strlen(b);
  if (bl > 8 && !strcmp(b + bl - 8, ".pst.zst") && (!strncmp(b, "alloc.", 6) || !strncmp(b, "cpu.", 4))) {
    if (b[0] == 'a')
      push(alloc, na, arg);
    else
      push(cpu, nc, arg);
    return 0;
  }
  struct ps_trace *t;
  if (ps_trace_open(arg, &t))
    return PS_EXIT_USAGE;
  if (ps_trace_header(t)->kind == PS_TRACE_ALLOC)
    push(alloc, na, arg);
  else
    push(cpu, nc, arg);
  ps_trace_close(t);
  return 0;
}

int cmd_analyze(int argc, char **argv)
{
  int json_out = 0;
  unsigned long top = 20;
  const char *diff = NULL, *out_dir = NULL;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "o:", analyze_options, NULL)) != -1) {
    switch (c) {
    case OPT_JSON:
      json_out = 1;
      break;
    case OPT_TOP: {
      char *end;
      top = strtoul(optarg, &end, 10);
      if (*end || !top || optarg[0] == '-') {
        ps_error("--top expects a positive whole number, not '%s'", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    }
    case OPT_DIFF:
      diff = optarg;
      break;
    case 'o':
      out_dir = optarg;
      break;
    case OPT_HELP:
      fputs(analyze_usage, stdout);
      return PS_EXIT_OK;
    case OPT_NO_SYMCACHE:
      setenv("PERFSWEEP_SYMCACHE", "off", 1);
      break;
    case OPT_DUMP:
      for (int i = optind; i < argc; i++)
        if (dump_trace(argv[i]))
          return PS_EXIT_USAGE;
      return PS_EXIT_OK;
    default:
      fputs(analyze_usage, stderr);
      return PS_EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    ps_error("no trace given; e.g. perfsweep analyze prof/ (the folder of a profile run)");
    return PS_EXIT_USAGE;
  }
  char **alloc = NULL, **cpu = NULL;
  size_t na = 0, nc = 0;
  int rc = 0;
  for (int i = optind; i < argc && !rc; i++)
    rc = classify(argv[i], &alloc, &na, &cpu, &nc);
  struct stat st;
  if (!out_dir && argc - optind == 1 && stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode))
    out_dir = argv[optind];
  if (!rc && out_dir) {
    int err = ps_mkdir_p(out_dir, 0755);
    if (err) {
      ps_error("cannot create %s: %s", out_dir, strerror(-err));
      rc = PS_EXIT_IO;
    }
  }
  json_t *res = json_object();
  if (!rc && na) {
    struct alloc_analysis_opts ao = {.out_dir = out_dir, .top_n = top, .diff_base = diff};
    json_t *sum = NULL;
    int err = alloc_analyze(alloc, na, &ao, &sum);
    if (err)
      rc = err == -EIO || err == -ENOSPC ? PS_EXIT_IO : PS_EXIT_USAGE;
    else
      json_object_set_new(res, "alloc", sum);
  }
  if (!rc && nc) {
    struct cpu_analysis_opts co = {.out_dir = out_dir, .top_n = top, .diff_base = diff};
    json_t *sum = NULL;
    int err = cpu_analyze(cpu, nc, &co, &sum);
    if (err)
      rc = err == -ENOSYS ? PS_EXIT_ENVIRONMENT : err == -EIO ? PS_EXIT_IO : PS_EXIT_USAGE;
    else
      json_object_set_new(res, "cpu", sum);
  }
  if (!rc) {
    if (json_out) {
      char *text = json_dumps(res, JSON_INDENT(2) | JSON_SORT_KEYS);
      puts(text);
      free(text);
    } else {
      if (json_object_get(res, "alloc"))
        alloc_print_summary(stdout, json_object_get(res, "alloc"));
      if (json_object_get(res, "cpu")) {
        if (json_object_get(res, "alloc"))
          fputc('\n', stdout);
        cpu_print_summary(stdout, json_object_get(res, "cpu"));
      }
    }
  }
  json_decref(res);
  ps_trace_paths_free(alloc, na);
  ps_trace_paths_free(cpu, nc);
  return rc;
}
