/* test-run-sweep.c - `perfsweep run` end to end with real commands: matrix and statistics,
 * failing, crashing and timed-out runs recorded while the sweep goes on, SIGINT then --resume
 * equal to an uninterrupted sweep, shards merged equal to the whole sweep, bad input refused
 * with nothing written. No assertion on speed. */
#include "run-helpers.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

Test(run, matrix_of_true_with_stats)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  char *text;
  int rc = ps_run(&text, "run", "--param", "a=1,2", "--param", "b=1..4*2", "--runs", "3",
                  "--warmup", "1", "--seed", "7", "--profile", "none", "-o", out, "--", "true",
                  "{a}", "{b}", NULL);
  cr_assert_eq(rc, 0, "exit 0 expected, got %d:\n%s", rc, text);
  cr_assert(strstr(text, "a=2,b=4"), "the table lists the cells:\n%s", text);
  json_t *r = load_results(out);
  cr_assert_str_eq(json_string_value(json_object_get(r, "schema")), "perfsweep.results/1");
  json_t *cells = json_object_get(r, "cells");
  cr_assert_eq(json_array_size(cells), 6, "2 x 3 cells");
  json_t *c = json_array_get(cells, 5);
  cr_assert_str_eq(json_string_value(json_object_get(c, "id")), "a=2,b=4");
  cr_assert_eq(json_array_size(json_object_get(c, "runs")), 4, "1 warm-up + 3 timed");
  json_t *wall = json_object_get(json_object_get(c, "stats"), "wall");
  cr_assert_eq(json_integer_value(json_object_get(wall, "n")), 3, "warm-up excluded from stats");
  cr_assert(json_is_number(json_object_get(wall, "median")), "median present");
  cr_assert(json_is_null(json_object_get(wall, "p90")), "p90 null for n = 3");
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "sweep"), "seed")), 7);
  cr_assert(json_is_true(json_object_get(json_object_get(r, "summary"), "complete")));
  json_t *argv = json_object_get(c, "argv");
  cr_assert_str_eq(json_string_value(json_array_get(argv, 2)), "4", "placeholder expanded");
  cr_assert(json_is_string(json_object_get(json_object_get(r, "machine"), "kernel")));
  json_decref(r);
  free(text);
  tmpdir_rm(d);
}

Test(run, failures_are_recorded_and_the_sweep_goes_on)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  int rc = ps_run(NULL, "run", "--shell", "--param", "m=ok,fail,crash,slow", "--runs", "2",
                  "--warmup", "0", "--timeout", "0.5", "--profile", "none", "-o", out, "--",
                  "case {m} in ok) exit 0;; fail) echo broken >&2; exit 3;; crash) kill -SEGV $$;; "
                  "slow) exec sleep 20;; esac",
                  NULL);
  cr_assert_eq(rc, 5, "some runs failed: exit 5, got %d", rc);
  json_t *r = load_results(out);
  const char *expect[][2] = {{"m=ok", "ok"}, {"m=fail", "failed"}, {"m=crash", "crashed"},
                             {"m=slow", "timeout"}};
  for (int i = 0; i < 4; i++) {
    json_t *c = json_array_get(json_object_get(r, "cells"), (size_t)i);
    cr_assert_str_eq(json_string_value(json_object_get(c, "id")), expect[i][0]);
    json_t *runs = json_object_get(c, "runs");
    cr_assert_eq(json_array_size(runs), 2, "%s: both runs recorded", expect[i][0]);
    json_t *run = json_array_get(runs, 0);
    cr_assert_str_eq(json_string_value(json_object_get(run, "status")), expect[i][1], "%s",
                     expect[i][0]);
    if (i == 1)
      cr_assert(strstr(json_string_value(json_object_get(run, "error")), "broken"),
                "stderr tail kept in the error");
    if (i == 2)
      cr_assert_eq(json_integer_value(json_object_get(run, "signal")), 11);
    double sr = json_number_value(json_object_get(c, "success_rate"));
    cr_assert_float_eq(sr, i == 0 ? 1.0 : 0.0, 1e-9, "%s success rate", expect[i][0]);
  }
  json_decref(r);
  tmpdir_rm(d);
}

