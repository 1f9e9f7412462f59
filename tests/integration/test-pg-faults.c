/* test-pg-faults.c - PostgreSQL failures on the real binary: a bad DSN, a wrong password and a
 * server that is not running each give one clear line without the password and a non-zero
 * exit; a connection terminated by the server in the middle of the sink fails the run naming
 * the stage and the batch, keeps the committed batches consistent, and a rerun completes from
 * the watermark; --retries survives it; the server stopped with pg_ctl mid-run (a private
 * throwaway cluster) fails the run and a rerun after the restart completes the work.
 * Needs $PERFSWEEP_TEST_DSN (eval "$(scripts/pg-start.sh)").
 */
#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "fixtures/pg/pg-test-run.h"

TestSuite(pg_faults, .init = pgt_setup, .fini = pgt_teardown, .timeout = 180);

static void load_tiny(const char *dsn)
{
  cr_assert_eq(pgt_run("%s load --dsn '%s' --from gen:tiny", FX, dsn), 0, "load: %s", pgt_err);
}

static void assert_one_line(const char *what)
{
  size_t lines = 0;
  for (const char *p = pgt_err; *p; p++)
    lines += *p == '\n';
  cr_assert_eq(lines, 1, "%s: expected one line on stderr, got:\n%s", what, pgt_err);
}

Test(pg_faults, bad_dsn_is_one_line_without_the_password)
{
  int rc = pgt_run("%s run --source 'postgres:postgresql://u:Sekr3tPw@127.0.0.1:notaport/db'",
                   FX);
  cr_assert_eq(rc, 3, "bad DSN: exit %d, %s", rc, pgt_err);
  assert_one_line("bad DSN");
  cr_assert_null(strstr(pgt_err, "Sekr3tPw"), "password printed: %s", pgt_err);
  cr_assert_null(strstr(pgt_out, "Sekr3tPw"), "password printed: %s", pgt_out);
  cr_assert_not_null(strstr(pgt_err, "not valid"), "%s", pgt_err);
}

Test(pg_faults, wrong_password_is_rejected_without_printing_it)
{
  const char *pw_dsn = pg_test_env("PERFSWEEP_TEST_PW_DSN");
  char *perr = NULL, dsn[1024];
  PQconninfoOption *opts = PQconninfoParse(pw_dsn, &perr);
  cr_assert_not_null(opts);
  const char *host = "", *port = "", *user = "", *db = "", *real = "";
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    const char *v = o->val ? o->val : "";
    if (!strcmp(o->keyword, "host")) host = v;
    if (!strcmp(o->keyword, "port")) port = v;
    if (!strcmp(o->keyword, "user")) user = v;
    if (!strcmp(o->keyword, "dbname")) db = v;
    if (!strcmp(o->keyword, "password")) real = v;
  }
  snprintf(dsn, sizeof dsn, "postgresql://%s:Wr0ngPassw0rd@%s:%s/%s", user, host, port, db);
  int rc = pgt_run("%s load --dsn '%s' --from gen:tiny", FX, dsn);
  cr_assert_eq(rc, 4, "wrong password: exit %d, %s", rc, pgt_err);
  assert_one_line("wrong password");
  cr_assert_null(strstr(pgt_err, "Wr0ngPassw0rd"), "password printed: %s", pgt_err);
  cr_assert(!*real || !strstr(pgt_err, real), "the real password printed: %s", pgt_err);
  cr_assert_not_null(strstr(pgt_err, "credentials"), "%s", pgt_err);
  rc = pgt_run("%s verify --dsn '%s'", FX, dsn);
  cr_assert_eq(rc, 4, "verify with a wrong password: exit %d, %s", rc, pgt_err);
  cr_assert_null(strstr(pgt_err, "Wr0ngPassw0rd"), "password printed: %s", pgt_err);
  PQconninfoFree(opts);
}

