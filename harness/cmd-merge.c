/* cmd-merge.c - `perfsweep merge`: combine the shard results of one sweep (run with --shard K/N
 * on several machines) into one results file.
 *
 *   $ perfsweep merge part1 part2 -o all
 *   merged 2 shards of 2: 9 cells, 54 runs -> all/results.json
 *
 * Refuses results of different sweeps (command, axes, repeats, seed, shard count), the same
 * shard twice, and overlapping cells, naming the files; writes nothing then.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builtin.h"
#include "results.h"
#include "sweep-plan.h"
#include "util.h"

static const char merge_usage[] =
    "usage: perfsweep merge DIR|results.json... -o OUT [--json]\n\n"
    "Combines the results of the shards of one sweep (perfsweep run --shard K/N) into\n"
    "OUT/results.json (or OUT itself when it ends in .json). Cells keep their runs, profiles\n"
    "are referred to where they were recorded, each shard's machine is kept in \"machines\".\n\n"
    "Example:\n"
    "  perfsweep run --shard 1/2 -o part1 features; perfsweep run --shard 2/2 -o part2 features\n"
    "  perfsweep merge part1 part2 -o all\n";

static int cmp_cell(const void *a, const void *b)
{
  json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "index"));
  json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "index"));
  return (x > y) - (x < y);
}

static char *source_dir(const char *arg)
{
  struct stat st;
  char *dir;
  if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
    dir = ps_xstrdup(arg);
  } else {
    const char *slash = strrchr(arg, '/');
    dir = slash ? ps_xasprintf("%.*s", (int)(slash - arg), arg) : ps_xstrdup(".");
  }
  char *real = realpath(dir, NULL);
  if (real) {
    free(dir);
    return real;
  }
  return dir;
}

int cmd_merge(int argc, char **argv)
{
  static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *out = NULL;
  int json = 0, c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    if (c == 'o')
      out = optarg;
    else if (c == 'j')
      json = 1;
    else if (c == 'h') {
      fputs(merge_usage, stdout);
      return PS_EXIT_OK;
    } else {
      ps_error("unknown option or missing value '%s'; see 'perfsweep merge --help'",
               argv[optind - 1]);
      return PS_EXIT_USAGE;
    }
  }
  int n = argc - optind;
  if (n < 1 || !out) {
    ps_error("give the shard results and an output: perfsweep merge DIR... -o OUT");
    return PS_EXIT_USAGE;
  }
  json_t **docs = ps_xcalloc((size_t)n, sizeof(json_t *));
  int rc = 0;
  for (int i = 0; i < n && !rc; i++)
    rc = ps_results_load_or_report(argv[optind + i], &docs[i]);
  if (rc)
    goto out;
  json_t *first = docs[0];
  json_int_t count = json_integer_value(
      json_object_get(json_object_get(json_object_get(first, "sweep"), "shard"), "count"));
  if (count < 1)
    count = 1;
  char *seen = ps_xcalloc((size_t)count + 1, 1);
  json_t *cells = json_array(), *machines = json_array(), *from = json_array();
  json_t *ids = json_object();
  size_t nruns = 0, nfailed = 0;
  double duration = 0;
  int complete = 1;
  for (int i = 0; i < n && !rc; i++) {
    const char *name = argv[optind + i];
    char err[512];
    if (i > 0 && !ps_plan_same_sweep(first, docs[i], err, sizeof(err))) {
      ps_error("%s and %s are not shards of the same sweep: %s; merge only the shards of one "
               "'perfsweep run --shard K/N' command",
               argv[optind], name, err);
      rc = PS_EXIT_USAGE;
      break;
    }
    json_int_t k = json_integer_value(
        json_object_get(json_object_get(json_object_get(docs[i], "sweep"), "shard"), "index"));
    if (k < 1 || k > count) {
      ps_error("%s has an invalid shard index %lld", name, (long long)k);
      rc = PS_EXIT_USAGE;
      break;
    }
    if (seen[k] && count > 1) {
      ps_error("%s is shard %lld of %lld, which is already merged from another folder; give each "
               "shard once",
               name, (long long)k, (long long)count);
      rc = PS_EXIT_USAGE;
      break;
    }
    seen[k] = 1;
    char *src = source_dir(name);
    size_t j;
    json_t *cell;
    json_array_foreach(json_object_get(docs[i], "cells"), j, cell) {
      const char *id = json_string_value(json_object_get(cell, "id"));
      if (json_object_get(ids, id)) {
        ps_error("cell %s appears in two inputs (%s and %s); the inputs overlap", id,
                 json_string_value(json_object_get(ids, id)), name);
        rc = PS_EXIT_USAGE;
        break;
      }
      json_object_set_new(ids, id, json_string(name));
      json_t *copy = json_deep_copy(cell);
      json_t *prof = json_object_get(copy, "profile");
      const char *pdir = json_string_value(json_object_get(prof, "dir"));
      if (pdir && pdir[0] != '/') {
        char *abs = ps_xasprintf("%s/%s", src, pdir);
        json_object_set_new(prof, "dir", json_string(abs));
        free(abs);
      }
      json_array_append_new(cells, copy);
    }
    free(src);
    json_t *s = json_object_get(docs[i], "summary");
    nruns += (size_t)json_integer_value(json_object_get(s, "runs"));
    nfailed += (size_t)json_integer_value(json_object_get(s, "failed_runs"));
    duration += json_number_value(json_object_get(s, "duration"));
    complete &= json_is_true(json_object_get(s, "complete"));
    json_array_append(machines, json_object_get(docs[i], "machine"));
    json_array_append_new(from, json_pack("{sssI}", "path", name, "shard", k));
  }
  if (!rc) {
    int missing = 0;
    for (json_int_t k = 1; k <= count; k++)
      missing += !seen[k];
    if (missing) {
      ps_warn("%d of %lld shards are missing; the merged results are incomplete", missing,
              (long long)count);
      complete = 0;
    }
    size_t nc = json_array_size(cells);
    json_t **arr = ps_xcalloc(nc + 1, sizeof(json_t *));
    for (size_t j = 0; j < nc; j++)
      arr[j] = json_incref(json_array_get(cells, j));
    qsort(arr, nc, sizeof(json_t *), cmp_cell);
    json_t *sorted = json_array();
    for (size_t j = 0; j < nc; j++)
      json_array_append_new(sorted, arr[j]);
    free(arr);
    json_t *root = json_deep_copy(first);
    json_t *shard = json_object_get(json_object_get(root, "sweep"), "shard");
    json_object_set_new(shard, "index", json_integer(1));
    json_object_set_new(shard, "count", json_integer(1));
    json_object_set_new(shard, "merged_from", from);
    from = NULL;
    json_object_set_new(root, "cells", sorted);
    json_object_set_new(root, "machines", machines);
    machines = NULL;
    json_object_set_new(root, "summary", json_pack("{sIsIsIsfsb}", "cells", (json_int_t)nc, "runs",
                                                   (json_int_t)nruns, "failed_runs",
                                                   (json_int_t)nfailed, "duration", duration,
                                                   "complete", complete));
    size_t ol = strlen(out);
    char *path;
    if (ol > 5 && !strcmp(out + ol - 5, ".json")) {
      path = ps_xstrdup(out);
    } else {
      int mk = ps_mkdir_p(out, 0755);
      if (mk < 0) {
        ps_error("cannot create %s: %s", out, strerror(-mk));
        rc = PS_EXIT_IO;
      }
      path = ps_xasprintf("%s/%s", out, PS_RESULTS_FILE);
    }
    if (!rc) {
      int wr = ps_results_write(path, root);
      if (wr < 0) {
        ps_error("cannot write %s: %s", path, strerror(-wr));
        rc = PS_EXIT_IO;
      } else if (json) {
        json_t *o = json_pack("{sssIsIsIsb}", "results", path, "shards", (json_int_t)n, "cells",
                              (json_int_t)nc, "runs", (json_int_t)nruns, "complete", complete);
        char *t = json_dumps(o, JSON_INDENT(2));
        printf("%s\n", t);
        free(t);
        json_decref(o);
      } else {
        printf("merged %d shard%s of %lld: %zu cells, %zu runs -> %s\n", n, n == 1 ? "" : "s",
               (long long)count, nc, nruns, path);
      }
    }
    free(path);
    json_decref(root);
  }
  json_decref(cells);
  json_decref(machines);
  json_decref(from);
  json_decref(ids);
  free(seen);
out:
  for (int i = 0; i < n; i++)
    json_decref(docs[i]);
  free(docs);
  return rc;
}
