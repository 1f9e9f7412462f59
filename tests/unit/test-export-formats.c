/* test-export-formats.c - the CPU exports read back by independent readers: folded (line format
 * and sums), speedscope (jansson, the schema's fields), pprof (gzip -t and protoc --decode with
 * the published field numbers). The profile is built by hand, so every number is known. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu-profile.h"
#include "export-formats.h"
#include "util.h"
#include "test-tmp.h"

static char dir[] = "/tmp/ps-test-export-XXXXXX";

static void setup(void) { ps_test_mkdtemp(dir); }

TestSuite(export, .init = setup);

/* main->a (50 samples, thread 1), main->b->c (30, thread 1), main->a (20, thread 2) */
static struct cpu_profile *known_profile(void)
{
  struct cpu_profile *p = cpu_profile_new();
  p->frequency = 999;
  uint32_t t1 = cpu_profile_thread(p, 10, 10, "main");
  uint32_t t2 = cpu_profile_thread(p, 10, 11, "worker;1");
  uint32_t m = cpu_profile_frame(p, "main", "prog", "prog.c", 3);
  uint32_t a = cpu_profile_frame(p, "a", "prog", "prog.c", 10);
  uint32_t b = cpu_profile_frame(p, "b<int>::run", "prog", NULL, 0);
  uint32_t c = cpu_profile_frame(p, "c;x", "libc.so.6", NULL, 0);
  uint32_t s1[] = {m, a}, s2[] = {m, b, c};
  cpu_profile_add(p, t1, s1, 2, 50);
  cpu_profile_add(p, t1, s2, 3, 30);
  cpu_profile_add(p, t2, s1, 2, 20);
  return p;
}

Test(export, folded_lines_merge_threads_and_sum_to_samples)
{
  struct cpu_profile *p = known_profile();
  char *path = ps_xasprintf("%s/cpu.folded", dir);
  cr_assert_eq(export_folded_write(p, path), 0);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  char line[512];
  unsigned long long sum = 0;
  int n = 0, seen_a = 0, seen_c = 0;
  while (fgets(line, sizeof line, f)) {
    n++;
    char *sp = strrchr(line, ' ');
    cr_assert_not_null(sp, "line without count: %s", line);
    char *end;
    unsigned long long v = strtoull(sp + 1, &end, 10);
    cr_assert(*end == '\n', "count must end the line: %s", line);
    sum += v;
    *sp = 0;
    if (!strcmp(line, "main;a")) {
      seen_a = 1;
      cr_assert_eq(v, 70, "both threads' main;a merged");
    }
    if (!strcmp(line, "main;b<int>::run;c:x")) {
      seen_c = 1;
      cr_assert_eq(v, 30, "';' inside a name becomes ':'");
    }
  }
  fclose(f);
  cr_assert_eq(n, 2);
  cr_assert(seen_a && seen_c);
  cr_assert_eq(sum, p->samples, "folded counts sum to the samples");
  cpu_profile_free(p);
  free(path);
}

Test(export, speedscope_has_the_schema_fields_and_one_profile_per_thread)
{
  struct cpu_profile *p = known_profile();
  char *path = ps_xasprintf("%s/cpu.speedscope.json", dir);
  cr_assert_eq(export_speedscope_write(p, path, "test"), 0);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  cr_assert_not_null(j, "speedscope JSON does not parse: %s", err.text);
  cr_assert_str_eq(json_string_value(json_object_get(j, "$schema")),
                   "https://www.speedscope.app/file-format-schema.json");
  json_t *frames = json_object_get(json_object_get(j, "shared"), "frames");
  cr_assert_eq(json_array_size(frames), 4);
  size_t i;
  json_t *fr;
  json_array_foreach(frames, i, fr) cr_assert(json_is_string(json_object_get(fr, "name")));
  json_t *profiles = json_object_get(j, "profiles");
  cr_assert_eq(json_array_size(profiles), 2, "one profile per thread");
  json_int_t total = 0;
  json_t *pr;
  json_array_foreach(profiles, i, pr)
  {
    cr_assert_str_eq(json_string_value(json_object_get(pr, "type")), "sampled");
    cr_assert(json_is_string(json_object_get(pr, "unit")));
    json_t *samples = json_object_get(pr, "samples"), *weights = json_object_get(pr, "weights");
    cr_assert_eq(json_array_size(samples), json_array_size(weights));
    json_int_t sum = 0;
    size_t k;
    json_t *w;
    json_array_foreach(weights, k, w) sum += json_integer_value(w);
    cr_assert_eq(sum, json_integer_value(json_object_get(pr, "endValue")) -
                          json_integer_value(json_object_get(pr, "startValue")));
    json_t *st;
    json_array_foreach(samples, k, st)
    {
      size_t q;
      json_t *ix;
      json_array_foreach(st, q, ix) cr_assert(json_integer_value(ix) >= 0 &&
                                              (size_t)json_integer_value(ix) < json_array_size(frames));
    }
    total += sum;
  }
  cr_assert_eq(total, 100);
  json_decref(j);
  cpu_profile_free(p);
  free(path);
}

Test(export, pprof_is_gzip_and_decodes_with_the_public_field_numbers)
{
  struct cpu_profile *p = known_profile();
  char *path = ps_xasprintf("%s/cpu.pb.gz", dir);
  cr_assert_eq(export_pprof_write(p, path), 0);
  char *cmd = ps_xasprintf("gzip -t '%s'", path);
  cr_assert_eq(system(cmd), 0, "gzip -t rejects %s", path);
  free(cmd);
  if (system("command -v protoc >/dev/null 2>&1") != 0)
    cr_skip_test("protoc not installed (Debian package protobuf-compiler): cannot decode pprof");
  char *out = ps_xasprintf("%s/decoded.txt", dir);
  cmd = ps_xasprintf("zcat '%s' | protoc --decode=perftools.profiles.Profile -I '%s/cpu' "
                     "pprof-subset.proto > '%s'",
                     path, PERFSWEEP_FIXTURES, out);
  cr_assert_eq(system(cmd), 0, "protoc cannot decode %s", path);
  char *text;
  size_t len;
  cr_assert_eq(ps_read_file(out, &text, &len), 0);
  cr_assert_not_null(strstr(text, "string_table: \"b<int>::run\""));
  cr_assert_not_null(strstr(text, "string_table: \"samples\""));
  cr_assert_not_null(strstr(text, "string_table: \"nanoseconds\""));
  cr_assert_not_null(strstr(text, "period: 1001001"), "period = 1e9/999 ns");
  /* sample values: count then nanoseconds */
  cr_assert_not_null(strstr(text, "value: 50\n  value: 50050050"));
  int samples = 0;
  for (char *q = text; (q = strstr(q, "\nsample {")); q++)
    samples++;
  cr_assert_eq(samples, 3, "one pprof sample per distinct stack and thread");
  free(text);
  free(cmd);
  free(out);
  cpu_profile_free(p);
  free(path);
}