/* Whole lines of a run journal (0 while it does not exist). */
/* The stderr file is emptied only when the last run wrote to it: a failing run's error still
 * holds its own stderr and nothing of the runs before it (a noisy ok run, another failure). */
Test(run, error_holds_only_its_own_stderr)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  int rc = ps_run(NULL, "run", "--shell", "--param", "m=loud,fail,quiet", "--runs", "4",
                  "--warmup", "0", "--seed", "3", "--profile", "none", "-o", out, "--",
                  "case {m} in loud) echo loud-noise >&2;; fail) echo mark >&2; exit 3;; "
                  "quiet) exit 4;; esac",
                  NULL);
  cr_assert_eq(rc, 5, "some runs failed: exit 5, got %d", rc);
  json_t *r = load_results(out);
  size_t ci, ri;
  json_t *c, *run;
  json_array_foreach(json_object_get(r, "cells"), ci, c) {
    const char *id = json_string_value(json_object_get(c, "id"));
    json_array_foreach(json_object_get(c, "runs"), ri, run) {
      const char *err = json_string_value(json_object_get(run, "error"));
      if (!strcmp(id, "m=loud")) {
        cr_assert_null(err, "loud run %zu is ok", ri);
        continue;
      }
      cr_assert_not_null(err, "%s run %zu has an error", id, ri);
      cr_assert_null(strstr(err, "loud-noise"), "%s run %zu: no stderr of another run: %s", id,
                     ri, err);
      const char *m = strstr(err, "mark");
      if (!strcmp(id, "m=fail"))
        cr_assert(m && !strstr(m + 4, "mark"), "fail run %zu: its own line once: %s", ri, err);
      else
        cr_assert_null(m, "quiet run %zu: no stderr of a failed run: %s", ri, err);
    }
  }
  json_decref(r);
  tmpdir_rm(d);
}

/* A failing run whose stderr is not UTF-8 (binary bytes) is recorded with a readable error:
 * the journal and results.json stay valid JSON, the bytes written as '?'. */
Test(run, binary_stderr_keeps_the_results_readable)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  int rc = ps_run(NULL, "run", "--shell", "--runs", "2", "--warmup", "0", "--profile", "none",
                  "-o", out, "--", "printf 'bad \\377\\376 bytes' >&2; exit 2", NULL);
  cr_assert_eq(rc, 5, "the runs failed: exit 5, got %d", rc);
  json_t *r = load_results(out);
  json_t *run = json_array_get(json_object_get(json_array_get(json_object_get(r, "cells"), 0),
                                               "runs"), 0);
  const char *err = json_string_value(json_object_get(run, "error"));
  cr_assert_not_null(err, "the error is recorded");
  cr_assert(strstr(err, "bad ?? bytes"), "invalid bytes written as '?': %s", err);
  json_decref(r);
  tmpdir_rm(d);
}

static size_t count_lines(const char *path)
{
  FILE *f = fopen(path, "r");
  size_t n = 0;
  int c;
  while (f && (c = fgetc(f)) != EOF)
    n += c == '\n';
  if (f)
    fclose(f);
  return n;
}

