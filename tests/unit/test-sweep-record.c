/* test-sweep-record.c - a run's record (sweep-record.c): the hand-written run object parses
 * back to the object of the results schema with the same values (ok, failed with an error to
 * escape, killed, timed out, with stages and records, with and without /proc samples), and a
 * record made from that parsed object has the same figures, flags and text.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "launch.h"
#include "sweep-record.h"

static struct ps_launch_result base(void)
{
  struct ps_launch_result r;
  memset(&r, 0, sizeof r);
  r.started = 1;
  r.wall = 745123 / 1e9;
  r.user = 1119 / 1e6;
  r.sys = 0;
  r.cpu = 1119 / 1e6;
  r.max_rss_kb = 2936;
  r.minor_faults = 50;
  r.voluntary_cs = 1;
  r.avg_rss_kb = 2936;
  r.peak_rss_kb = 2936;
  r.growth_kb_per_s = NAN;
  r.avg_cpu_pct = NAN;
  r.peak_cpu_pct = NAN;
  r.cores_used = r.cpu / r.wall;
  return r;
}

/* The run object as the schema describes it, built with jansson from the same inputs. */
static json_t *expected(const struct ps_launch_result *r, unsigned index, int warmup,
                        const char *status, const char *error, const json_t *stages,
                        long long records, int skipped)
{
#define NUM(x) (isfinite(x) ? json_real(x) : json_null())
  json_t *o = json_pack("{sIsbss}", "index", (json_int_t)index, "warmup", warmup, "status", status);
  json_object_set_new(o, "exit_code", r->started && !r->signal ? json_integer(r->exit_code)
                                                                : json_null());
  json_object_set_new(o, "signal", r->signal ? json_integer(r->signal) : json_null());
  json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
  json_object_set_new(o, "error", error ? json_string(error) : json_null());
  json_object_set_new(o, "wall", json_real(r->wall));
  json_object_set_new(o, "user", json_real(r->user));
  json_object_set_new(o, "sys", json_real(r->sys));
  json_object_set_new(o, "cpu", json_real(r->cpu));
  json_object_set_new(o, "max_rss_kb", json_integer(r->max_rss_kb));
  json_object_set_new(o, "max_rss_exact", json_boolean(r->max_rss_exact));
  json_object_set_new(o, "minor_faults", json_integer(r->minor_faults));
  json_object_set_new(o, "major_faults", json_integer(r->major_faults));
  json_object_set_new(o, "voluntary_cs", json_integer(r->voluntary_cs));
  json_object_set_new(o, "involuntary_cs", json_integer(r->involuntary_cs));
  json_object_set_new(o, "mem", json_pack("{sososo}", "avg_rss_kb", NUM(r->avg_rss_kb),
                                          "peak_rss_kb", NUM(r->peak_rss_kb), "growth_kb_per_s",
                                          NUM(r->growth_kb_per_s)));
  json_object_set_new(o, "cpu_pct", json_pack("{sososo}", "avg", NUM(r->avg_cpu_pct), "peak",
                                               NUM(r->peak_cpu_pct), "cores_used",
                                               NUM(r->cores_used)));
  json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
  json_object_set_new(o, "records", records >= 0 ? json_integer(records) : json_null());
  json_object_set_new(o, "throughput", records >= 0 && r->wall > 0
                                           ? json_real((double)records / r->wall)
                                           : json_null());
  json_object_set_new(o, "stages", stages ? json_deep_copy(stages) : json_array());
  if (skipped)
    json_object_set_new(o, "metrics_lines_skipped", json_integer(skipped));
  return o;
#undef NUM
}

static void check(const struct ps_launch_result *r, unsigned index, int warmup,
                  const char *status, const char *error, const char *stages_text,
                  long long records, int skipped)
{
  json_t *stages = stages_text ? json_loads(stages_text, 0, NULL) : NULL;
  json_t *want = expected(r, index, warmup, status, error, stages, records, skipped);
  struct ps_run_rec rec;
  ps_run_rec_make(&rec, r, index, warmup, status, error, stages ? json_incref(stages) : NULL,
                  records, skipped);
  cr_assert_eq(strlen(rec.text), rec.len, "text length");
  json_error_t e;
  json_t *got = json_loadb(rec.text, rec.len, 0, &e);
  cr_assert_not_null(got, "the run text parses: %s (%s)", e.text, rec.text);
  char *w = json_dumps(want, JSON_COMPACT), *g = json_dumps(got, JSON_COMPACT);
  cr_assert(json_equal(want, got), "same object:\nwant %s\ngot  %s", w, g);
  cr_assert_str_eq(g, w, "same keys in the same order, same values");
  free(w);
  free(g);
  /* the record read back from the parsed object: the same figures and text */
  struct ps_run_rec back;
  cr_assert_eq(ps_run_rec_from_json(&back, got, 1), 0);
  cr_assert_eq(back.index, rec.index);
  cr_assert_eq(back.warmup, rec.warmup);
  cr_assert_eq(back.ok, rec.ok);
  cr_assert_str_eq(back.status, rec.status);
  for (int k = 0; k < PS_REC_NV; k++)
    cr_assert(memcmp(&back.v[k], &rec.v[k], sizeof(double)) == 0 ||
                  (isnan(back.v[k]) && isnan(rec.v[k])),
              "figure %d: %.17g read back as %.17g", k, rec.v[k], back.v[k]);
  cr_assert_eq(back.error == NULL, rec.error == NULL, "error present in both or neither");
  if (rec.error)
    cr_assert_str_eq(back.error, rec.error);
  cr_assert_eq(back.stages == NULL, rec.stages == NULL, "stages in both or neither");
  cr_assert_eq(back.len, rec.len);
  cr_assert_str_eq(back.text, rec.text, "the text written again from the parsed object");
  ps_run_rec_release(&back);
  ps_run_rec_release(&rec);
  json_decref(got);
  json_decref(want);
  json_decref(stages);
}

