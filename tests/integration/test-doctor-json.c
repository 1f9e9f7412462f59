/* test-doctor-json.c - `perfsweep doctor --json`: valid JSON with every check named, a status
 * and a fix when not ok; exit 0 or 4 consistent with "ok"; an unreachable DSN fails without
 * printing its password. */
#include "run-helpers.h"

Test(doctor, json_report_is_consistent)
{
  char *text;
  int rc = ps_run(&text, "doctor", "--json", NULL);
  json_t *o = json_loads(text, 0, NULL);
  cr_assert_not_null(o, "doctor --json prints JSON: %s", text);
  json_t *checks = json_object_get(o, "checks");
  const char *names[] = {"perf-events", "alloc-probe", "cpu-probe", "libunwind", "gnuplot",
                         "jemalloc"};
  cr_assert_eq(json_array_size(checks), 6);
  for (size_t i = 0; i < 6; i++) {
    json_t *c = json_array_get(checks, i);
    cr_assert_str_eq(json_string_value(json_object_get(c, "name")), names[i]);
    const char *st = json_string_value(json_object_get(c, "status"));
    cr_assert(!strcmp(st, "ok") || !strcmp(st, "warn") || !strcmp(st, "fail"), "%s", st);
    if (strcmp(st, "ok"))
      cr_assert(json_is_string(json_object_get(c, "fix")), "%s has a fix", names[i]);
  }
  int ok = json_is_true(json_object_get(o, "ok"));
  cr_assert_eq(rc, ok ? 0 : 4, "exit %d matches ok=%d", rc, ok);
  json_decref(o);
  free(text);
}

Test(doctor, unreachable_dsn_fails_without_password)
{
  char *text;
  int rc = ps_run(&text, "doctor", "--dsn", "postgresql://bench:s3cr3t@127.0.0.1:1/none", NULL);
  cr_assert_eq(rc, 4, "an unreachable DSN is a needed part missing: %s", text);
  cr_assert(strstr(text, "postgresql"), "%s", text);
  cr_assert_null(strstr(text, "s3cr3t"), "the password is never printed: %s", text);
  free(text);
}