Test(run, sigint_then_resume_equals_uninterrupted)
{
  char *d = tmpdir_new(), a[256], b[256], runs[512];
  snprintf(a, sizeof(a), "%s/interrupted", d);
  snprintf(b, sizeof(b), "%s/whole", d);
  snprintf(runs, sizeof(runs), "%s/runs.jsonl", a);
  char *args[] = {"run", "-q", "--seed", "3", "--runs", "3", "--param", "x=1,2,3", "--profile",
                  "none", "-o", a, "--", "sleep", "0.05", NULL};
  pid_t pid = ps_start(NULL, args);
  for (int i = 0; i < 400 && count_lines(runs) < 3; i++)
    usleep(10000);
  kill(pid, SIGINT);
  int rc = ps_wait(pid);
  cr_assert_eq(rc, 130, "interrupted: exit 130, got %d", rc);
  json_t *partial = load_results(a);
  cr_assert(json_is_false(json_object_get(json_object_get(partial, "summary"), "complete")),
            "an interrupted sweep says it is incomplete");
  json_int_t kept = json_integer_value(json_object_get(json_object_get(partial, "summary"), "runs"));
  cr_assert(kept >= 3 && kept < 12, "finished runs kept (%lld)", (long long)kept);
  json_decref(partial);

  rc = ps_run(NULL, "run", "-q", "--resume", a, NULL);
  cr_assert_eq(rc, 0, "resume completes: exit %d", rc);
  rc = ps_run(NULL, "run", "-q", "--seed", "3", "--runs", "3", "--param", "x=1,2,3", "--profile",
              "none", "-o", b, "--", "sleep", "0.05", NULL);
  cr_assert_eq(rc, 0);
  json_t *ra = load_results(a), *rb = load_results(b);
  char *da = content_digest(ra), *db = content_digest(rb);
  cr_assert_str_eq(da, db, "resumed:\n%s\nuninterrupted:\n%s", da, db);
  cr_assert(json_is_true(json_object_get(json_object_get(ra, "summary"), "complete")));
  free(da);
  free(db);
  json_decref(ra);
  json_decref(rb);
  tmpdir_rm(d);
}

Test(run, shards_merged_equal_the_whole_sweep)
{
  char *d = tmpdir_new(), s1[256], s2[256], s3[256], whole[256], merged[256];
  snprintf(s1, sizeof(s1), "%s/s1", d);
  snprintf(s2, sizeof(s2), "%s/s2", d);
  snprintf(s3, sizeof(s3), "%s/s3", d);
  snprintf(whole, sizeof(whole), "%s/whole", d);
  snprintf(merged, sizeof(merged), "%s/merged", d);
  char *outs[] = {s1, s2, s3};
  char *shards[] = {"1/3", "2/3", "3/3"};
  for (int i = 0; i < 3; i++)
    cr_assert_eq(ps_run(NULL, "run", "-q", "--seed", "11", "--runs", "2", "--param", "a=1..7",
                        "--profile", "none", "--shard", shards[i], "-o", outs[i], "--", "true",
                        NULL),
                 0, "shard %s", shards[i]);
  cr_assert_eq(ps_run(NULL, "run", "-q", "--seed", "11", "--runs", "2", "--param", "a=1..7",
                      "--profile", "none", "-o", whole, "--", "true", NULL),
               0);
  char *text;
  int rc = ps_run(&text, "merge", s3, s1, s2, "-o", merged, NULL);
  cr_assert_eq(rc, 0, "merge: %s", text);
  free(text);
  json_t *rm = load_results(merged), *rw = load_results(whole);
  char *dm = content_digest(rm), *dw = content_digest(rw);
  cr_assert_str_eq(dm, dw, "merged:\n%s\nwhole:\n%s", dm, dw);
  free(dm);
  free(dw);
  json_decref(rm);
  json_decref(rw);

  rc = ps_run(&text, "merge", s1, s1, "-o", merged, NULL);
  cr_assert_eq(rc, 3, "the same shard twice is refused");
  cr_assert(strstr(text, "already merged"), "%s", text);
  free(text);
  rc = ps_run(&text, "merge", s1, whole, "-o", merged, NULL);
  cr_assert_eq(rc, 3, "a different sweep is refused");
  cr_assert(strstr(text, "not shards of the same sweep"), "%s", text);
  free(text);
  tmpdir_rm(d);
}

static void expect_refused(int code, const char *needle, const char *out, char **args)
{
  char *text;
  char *all[32];
  int n = 0;
  for (; args[n]; n++)
    all[n] = args[n];
  all[n] = NULL;
  char path[] = "/tmp/ps-test-run-out-XXXXXX";
  close(ps_test_mkstemp(path));
  int rc = ps_wait(ps_start(path, all));
  FILE *f = fopen(path, "r");
  text = calloc(65536, 1);
  (void)!fread(text, 1, 65535, f);
  fclose(f);
  unlink(path);
  cr_assert_eq(rc, code, "expected exit %d, got %d: %s", code, rc, text);
  cr_assert(strstr(text, needle), "message says '%s': %s", needle, text);
  if (out) {
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "nothing written at %s", out);
  }
  free(text);
}

