/* fx-cmd-parse-only.c - `perfsweep-features parse-only`: the benchmark's reference point. It
 * collects the same input as `run` (a folder streamed in pages of 1000 records) and validates
 * the JSON syntax of every record, extracting nothing, so the whole pipeline can be compared
 * with merely parsing its input. Its seconds are the parsing alone, without the reading.
 *
 *   $ perfsweep-features parse-only --source jsonl:/tmp/shop
 *   parse-only jsonl:/tmp/shop: 9744 records in 0.0031 s (3143225 records/s)
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-cli.h"
#include "fx-collect.h"
#include "fx-command.h"
#include "fx-gen.h"
#include "fx-metrics.h"
#include "fx-normalize.h"

static const char usage[] =
  "usage: perfsweep-features parse-only [--source jsonl:DIR|gen:SCALE] [--seed N] [--json]\n"
  "  validates the JSON of every input record without building rows; the time is the\n"
  "  reference the pipeline is compared with (scripts/bench/bench-features.sh)\n"
  "example:\n"
  "  perfsweep-features parse-only --source jsonl:/tmp/shop --json\n";

/* Streams DIR as `run` does (pages of the default --batch-size) and validates every page;
 * *secs and *cpu are the parsing alone, without the reading (run's collect stage). */
static int parse_dir(const char *dir, uint64_t *records, double *secs, double *cpu, char *err,
                     size_t errlen)
{
  struct fx_collect_input in;
  double t0 = fx_now(), c0 = fx_cpu_now();
  int rc = fx_collect_open(dir, &in, err, errlen);
  double open_s = fx_now() - t0, open_c = fx_cpu_now() - c0;
  for (int t = 0; t < FX_RAW_COUNT && rc == 0; t++) {
    struct fx_page page;
    size_t line = 0;
    int r = 0;
    while (rc == 0 && (r = fx_collect_next(&in, t, 1000, &page, err, errlen)) > 0)
      rc = fx_parse_only_page(dir, t, page.text, page.len, &line, records, err, errlen);
    if (rc == 0 && r < 0)
      rc = -r;
  }
  *secs = fx_now() - t0 - open_s - in.pager.read_seconds;
  *cpu = fx_cpu_now() - c0 - open_c - in.pager.read_cpu_seconds;
  if (*cpu < 0)
    *cpu = 0;
  fx_collect_close(&in);
  return rc;
}

static int parse_only_main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"source", required_argument, 0, 's'}, {"seed", required_argument, 0, 'S'},
    {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *source = "gen:tiny";
  uint64_t seed = 1;
  int json = 0, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 's': source = optarg; break;
    case 'j': json = 1; break;
    case 'S':
      if (fx_parse_u64(optarg, 0, UINT64_MAX, &seed)) {
        fx_cli_error("parse-only", "--seed %s: not a whole number; e.g. --seed 1", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'h': fputs(usage, stdout); return PS_EXIT_OK;
    default:
      return fx_cli_getopt_error("parse-only", c, argv);
    }
  }
  char err[2048];
  int rc = 0;
  uint64_t records = 0;
  double secs = 0, cpu = 0;
  if (strncmp(source, "jsonl:", 6) == 0) {
    rc = parse_dir(source + 6, &records, &secs, &cpu, err, sizeof err);
  } else if (strncmp(source, "gen:", 4) == 0 && fx_gen_scale_valid(source + 4)) {
    struct fx_raw raw = {0};
    struct fx_gen_opts o = {.scale = source + 4, .seed = seed};
    fx_gen(&o, &raw, NULL);
    double t0 = fx_now(), c0 = fx_cpu_now();
    rc = fx_parse_only(&raw, &records, err, sizeof err);
    secs = fx_now() - t0;
    cpu = fx_cpu_now() - c0;
    fx_raw_free(&raw);
  } else {
    snprintf(err, sizeof err, "--source %s: parse-only reads jsonl:DIR or gen:SCALE", source);
    rc = PS_EXIT_USAGE;
  }
  if (rc) {
    fx_cli_error("parse-only", "%s", err);
    return rc;
  }
  if (json)
    printf("{\"source\":\"%s\",\"records\":%llu,\"seconds\":%.6f,\"cpu_seconds\":%.6f}\n",
           source, (unsigned long long)records, secs, cpu);
  else
    printf("parse-only %s: %llu records in %.4f s, %.4f cpu s (%.0f records/s)\n", source,
           (unsigned long long)records, secs, cpu, secs > 0 ? (double)records / secs : 0.0);
  return PS_EXIT_OK;
}

const struct fx_command fx_cmd_parse_only = {"parse-only", parse_only_main,
                                             "only parse the input JSON (benchmark reference)"};
