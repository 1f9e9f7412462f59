/* test-cpu-cli.c - `perfsweep profile --cpu -- CMD` and `perfsweep analyze` end to end, as a user
 * runs them: exit codes, profile.json's "cpu" object with the schema's keys, and the export files
 * on disk (the exports' own formats are checked in tests/unit/test-export-formats.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "test-tmp.h"

static int sh(const char *cmd)
{
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static json_t *load_cpu(const char *dir)
{
  char *p = ps_xasprintf("%s/profile.json", dir);
  json_error_t err;
  json_t *j = json_load_file(p, 0, &err);
  cr_assert_not_null(j, "%s: %s", p, err.text);
  free(p);
  json_t *cpu = json_object_get(j, "cpu");
  if (!cpu)
    cpu = json_object_get(json_object_get(j, "profile"), "cpu");
  cr_assert_not_null(cpu, "profile.json has a cpu object");
  json_incref(cpu);
  json_decref(j);
  return cpu;
}

Test(cpu_cli, profile_cpu_writes_summary_and_exports)
{
  char dir[] = "/tmp/ps-test-cpu-cli-XXXXXX";
  ps_test_mkdtemp(dir);
  char *cmd = ps_xasprintf("'%s/perfsweep' profile --cpu --freq 1999 -o '%s/prof' -- "
                           "'%s/cpu-split-nofp' 3 > '%s/out.txt' 2>&1",
                           PERFSWEEP_BIN_DIR, dir, PERFSWEEP_BIN_DIR, dir);
  cr_assert_eq(sh(cmd), 0, "perfsweep profile --cpu failed: %s", cmd);
  char *prof = ps_xasprintf("%s/prof", dir);
  json_t *cpu = load_cpu(prof);
  const char *keys[] = {"engine", "event", "engine_reason", "frequency", "samples", "lost",
                        "degraded", "threads", "top", "files"};
  for (size_t i = 0; i < PS_ARRAY_SIZE(keys); i++)
    cr_expect_not_null(json_object_get(cpu, keys[i]), "profile.cpu.%s missing", keys[i]);
  cr_expect_gt(json_integer_value(json_object_get(cpu, "samples")), 100);
  cr_expect_eq(json_integer_value(json_object_get(cpu, "frequency")), 1999);
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(cpu, "files"), k, v)
  {
    char *f = ps_xasprintf("%s/%s", prof, json_string_value(v));
    cr_expect_eq(access(f, R_OK), 0, "%s (%s) written", f, k);
    free(f);
  }
  char *out = ps_xasprintf("%s/out.txt", dir), *text;
  size_t len;
  cr_assert_eq(ps_read_file(out, &text, &len), 0);
  cr_expect_not_null(strstr(text, "work_a"), "the human summary names the hot function");
  free(text);
  json_decref(cpu);
  /* analyze the same traces again, as JSON */
  free(cmd);
  cmd = ps_xasprintf("'%s/perfsweep' analyze --json '%s' > '%s/again.json' 2>/dev/null",
                     PERFSWEEP_BIN_DIR, prof, dir);
  cr_assert_eq(sh(cmd), 0, "perfsweep analyze failed: %s", cmd);
  free(cmd);
  free(out);
  free(prof);
}

Test(cpu_cli, wall_mode_from_the_command_line)
{
  char dir[] = "/tmp/ps-test-cpu-cli-XXXXXX";
  ps_test_mkdtemp(dir);
  char *cmd = ps_xasprintf("'%s/perfsweep' profile --cpu=wall -o '%s/prof' -- "
                           "'%s/cpu-io-nofp' 200 > /dev/null 2>&1",
                           PERFSWEEP_BIN_DIR, dir, PERFSWEEP_BIN_DIR);
  cr_assert_eq(sh(cmd), 0, "%s", cmd);
  char *prof = ps_xasprintf("%s/prof", dir);
  json_t *cpu = load_cpu(prof);
  cr_expect_str_eq(json_string_value(json_object_get(cpu, "event")), "wall");
  cr_expect_str_eq(json_string_value(json_object_get(cpu, "engine")), "timer_create");
  json_decref(cpu);
  free(prof);
  free(cmd);
}