Test(run, bad_input_refused_and_nothing_written)
{
  char *d = tmpdir_new(), out[256], v2[256];
  snprintf(out, sizeof(out), "%s/never", d);
  char *a1[] = {"run", "--param", "n=1,2", "-o", out, "--", "echo", "{m}", NULL};
  expect_refused(3, "placeholder {m}", out, a1);
  char *a2[] = {"run", "--param", "n=", "-o", out, "--", "echo", NULL};
  expect_refused(3, "empty", out, a2);
  char *a3[] = {"run", "-o", out, "--", "/no/such/command", NULL};
  expect_refused(3, "does not exist", out, a3);
  char *a4[] = {"run", "--param", "n=1..x", "-o", out, "--", "true", NULL};
  expect_refused(3, "not a range", out, a4);
  char *a5[] = {"run", "-o", "/proc/perfsweep-cannot-write", "--", "true", NULL};
  expect_refused(6, "cannot create", NULL, a5);
  char *a6[] = {"run", "--runs", "x", "--", "true", NULL};
  expect_refused(3, "whole number", NULL, a6);
  /* a results folder of another schema version is refused by --resume */
  snprintf(v2, sizeof(v2), "%s/v2", d);
  mkdir(v2, 0755);
  char cmd[1500];
  snprintf(cmd, sizeof(cmd), "cp %s/run/schema-v2.json %s/results.json", PERFSWEEP_FIXTURES, v2);
  cr_assert_eq(system(cmd), 0);
  char *a7[] = {"run", "--resume", v2, NULL};
  expect_refused(3, "perfsweep.results/2", NULL, a7);
  tmpdir_rm(d);
}

Test(run, spec_file_and_env_axis)
{
  char *d = tmpdir_new(), out[256], spec[256];
  snprintf(out, sizeof(out), "%s/s", d);
  snprintf(spec, sizeof(spec), "%s/sweep.json", d);
  FILE *f = fopen(spec, "w");
  fprintf(f, "{\"command\": [\"sh\", \"-c\", \"test \\\"$PS_TEST_MODE\\\" = {mode}\"],"
             " \"env\": {\"PS_TEST_MODE\": [\"fast\", \"slow\"]},"
             " \"params\": {\"mode\": \"fast\"}, \"runs\": 2, \"warmup\": 0, \"seed\": 5,"
             " \"profile\": \"none\"}");
  fclose(f);
  int rc = ps_run(NULL, "run", "-q", "--spec", spec, "-o", out, NULL);
  cr_assert_eq(rc, 5, "the slow cell fails its test: exit 5, got %d", rc);
  json_t *r = load_results(out);
  json_t *c0 = json_array_get(json_object_get(r, "cells"), 0);
  json_t *c1 = json_array_get(json_object_get(r, "cells"), 1);
  cr_assert_str_eq(json_string_value(json_object_get(c0, "id")), "mode=fast,PS_TEST_MODE=fast");
  cr_assert_float_eq(json_number_value(json_object_get(c0, "success_rate")), 1.0, 1e-9,
                     "env var set in the child");
  cr_assert_float_eq(json_number_value(json_object_get(c1, "success_rate")), 0.0, 1e-9);
  json_decref(r);
  tmpdir_rm(d);
}