Test(pg_faults, server_not_running_is_one_line)
{
  int rc = pgt_run("%s run --source 'postgres:postgresql://perfsweep:Pw0rdXyz@127.0.0.1:1/x'",
                   FX);
  cr_assert_eq(rc, 4, "no server: exit %d, %s", rc, pgt_err);
  assert_one_line("no server");
  cr_assert_not_null(strstr(pgt_err, "no PostgreSQL server answers at 127.0.0.1:1"), "%s",
                     pgt_err);
  cr_assert_null(strstr(pgt_err, "Pw0rdXyz"), "password printed: %s", pgt_err);
  rc = pgt_run("%s run --sink 'postgres:postgresql://perfsweep:Pw0rdXyz@127.0.0.1:1/x'", FX);
  cr_assert_eq(rc, 4, "no server for the sink: exit %d, %s", rc, pgt_err);
  cr_assert_null(strstr(pgt_out, "Pw0rdXyz"), "password printed: %s", pgt_out);
}

/* Rows of the feature tables that differ from the documented SQL (missing rows not counted). */
static void assert_committed_rows_correct(void)
{
  cr_assert_eq(pgt_run("%s verify --dsn '%s' --json --max-diffs 0", FX, pgt_dsn), 7,
               "a partial run must not verify complete: %s%s", pgt_out, pgt_err);
  cr_assert_null(strstr(pgt_out, "\"mismatched_rows\":1"), "%s", pgt_out);
  const char *p = pgt_out;
  while ((p = strstr(p, "\"mismatched_rows\":")) != NULL) {
    p += 18;
    cr_assert_eq(atoi(p), 0, "a committed row differs from the SQL: %s", pgt_out);
  }
  cr_assert_not_null(strstr(pgt_out, "\"missing_in_sql\":0"), "%s", pgt_out);
}

Test(pg_faults, terminated_connection_fails_naming_stage_and_batch_and_rerun_completes)
{
  load_tiny(pgt_dsn);
  cr_assert_eq(pgt_run("%s run --source gen:tiny", FX), 0);
  char mem[17], again[17];
  pgt_digest(mem);
  int rc = pgt_run("PERFSWEEP_PG_FAULT=terminate-after:2 %s run --source 'postgres:%s' "
                   "--sink 'postgres:%s' --batch-size 40 --workers 1", FX, pgt_dsn, pgt_dsn);
  cr_assert_eq(rc, 4, "a lost connection without retries: exit %d\n%s", rc, pgt_err);
  cr_assert_not_null(strstr(pgt_err, "stage sink, product_features batch 3 of 9"), "%s", pgt_err);
  cr_assert_not_null(strstr(pgt_err, "rerun"), "%s", pgt_err);
  long long done = pgt_sql_num(pgt_dsn, "SELECT rows_done FROM watermarks WHERE kind = 'product'");
  long long rows = pgt_sql_num(pgt_dsn, "SELECT count(*) FROM product_features");
  cr_assert_eq(done, 80, "two batches of 40 committed, watermark at %lld", done);
  cr_assert_eq(rows, 80, "committed batches only: %lld rows", rows);
  assert_committed_rows_correct();

  rc = pgt_run("%s run --source 'postgres:%s' --sink 'postgres:%s' --batch-size 40 --workers 1",
               FX, pgt_dsn, pgt_dsn);
  cr_assert_eq(rc, 0, "rerun: %s", pgt_err);
  cr_assert_not_null(strstr(pgt_err, "resuming product_features after its watermark: 80 of 350"),
                     "%s", pgt_err);
  pgt_digest(again);
  cr_assert_str_eq(again, mem);
  cr_assert_eq(pgt_run("%s verify --dsn '%s'", FX, pgt_dsn), 0, "%s%s", pgt_out, pgt_err);
}

Test(pg_faults, retries_reconnect_after_a_terminated_connection)
{
  load_tiny(pgt_dsn);
  int rc = pgt_run("PERFSWEEP_PG_FAULT=terminate-after:3 %s run --source 'postgres:%s' "
                   "--sink 'postgres:%s' --batch-size 40 --workers 2 --retries 3", FX, pgt_dsn,
                   pgt_dsn);
  cr_assert_eq(rc, 0, "--retries 3 must survive one terminated connection: %s", pgt_err);
  cr_assert_eq(pgt_run("%s verify --dsn '%s'", FX, pgt_dsn), 0, "%s%s", pgt_out, pgt_err);
}

