/* machine.c - reads /proc, sysfs, uname and git for the "machine" object of results.json.
 * Each item is best effort: missing files give null, nothing here fails the sweep.
 */
#include "machine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static char *first_line(const char *path, const char *prefix)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  char line[512];
  char *out = NULL;
  while (fgets(line, sizeof(line), f)) {
    if (prefix && strncmp(line, prefix, strlen(prefix)))
      continue;
    char *v = line;
    if (prefix) {
      v = strchr(line, ':');
      v = v ? v + 1 : line;
      while (*v == ' ' || *v == '\t')
        v++;
    }
    v[strcspn(v, "\n")] = '\0';
    out = ps_xstrdup(v);
    break;
  }
  fclose(f);
  return out;
}

static json_t *str_or_null(char *s)
{
  json_t *j = s ? json_string(s) : json_null();
  free(s);
  return j ? j : json_null();
}

/* Runs git with args in the current folder; its stdout without the final newlines (at most 255
 * bytes), or NULL when git is missing or fails. No shell. */
static char *git(char *const *args)
{
  int fd[2];
  if (pipe(fd) < 0)
    return NULL;
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return NULL;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(fd[1], 1);
    dup2(null, 2);
    dup2(null, 0);
    close(fd[0]);
    execvp("git", args);
    _exit(127);
  }
  close(fd[1]);
  char buf[256];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof(buf) - 1 && (r = read(fd[0], buf + n, sizeof(buf) - 1 - n)) > 0)
    n += (size_t)r;
  close(fd[0]);
  int st;
  waitpid(pid, &st, 0);
  buf[n] = '\0';
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return NULL;
  while (n && buf[n - 1] == '\n')
    buf[--n] = '\0';
  return ps_xstrdup(buf);
}

json_t *ps_machine_info(void)
{
  json_t *m = json_object();
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  json_object_set_new(m, "hostname", json_string(host));
  json_object_set_new(m, "cpu_model", str_or_null(first_line("/proc/cpuinfo", "model name")));
  json_object_set_new(m, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
  json_object_set_new(m, "memory_bytes",
                      json_integer((json_int_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE)));
  struct utsname u;
  json_object_set_new(m, "kernel", uname(&u) == 0 ? json_string(u.release) : json_null());
  json_object_set_new(m, "arch", uname(&u) == 0 ? json_string(u.machine) : json_null());
  json_object_set_new(m, "governor", str_or_null(first_line(
      "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", NULL)));
  double load[3];
  json_object_set_new(m, "loadavg", getloadavg(load, 3) == 3
                                        ? json_pack("[fff]", load[0], load[1], load[2])
                                        : json_null());
#ifdef __VERSION__
  json_object_set_new(m, "compiler", json_string("gcc " __VERSION__));
#endif
  json_object_set_new(m, "perfsweep_version", json_string(PERFSWEEP_VERSION));
  /* one call for commit and branch: "rev-parse HEAD --abbrev-ref HEAD" prints both lines */
  char *head[] = {"git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD", NULL};
  char *dirty[] = {"git", "status", "--porcelain", "--untracked-files=no", NULL};
  char *commit = git(head), *branch = NULL;
  char *nl = commit ? strchr(commit, '\n') : NULL;
  if (nl) {
    *nl = '\0';
    branch = ps_xstrdup(nl + 1);
    branch[strcspn(branch, "\n")] = '\0';
  }
  json_object_set_new(m, "git_commit", str_or_null(commit ? ps_xstrdup(commit) : NULL));
  json_object_set_new(m, "git_branch", str_or_null(branch));
  if (commit) {
    char *d = git(dirty);
    json_object_set_new(m, "git_dirty", json_boolean(d && *d));
    free(d);
  } else {
    json_object_set_new(m, "git_dirty", json_null());
  }
  free(commit);
  return m;
}