Test(run, profiled_run_and_exports)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  char *log = NULL;
  char logpath[512];
  snprintf(logpath, sizeof(logpath), "%s/log.jsonl", d);
  int rc = ps_run(&log, "run", "-q", "--runs", "2", "--param", "n=1", "--log-json", logpath, "-o",
                  out, "--", "ls", "/", NULL);
  cr_assert_eq(rc, 0, "%s", log);
  free(log);
  json_t *r = load_results(out);
  json_t *prof = json_object_get(json_array_get(json_object_get(r, "cells"), 0), "profile");
  cr_assert(json_is_object(prof), "the cell has a profile object");
  cr_assert_str_eq(json_string_value(json_object_get(prof, "dir")), "profiles/n=1");
  json_t *tl = json_object_get(json_object_get(prof, "run"), "timeline");
  cr_assert(json_is_array(json_object_get(tl, "rss_kb")), "the profiled run keeps its timeline");
  cr_assert(json_object_get(prof, "cpu") || json_object_get(prof, "unavailable"),
            "cpu summary or a reason");
  json_decref(r);
  FILE *f = fopen(logpath, "r");
  cr_assert_not_null(f, "--log-json wrote %s", logpath);
  char line[4096];
  int runs = 0;
  while (fgets(line, sizeof(line), f)) {
    json_t *o = json_loads(line, 0, NULL);
    cr_assert_not_null(o, "each log line is JSON: %s", line);
    cr_assert(json_is_string(json_object_get(o, "level")) &&
              json_is_string(json_object_get(o, "time")));
    runs += !strcmp(json_string_value(json_object_get(o, "event")), "run");
    json_decref(o);
  }
  fclose(f);
  cr_assert_eq(runs, 3, "one log line per run (1 warm-up + 2)");
  char *text;
  rc = ps_run(&text, "export", out, "--format", "prometheus", NULL);
  cr_assert_eq(rc, 0);
  cr_assert(strstr(text, "perfsweep_runs_total{cell=\"n=1\",n=\"1\",status=\"ok\"} 3"), "%s", text);
  free(text);
  rc = ps_run(&text, "export", out, "--format", "xml", NULL);
  cr_assert_eq(rc, 3);
  free(text);
  tmpdir_rm(d);
}

Test(run, json_summary_and_resume_of_complete_sweep)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  char *text;
  int rc = ps_run(&text, "run", "-q", "--json", "--runs", "2", "--param", "n=1..3", "--profile",
                  "none", "-o", out, "--", "true", NULL);
  cr_assert_eq(rc, 0, "%s", text);
  json_t *o = json_loads(text, 0, NULL);
  cr_assert_not_null(o, "--json prints JSON: %s", text);
  cr_assert_eq(json_array_size(json_object_get(o, "cells")), 3);
  json_t *c = json_array_get(json_object_get(o, "cells"), 0);
  cr_assert(json_is_number(json_object_get(json_object_get(c, "wall"), "median")));
  cr_assert(strstr(json_string_value(json_object_get(o, "results")), "results.json"));
  json_decref(o);
  free(text);
  json_t *before = load_results(out);
  rc = ps_run(NULL, "run", "-q", "--resume", out, NULL);
  cr_assert_eq(rc, 0, "resuming a complete sweep runs nothing and succeeds");
  json_t *after = load_results(out);
  char *a = content_digest(before), *b = content_digest(after);
  cr_assert_str_eq(a, b);
  free(a);
  free(b);
  json_decref(before);
  json_decref(after);
  rc = ps_run(&text, "run", "-o", out, "--", "true", NULL);
  cr_assert_eq(rc, 3, "an existing sweep folder is not overwritten");
  cr_assert(strstr(text, "already holds a sweep"), "%s", text);
  free(text);
  tmpdir_rm(d);
}

Test(run, min_time_adds_interleaved_rounds)
{
  char *d = tmpdir_new(), out[256];
  snprintf(out, sizeof(out), "%s/s", d);
  int rc = ps_run(NULL, "run", "-q", "--runs", "1", "--warmup", "0", "--min-time", "0.12",
                  "--param", "a=1,2", "--profile", "none", "-o", out, "--", "sleep", "0.05", NULL);
  cr_assert_eq(rc, 0);
  json_t *r = load_results(out);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(r, "cells"), i, c) {
    double sum = 0;
    size_t j;
    json_t *run;
    json_array_foreach(json_object_get(c, "runs"), j, run) sum +=
        json_number_value(json_object_get(run, "wall"));
    cr_assert_geq(sum, 0.12, "cell %zu reached --min-time (%g s in %zu runs)", i, sum,
                  json_array_size(json_object_get(c, "runs")));
    cr_assert_geq(json_array_size(json_object_get(c, "runs")), 2, "more runs than --runs 1");
  }
  json_decref(r);
  tmpdir_rm(d);
}

