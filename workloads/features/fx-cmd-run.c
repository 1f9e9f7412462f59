/* fx-cmd-run.c - `perfsweep-features run`: the pipeline collect -> normalize -> compute ->
 * sink, its stage-metrics table (or --json), the digest, and $PERFSWEEP_METRICS lines.
 *
 *   $ perfsweep-features run --source gen:tiny --batch-size 100 --workers 2
 *   stage         seconds   records_in  records_out  rejected  batches workers  success ...
 *   collect        0.0040         9744         9744         0       99       1  100.00% ...
 *   digest 3f2a...  rows product 350 user 381 collection 12
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-cli.h"
#include "fx-command.h"
#include "fx-compute.h"
#include "fx-digest.h"
#include "fx-metrics.h"
#include "fx-sink.h"
#include "fx-source.h"
#include "fx-state.h"
#include "fx-time.h"

static void usage(FILE *out)
{
  fputs("usage: perfsweep-features run [--source SPEC] [--sink SPEC] [--batch-size B]\n"
        "                              [--workers W] [--seed N] [--state DIR] [--json]\n"
        "  --source SPEC    where the data comes from (default gen:tiny):\n", out);
  for (int i = 0; fx_sources[i]; i++)
    fprintf(out, "                     %s\n", fx_sources[i]->help);
  fputs("  --sink SPEC      where the feature rows go (default none):\n", out);
  for (int i = 0; fx_sinks[i]; i++)
    fprintf(out, "                     %s\n", fx_sinks[i]->help);
  fputs("  --batch-size B   entities per compute batch and records per collect page (1000)\n"
        "  --workers W      compute worker threads (2)\n"
        "  --seed N         seed of a gen: source (1)\n"
        "  --state DIR      incremental mode: recompute only entities touched since the\n"
        "                   watermarks kept in DIR; the result equals a full recompute\n"
        "  --json           print the stage metrics and digest as one JSON object\n"
        "  --retries N      postgres source/sink: retry a batch N times after a transient\n"
        "                   failure, reconnecting with backoff (0)\n"
        "  --fault drop-row test aid: lose one feature row, to check the run fails (exit 7)\n"
        "environment: PERFSWEEP_METRICS=FILE appends one perfsweep.metrics/1 line per stage\n"
        "example:\n"
        "  perfsweep-features generate --scale tiny --out /tmp/shop\n"
        "  perfsweep-features run --source jsonl:/tmp/shop --sink gorse:/tmp/gorse "
        "--batch-size 100 --workers 2\n",
        out);
}

struct run_opts {
  const char *source, *sink, *state;
  uint64_t batch, workers, seed, retries;
  int json, fault;
};

static int parse(int argc, char **argv, struct run_opts *o)
{
  static const struct option opts[] = {
    {"source", required_argument, 0, 's'}, {"sink", required_argument, 0, 'k'},
    {"batch-size", required_argument, 0, 'b'}, {"workers", required_argument, 0, 'w'},
    {"seed", required_argument, 0, 'S'}, {"state", required_argument, 0, 't'},
    {"json", no_argument, 0, 'j'}, {"fault", required_argument, 0, 'f'},
    {"retries", required_argument, 0, 'r'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 's': o->source = optarg; break;
    case 'k': o->sink = optarg; break;
    case 't': o->state = optarg; break;
    case 'j': o->json = 1; break;
    case 'b':
      if (fx_parse_u64(optarg, 1, 100000000, &o->batch)) {
        fx_cli_error("run", "--batch-size %s: must be a whole number from 1 to 100000000; "
                     "e.g. --batch-size 1000", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'w':
      if (fx_parse_u64(optarg, 1, 256, &o->workers)) {
        fx_cli_error("run", "--workers %s: must be a whole number from 1 to 256; e.g. "
                     "--workers 2", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'S':
      if (fx_parse_u64(optarg, 0, UINT64_MAX, &o->seed)) {
        fx_cli_error("run", "--seed %s: not a whole number; e.g. --seed 1", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'r':
      if (fx_parse_u64(optarg, 0, 100, &o->retries)) {
        fx_cli_error("run", "--retries %s: must be a whole number from 0 to 100; e.g. "
                     "--retries 3", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'f':
      if (strcmp(optarg, "drop-row") != 0) {
        fx_cli_error("run", "--fault %s: unknown fault; the only one is drop-row", optarg);
        return PS_EXIT_USAGE;
      }
      o->fault = 1;
      break;
    case 'h': usage(stdout); return -1;
    default:
      return fx_cli_getopt_error("run", c, argv);
    }
  }
  if (optind < argc) {
    fx_cli_error("run", "unexpected argument '%s'; see perfsweep-features run --help",
                 argv[optind]);
    return PS_EXIT_USAGE;
  }
  return 0;
}

static void print_text(const struct run_opts *o, const struct fx_dataset *ds,
                       const struct fx_features *f, const struct fx_stage *st, int n,
                       uint64_t digest, const struct fx_state_plan *plan)
{
  char ref[21];
  fx_time_format(ds->reference_time, ref);
  printf("source %s  reference %s  freshness %lld s\n", o->source, ref,
         (long long)st[1].freshness_seconds);
  fx_metrics_print_table(stdout, st, n);
  printf("rejected: missing_fields %llu, invalid_data %llu, duplicates %llu, fk_violations %llu,"
         " future_timestamps %llu\n",
         (unsigned long long)ds->rejects.missing_fields,
         (unsigned long long)ds->rejects.invalid_data,
         (unsigned long long)ds->rejects.duplicates,
         (unsigned long long)ds->rejects.fk_violations,
         (unsigned long long)ds->rejects.future_timestamps);
  if (o->state)
    printf("incremental: %s (%llu shop x feature pairs in full: records below the watermark); "
           "computed product %llu user %llu collection %llu, reused %llu\n",
           plan->full ? plan->reason : "watermarks applied", (unsigned long long)plan->late,
           (unsigned long long)plan->todo[0], (unsigned long long)plan->todo[1],
           (unsigned long long)plan->todo[2],
           (unsigned long long)(plan->reused[0] + plan->reused[1] + plan->reused[2]));
  printf("digest %016llx  rows product %zu user %zu collection %zu\n",
         (unsigned long long)digest, f->n_rows[0], f->n_rows[1], f->n_rows[2]);
}

static void print_json(const struct run_opts *o, const struct fx_dataset *ds,
                       const struct fx_features *f, const struct fx_stage *st, int n,
                       uint64_t digest, const struct fx_state_plan *plan)
{
  char ref[21];
  fx_time_format(ds->reference_time, ref);
  printf("{\"source\":\"%s\",\"reference_time\":\"%s\",\"batch_size\":%llu,\"workers\":%llu,"
         "\"digest\":\"%016llx\",\"rows\":{\"product\":%zu,\"user\":%zu,\"collection\":%zu},",
         o->source, ref, (unsigned long long)o->batch, (unsigned long long)o->workers,
         (unsigned long long)digest, f->n_rows[0], f->n_rows[1], f->n_rows[2]);
  if (o->state)
    printf("\"incremental\":{\"full\":%s,\"late_pairs\":%llu,\"computed\":%llu,"
           "\"reused\":%llu},",
           plan->full ? "true" : "false", (unsigned long long)plan->late,
           (unsigned long long)(plan->todo[0] + plan->todo[1] + plan->todo[2]),
           (unsigned long long)(plan->reused[0] + plan->reused[1] + plan->reused[2]));
  printf("\"stages\":[");
  fx_metrics_print_json_array(stdout, st, n);
  printf("]}\n");
}

static int run_main(int argc, char **argv)
{
  struct run_opts o = {.source = "gen:tiny", .sink = "none", .batch = 1000, .workers = 2,
                       .seed = 1};
  int rc = parse(argc, argv, &o);
  if (rc)
    return rc < 0 ? PS_EXIT_OK : rc;
  const char *src_arg, *sink_arg;
  const struct fx_source_ops *src = fx_source_find(o.source, &src_arg);
  const struct fx_sink_ops *sink = fx_sink_find(o.sink, &sink_arg);
  if (!src) {
    fx_cli_error("run", "--source %s: unknown source; use jsonl:DIR or gen:SCALE (see --help)",
                 o.source);
    return PS_EXIT_USAGE;
  }
  if (!sink) {
    fx_cli_error("run", "--sink %s: unknown sink; use none, jsonl:DIR or gorse:DIR (see --help)",
                 o.sink);
    return PS_EXIT_USAGE;
  }
  if (strcmp(sink->scheme, "none") != 0 && !*sink_arg) {
    fx_cli_error("run", "--sink %s: needs a target after the colon; e.g. --sink %s:/tmp/out",
                 o.sink, sink->scheme);
    return PS_EXIT_USAGE;
  }

  enum { COLLECT, NORMALIZE, COMPUTE, SINK, TOTAL, NSTAGES };
  struct fx_stage st[NSTAGES] = {
    {.name = "collect"}, {.name = "normalize", .freshness_seconds = -1}, {.name = "compute"},
    {.name = "sink"}, {.name = "total"}};
  struct fx_source_params sp = {o.batch, o.seed, (int)o.workers, (int)o.retries};
  struct fx_dataset ds = {0};
  struct fx_features f = {0};
  struct fx_state_plan plan = {.full = 1};
  uint32_t *todo[FX_KIND_COUNT] = {0};
  size_t n_todo[FX_KIND_COUNT] = {0};
  char err[2048];
  double t_start = fx_now(), c_start = fx_cpu_now();

  rc = src->load(src_arg, &sp, &ds, &st[COLLECT], &st[NORMALIZE], err, sizeof err);
  if (rc) {
    fx_cli_error("run", "%s", err);
    goto out;
  }
  double t0 = fx_now(), c0 = fx_cpu_now();
  if (fx_dataset_index(&ds) != 0 || fx_features_alloc(&ds, &f) != 0) {
    fx_cli_error("run", "out of memory indexing %llu records; use a smaller dataset",
                 (unsigned long long)ds.records_in);
    rc = PS_EXIT_ENVIRONMENT;
    goto out;
  }
  st[NORMALIZE].seconds += fx_now() - t0; /* the lookup indexes belong to normalized tables */
  st[NORMALIZE].cpu_seconds += fx_cpu_now() - c0;

  if (o.state) {
    rc = fx_state_plan(o.state, &ds, &f, todo, n_todo, &plan, err, sizeof err);
    if (rc) {
      fx_cli_error("run", "%s", err);
      goto out;
    }
  }
  for (int k = 0; k < FX_KIND_COUNT; k++)
    if (!todo[k])
      plan.todo[k] = f.n_rows[k];
  struct fx_compute_opts co = {o.batch, (int)o.workers, o.fault};
  struct fx_compute_stats cs;
  t0 = fx_now();
  c0 = fx_cpu_now();
  if (fx_compute(&ds, &co, todo, n_todo, &f, &cs) != 0) {
    fx_cli_error("run", "a compute worker could not start or allocate its batch buffers; "
                 "lower --workers or --batch-size");
    rc = PS_EXIT_ENVIRONMENT;
    goto out;
  }
  st[COMPUTE] = (struct fx_stage){.name = "compute", .seconds = fx_now() - t0,
                                  .cpu_seconds = fx_cpu_now() - c0,
                                  .records_in = cs.source_rows, .records_out = cs.entities,
                                  .batches = cs.batches, .workers = (int)o.workers,
                                  .peak_rss_kb = fx_peak_rss_kb(),
                                  .batch_buffer_bytes = cs.peak_batch_bytes,
                                  .source_rows = cs.source_rows,
                                  .worker_cpu_max = cs.worker_cpu_max};
  if (fx_features_check(&ds, &f, err, sizeof err) != 0) {
    fx_cli_error("run", "%s", err);
    rc = PS_EXIT_DATA;
    goto out;
  }
  uint64_t rows = f.n_rows[0] + f.n_rows[1] + f.n_rows[2];
  t0 = fx_now();
  c0 = fx_cpu_now();
  rc = sink->write(sink_arg, &ds, &f, err, sizeof err);
  if (rc == 0 && o.state)
    rc = fx_state_save(o.state, &ds, &f, err, sizeof err);
  if (rc) {
    fx_cli_error("run", "%s", err);
    goto out;
  }
  st[SINK] = (struct fx_stage){.name = "sink", .seconds = fx_now() - t0,
                               .cpu_seconds = fx_cpu_now() - c0, .records_in = rows,
                               .records_out = rows, .batches = 1, .workers = 1,
                               .peak_rss_kb = fx_peak_rss_kb()};
  uint64_t digest = fx_digest(&f);
  st[TOTAL] = (struct fx_stage){.name = "total", .seconds = fx_now() - t_start,
                                .cpu_seconds = fx_cpu_now() - c_start,
                                .records_in = ds.records_in, .records_out = rows,
                                .errors = ds.rejects, .batches = cs.batches,
                                .workers = (int)o.workers, .peak_rss_kb = fx_peak_rss_kb()};
  if (o.json)
    print_json(&o, &ds, &f, st, NSTAGES, digest, &plan);
  else
    print_text(&o, &ds, &f, st, NSTAGES, digest, &plan);
  const char *mpath = getenv("PERFSWEEP_METRICS");
  if (mpath && *mpath && fx_metrics_append(mpath, st, NSTAGES) != 0) {
    fx_cli_error("run", "PERFSWEEP_METRICS=%s: cannot append the metrics (%s); point it at a "
                 "writable file", mpath, strerror(errno));
    rc = PS_EXIT_IO;
  }
out:
  for (int k = 0; k < FX_KIND_COUNT; k++)
    free(todo[k]);
  fx_features_free(&f);
  fx_dataset_free(&ds);
  return rc;
}

const struct fx_command fx_cmd_run = {"run", run_main,
                                      "run the pipeline and print its stage metrics and digest"};
