/* fx-cmd-generate.c - `perfsweep-features generate`: writes a deterministic dataset folder
 * (dataset.json + one JSON-lines file per table).
 *
 *   $ perfsweep-features generate --scale tiny --seed 1 --out /tmp/shop
 *   wrote /tmp/shop: shops 1, products 350, collections 12, customers 381, orders 1500, ...
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exit-codes.h"
#include "fx-cli.h"
#include "fx-command.h"
#include "fx-gen.h"
#include "fx-sink.h"

static const char usage[] =
  "usage: perfsweep-features generate --scale tiny|small|medium|large --out DIR\n"
  "                                   [--seed N] [--dirty RATE] [--cutoff-days D]\n"
  "  --scale S        dataset size (tiny: 1 shop, 350 products, 381 customers, 1500 orders)\n"
  "  --seed N         PRNG seed (default 1); same seed, same bytes on any machine\n"
  "  --out DIR        folder to write (created; files replaced atomically)\n"
  "  --dirty RATE     add bad records at this rate per clean record (0..1, e.g. 0.05):\n"
  "                   duplicates, missing fields, invalid values, unknown references,\n"
  "                   future timestamps; counts go to DIR/dataset.json\n"
  "  --cutoff-days D  keep only records updated more than D days before the reference time\n"
  "                   (an earlier snapshot of the same data, for incremental runs)\n"
  "example:\n"
  "  perfsweep-features generate --scale small --seed 7 --dirty 0.02 --out /tmp/shop\n";

static int generate_main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"scale", required_argument, 0, 's'}, {"seed", required_argument, 0, 'S'},
    {"out", required_argument, 0, 'o'},   {"dirty", required_argument, 0, 'd'},
    {"cutoff-days", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  struct fx_gen_opts o = {.scale = NULL, .seed = 1};
  const char *out = NULL;
  uint64_t v;
  int c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 's': o.scale = optarg; break;
    case 'o': out = optarg; break;
    case 'S':
      if (fx_parse_u64(optarg, 0, UINT64_MAX, &o.seed)) {
        fx_cli_error("generate", "--seed %s: not a whole number; e.g. --seed 1", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'd':
      if (fx_gen_parse_rate(optarg, &o.dirty_ppm)) {
        fx_cli_error("generate", "--dirty %s: not a rate between 0 and 1 (at most 6 decimals); "
                     "e.g. --dirty 0.05", optarg);
        return PS_EXIT_USAGE;
      }
      break;
    case 'c':
      if (fx_parse_u64(optarg, 0, FX_GEN_SPAN_DAYS, &v)) {
        fx_cli_error("generate", "--cutoff-days %s: not a whole number of days from 0 to %d; "
                     "e.g. --cutoff-days 10", optarg, FX_GEN_SPAN_DAYS);
        return PS_EXIT_USAGE;
      }
      o.cutoff_days = (uint32_t)v;
      break;
    case 'h': fputs(usage, stdout); return PS_EXIT_OK;
    default:
      return fx_cli_getopt_error("generate", c, argv);
    }
  }
  if (optind < argc) {
    fx_cli_error("generate", "unexpected argument '%s'; see perfsweep-features generate --help",
                 argv[optind]);
    return PS_EXIT_USAGE;
  }
  if (!o.scale || !fx_gen_scale_valid(o.scale)) {
    fx_cli_error("generate", "--scale %s: unknown or missing scale; use tiny, small, medium or "
                 "large", o.scale ? o.scale : "(none)");
    return PS_EXIT_USAGE;
  }
  if (!out || !*out) {
    fx_cli_error("generate", "--out DIR is required; e.g. --out /tmp/shop");
    return PS_EXIT_USAGE;
  }
  struct fx_raw raw = {0};
  struct fx_gen_counts counts;
  char err[1024], name[64];
  fx_gen(&o, &raw, &counts);
  int rc = 0;
  for (int t = 0; t < FX_RAW_COUNT && rc == 0; t++) {
    snprintf(name, sizeof name, "%s.jsonl", fx_raw_names[t]);
    rc = fx_sink_write_file(out, name, raw.table[t].data ? raw.table[t].data : "",
                            raw.table[t].len, err, sizeof err);
  }
  if (rc == 0)
    rc = fx_sink_write_file(out, FX_MANIFEST_FILE, raw.manifest.data, raw.manifest.len, err,
                            sizeof err);
  fx_raw_free(&raw);
  if (rc) {
    fx_cli_error("generate", "%s", err);
    return rc;
  }
  printf("wrote %s:", out);
  for (int t = 0; t < FX_RAW_COUNT; t++)
    printf("%s %s %llu", t ? "," : "", fx_raw_names[t], (unsigned long long)counts.records[t]);
  uint64_t dirty = 0;
  for (int k = 0; k < FX_DIRTY_COUNT; k++)
    dirty += counts.dirty[k];
  printf("; dirty records %llu\n", (unsigned long long)dirty);
  return PS_EXIT_OK;
}

const struct fx_command fx_cmd_generate = {"generate", generate_main,
                                           "write a deterministic dataset folder"};