/* A run line cut short in the journal (the sweep killed while writing it) is not counted: resume
 * warns, runs it again and leaves only whole lines. */
Test(run, cut_short_journal_line_is_run_again)
{
  char *d = tmpdir_new(), out[256], journal[512];
  snprintf(out, sizeof(out), "%s/s", d);
  snprintf(journal, sizeof(journal), "%s/runs.jsonl", out);
  int rc = ps_run(NULL, "run", "-q", "--runs", "2", "--warmup", "0", "--param", "x=1,2",
                  "--profile", "none", "-o", out, "--", "true", NULL);
  cr_assert_eq(rc, 0);
  cr_assert_eq(count_lines(journal), 4, "one line per run");
  FILE *f = fopen(journal, "r");
  char lines[4][4096];
  for (int i = 0; i < 4; i++)
    cr_assert_not_null(fgets(lines[i], sizeof lines[i], f));
  fclose(f);
  f = fopen(journal, "w");
  fputs(lines[0], f);
  fputs(lines[1], f);
  fwrite(lines[2], 1, 30, f); /* half a line, no newline */
  fclose(f);
  char *text;
  rc = ps_run(&text, "run", "--resume", out, NULL);
  cr_assert_eq(rc, 0, "resume completes: exit %d\n%s", rc, text);
  cr_assert(strstr(text, "cut short"), "the cut line is reported:\n%s", text);
  cr_assert_eq(count_lines(journal), 4, "whole lines only after the resume");
  json_t *r = load_results(out);
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "summary"), "runs")), 4);
  cr_assert(json_is_true(json_object_get(json_object_get(r, "summary"), "complete")));
  f = fopen(journal, "r");
  char line[4096];
  while (fgets(line, sizeof line, f))
    cr_assert_not_null(json_loads(line, 0, NULL), "every line parses: %s", line);
  fclose(f);
  json_decref(r);
  free(text);
  tmpdir_rm(d);
}

/* A journal that cannot be read is left alone: resume stops with exit 6 and a message naming it,
 * and results.json stays as it was (never rewritten from an empty state). */
Test(run, unreadable_journal_leaves_everything_as_it_was)
{
  char *d = tmpdir_new(), out[256], journal[512], saved[512], results[512];
  snprintf(out, sizeof(out), "%s/s", d);
  snprintf(journal, sizeof(journal), "%s/runs.jsonl", out);
  snprintf(saved, sizeof(saved), "%s/runs.saved", out);
  snprintf(results, sizeof(results), "%s/results.json", out);
  int rc = ps_run(NULL, "run", "-q", "--runs", "2", "--warmup", "0", "--param", "x=1,2",
                  "--profile", "none", "-o", out, "--", "true", NULL);
  cr_assert_eq(rc, 0);
  char *before = NULL, *after = NULL;
  size_t lb = 0, la = 0;
  cr_assert_eq(ps_read_file(results, &before, &lb), 0);
  cr_assert_eq(rename(journal, saved), 0);
  cr_assert_eq(mkdir(journal, 0755), 0); /* read(2) on it fails with EISDIR */
  char *text;
  rc = ps_run(&text, "run", "--resume", out, NULL);
  cr_assert_eq(rc, 6, "an unreadable journal is an I/O error (exit 6), got %d:\n%s", rc, text);
  cr_assert(strstr(text, "cannot read") && strstr(text, "runs.jsonl"), "names the file:\n%s",
            text);
  cr_assert_eq(ps_read_file(results, &after, &la), 0);
  cr_assert(la == lb && !memcmp(before, after, lb), "results.json untouched");
  free(before);
  free(after);
  free(text);
  tmpdir_rm(d);
}