Test(sweep_record, ok_run_text_is_the_schema_object)
{
  struct ps_launch_result r = base();
  check(&r, 0, 1, "ok", NULL, NULL, -1, 0);
  check(&r, 7, 0, "ok", NULL, NULL, -1, 0);
}

Test(sweep_record, failed_killed_and_timed_out_runs)
{
  struct ps_launch_result r = base();
  r.exit_code = 3;
  check(&r, 2, 0, "failed", "exit status 3: \"quoted\" \\ back\nnew line\ttab \x01 \xc3\xa9", NULL,
        -1, 0);
  r = base();
  r.signal = 11;
  r.exit_code = -1;
  check(&r, 3, 0, "crashed", "killed by SIGSEGV", NULL, -1, 0);
  r = base();
  r.timed_out = 1;
  r.signal = 15;
  check(&r, 4, 0, "timeout", "timed out after 2 s", NULL, -1, 0);
  r = base();
  r.started = 0;
  r.wall = 0;
  r.cores_used = NAN;
  check(&r, 5, 0, "error", "could not start: No such file or directory", NULL, -1, 0);
}

Test(sweep_record, polled_run_with_stages_and_records)
{
  struct ps_launch_result r = base();
  r.wall = 1.234567891;
  r.samples = 120;
  r.avg_rss_kb = 10240.5;
  r.peak_rss_kb = 20480;
  r.growth_kb_per_s = -12.345678901234567;
  r.avg_cpu_pct = 97.3;
  r.peak_cpu_pct = 100.00000000000001;
  r.max_rss_exact = 1;
  r.cores_used = r.cpu / r.wall;
  check(&r, 9, 0, "ok", NULL,
        "[{\"stage\": \"collect\", \"seconds\": 0.5, \"records_in\": 1000},"
        " {\"stage\": \"total\", \"seconds\": 1.2, \"records_in\": 1000}]",
        1000, 2);
}

Test(sweep_record, figures_of_a_record)
{
  struct ps_launch_result r = base();
  struct ps_run_rec rec;
  ps_run_rec_make(&rec, &r, 1, 0, "ok", NULL, NULL, 500, 0);
  cr_assert_eq(rec.v[PS_REC_WALL], r.wall);
  cr_assert_eq(rec.v[PS_REC_CPU], r.cpu);
  cr_assert_eq(rec.v[PS_REC_MAX_RSS], 2936.0);
  cr_assert_eq(rec.v[PS_REC_AVG_RSS], 2936.0);
  cr_assert(isnan(rec.v[PS_REC_CPU_PCT]), "no sample: no CPU%%");
  cr_assert_eq(rec.v[PS_REC_THROUGHPUT], 500 / r.wall);
  cr_assert(rec.ok && !rec.warmup && rec.index == 1);
  ps_run_rec_release(&rec);
}

/* An error whose stderr tail is not valid UTF-8 (binary output, a character cut by the tail)
 * still makes a run object jansson reads, the invalid bytes written as '?'. */
Test(sweep_record, error_with_invalid_utf8_is_readable)
{
  struct ps_launch_result r = base();
  r.exit_code = 1;
  const char *err = "exit status 1: \xff\xfe bin \xa9 cut \xe2\x82 ok \xe2\x82\xac over \xc0\xaf "
                    "surrogate \xed\xa0\x80 big \xf4\x90\x80\x80 end \xc3";
  struct ps_run_rec rec;
  ps_run_rec_make(&rec, &r, 0, 0, "failed", err, NULL, -1, 0);
  json_error_t e;
  json_t *got = json_loadb(rec.text, rec.len, 0, &e);
  cr_assert_not_null(got, "the run text parses: %s", e.text);
  const char *want = "exit status 1: ?? bin ? cut ?? ok \xe2\x82\xac over ?? surrogate ??? big "
                     "???? end ?";
  cr_assert_str_eq(json_string_value(json_object_get(got, "error")), want);
  cr_assert_str_eq(rec.error, want);
  json_decref(got);
  ps_run_rec_release(&rec);
}