/* Starts a shell command in the background with output into DIR/bg.out/.err; returns pid. */
static pid_t start_bg(const char *cmd)
{
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    char full[8192];
    snprintf(full, sizeof full, "%s >'%s/bg.out' 2>'%s/bg.err'", cmd, pgt_dir, pgt_dir);
    execl("/bin/sh", "sh", "-c", full, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static int wait_bg(pid_t pid)
{
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  char p[400];
  snprintf(p, sizeof p, "%s/bg.out", pgt_dir);
  pgt_slurp(p, pgt_out, sizeof pgt_out);
  snprintf(p, sizeof p, "%s/bg.err", pgt_dir);
  pgt_slurp(p, pgt_err, sizeof pgt_err);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sleep_ms(long ms)
{
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Waits until the sink committed a batch (watermark rows_done > 0); false on timeout. */
static int wait_first_commit(const char *dsn, pid_t pid)
{
  for (int i = 0; i < 1500; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return 0;
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQexec(c, "SELECT coalesce(max(rows_done), 0) FROM watermarks");
    long long v = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    PQfinish(c);
    if (v > 0)
      return 1;
    sleep_ms(20);
  }
  return 0;
}

Test(pg_faults, backends_terminated_from_outside_are_retried)
{
  load_tiny(pgt_dsn);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "PERFSWEEP_PG_FAULT=delay-ms:40 %s run --source 'postgres:%s' "
           "--sink 'postgres:%s' --batch-size 20 --workers 2 --retries 5", FX, pgt_dsn, pgt_dsn);
  pid_t pid = start_bg(cmd);
  cr_assert(wait_first_commit(pgt_dsn, pid), "the run never committed a batch");
  char kill_sql[256];
  snprintf(kill_sql, sizeof kill_sql, "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
           " FROM pg_stat_activity WHERE datname = '%s'"
           " AND application_name = 'perfsweep-features'", pgt_db);
  long long killed = pgt_sql_num(pgt_dsn, kill_sql);
  cr_assert_gt(killed, 0, "no backend of the run was terminated");
  int rc = wait_bg(pid);
  cr_assert_eq(rc, 0, "with --retries 5 the run must complete: %s", pgt_err);
  cr_assert_eq(pgt_run("%s verify --dsn '%s'", FX, pgt_dsn), 0, "%s%s", pgt_out, pgt_err);
}

/* The value of "export NAME='...'" in text, into out. */
static void export_value(const char *text, const char *name, char *out, size_t len)
{
  char key[64];
  snprintf(key, sizeof key, "export %s='", name);
  const char *p = strstr(text, key);
  cr_assert_not_null(p, "pg-start.sh printed no %s: %s", name, text);
  p += strlen(key);
  size_t n = strcspn(p, "'");
  snprintf(out, len, "%.*s", (int)n, p);
}

Test(pg_faults, server_stopped_mid_run_then_rerun_completes)
{
  PG_TEST_DSN();
  /* A new cluster: without PERFSWEEP_PG_DIR, pg-start.sh would hand back the shared one. */
  cr_assert_eq(pgt_run("env -u PERFSWEEP_PG_DIR '%s/scripts/pg-start.sh'", PERFSWEEP_SOURCE_DIR), 0,
               "a private cluster must start: %s", pgt_err);
  char env[4096], dir[512], bin[512], dsn[512];
  snprintf(env, sizeof env, "%.4000s", pgt_out);
  export_value(env, "PERFSWEEP_PG_DIR", dir, sizeof dir);
  export_value(env, "PERFSWEEP_PG_BIN", bin, sizeof bin);
  export_value(env, "PERFSWEEP_TEST_DSN", dsn, sizeof dsn);
  const char *as_pg = geteuid() == 0 ? "runuser -u postgres --" : "";

  load_tiny(dsn);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "PERFSWEEP_PG_FAULT=delay-ms:50 %s run --source 'postgres:%s' "
           "--sink 'postgres:%s' --batch-size 20 --workers 1", FX, dsn, dsn);
  pid_t pid = start_bg(cmd);
  int committed = wait_first_commit(dsn, pid);
  int stop = pgt_run("%s '%s/pg_ctl' -D '%s/data' -m fast -w stop", as_pg, bin, dir);
  int rc = wait_bg(pid);
  char run_err[sizeof pgt_err];
  memcpy(run_err, pgt_err, sizeof run_err);
  int start = pgt_run("%s '%s/pg_ctl' -D '%s/data' -l '%s/server.log' -w start", as_pg, bin,
                      dir, dir);
  int rerun = -1, verify = -1;
  char rerun_err[2048] = "";
  if (start == 0) {
    rerun = pgt_run("%s run --source 'postgres:%s' --sink 'postgres:%s' --batch-size 20 "
                    "--workers 1", FX, dsn, dsn);
    snprintf(rerun_err, sizeof rerun_err, "%.2000s", pgt_err);
    verify = pgt_run("%s verify --dsn '%s'", FX, dsn);
  }
  pgt_run("'%s/scripts/pg-stop.sh' '%s'", PERFSWEEP_SOURCE_DIR, dir);
  cr_assert(committed, "the run never committed a batch before the stop");
  cr_assert_eq(stop, 0, "pg_ctl stop failed");
  cr_assert_eq(rc, 4, "a stopped server must fail the run with exit 4, got %d: %s", rc, run_err);
  cr_assert_not_null(strstr(run_err, "stage sink"), "%s", run_err);
  cr_assert_not_null(strstr(run_err, " batch "), "%s", run_err);
  cr_assert_eq(start, 0, "pg_ctl start failed");
  cr_assert_eq(rerun, 0, "the rerun after the restart must complete: %s", rerun_err);
  cr_assert_eq(verify, 0, "after the rerun the tables must verify");
}

Test(pg_faults, password_never_printed_by_successful_commands)
{
  const char *pw_base = pg_test_env("PERFSWEEP_TEST_PW_DSN");
  char pw_dsn[1024], real[256] = "", metrics[400];
  pgt_dsn_with_db(pw_base, pgt_db, pw_dsn, sizeof pw_dsn);
  const char *p = strstr(pw_dsn, "password=");
  cr_assert_not_null(p, "the password DSN has no password: %s", pw_base);
  snprintf(real, sizeof real, "%.*s", (int)strcspn(p + 9, " "), p + 9);
  pgt_sql_num(pgt_dsn, "GRANT ALL ON SCHEMA public TO perfsweep_pw");
  snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", pgt_dir);
  const char *cmds[] = {"load --dsn '%s' --from gen:tiny --json",
                        "run --source 'postgres:%s' --sink 'postgres:%s' --json",
                        "run --source 'postgres:%s' --sink 'postgres:%s'",
                        "verify --dsn '%s' --json"};
  for (size_t i = 0; i < 4; i++) {
    char args[4096];
    snprintf(args, sizeof args, cmds[i], pw_dsn, pw_dsn);
    int rc = pgt_run("PERFSWEEP_METRICS='%s' PERFSWEEP_PG_SLOW_MS=0 %s %s", metrics, FX, args);
    cr_assert_eq(rc, 0, "%s: exit %d %s", cmds[i], rc, pgt_err);
    cr_assert_null(strstr(pgt_out, real), "%s printed the password: %s", cmds[i], pgt_out);
    cr_assert_null(strstr(pgt_err, real), "%s printed the password: %s", cmds[i], pgt_err);
  }
  char m[1 << 16];
  pgt_slurp(metrics, m, sizeof m);
  cr_assert_not_null(strstr(m, "pg_sink"), "metrics were written");
  cr_assert_null(strstr(m, real), "the metrics hold the password");
}
