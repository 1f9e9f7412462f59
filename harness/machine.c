/* machine.c - reads /proc, sysfs, uname and git for the "machine" object of results.json.
 * Each item is best effort: missing files give null, nothing here fails the sweep.
 */
#include "machine.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

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

/* Runs git with args in the current folder; the start of its stdout (up to 4 KiB) without the
 * final newlines, or NULL when git is missing or fails. The rest is read and dropped. No shell.
 * posix_spawnp (vfork): no copy of this process's page tables for a child that only execs. */
static char *git(char *const *args)
{
  int fd[2];
  if (pipe2(fd, O_CLOEXEC) < 0)
    return NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int e = posix_spawnp(&pid, "git", &fa, NULL, args, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e) {
    close(fd[0]);
    close(fd[1]);
    return NULL;
  }
  close(fd[1]);
  char buf[4096], sink[4096];
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd[0], n < sizeof(buf) - 1 ? buf + n : sink,
                   n < sizeof(buf) - 1 ? sizeof(buf) - 1 - n : sizeof(sink))) > 0)
    if (n < sizeof(buf) - 1)
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

/* 1 when the current folder may be in a git work tree: a .git (folder, or file of a linked
 * work tree) here or in a parent folder, or $GIT_DIR set. Outside one, git is not started at
 * all (a process start costs far more than these few stat calls). */
static int maybe_in_git_tree(void)
{
  if (getenv("GIT_DIR"))
    return 1;
  char dir[PATH_MAX];
  if (!getcwd(dir, sizeof(dir) - sizeof("/.git")))
    return 1; /* cannot tell: let git decide */
  for (;;) {
    size_t n = strlen(dir);
    strcpy(dir + n, n > 1 ? "/.git" : ".git"); /* "/" + ".git" at the root */
    if (access(dir, F_OK) == 0)
      return 1;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash || n <= 1)
      return 0;
    if (slash == dir)
      slash[1] = '\0'; /* "/a" -> "/" */
    else
      *slash = '\0';
  }
}

/* The value of a "# branch.<key> <value>" header line of git status --porcelain=v2, malloc'd. */
static char *porcelain_header(const char *out, const char *key)
{
  char *needle = ps_xasprintf("# branch.%s ", key);
  const char *p = strstr(out, needle);
  char *v = NULL;
  if (p) {
    p += strlen(needle);
    v = ps_xasprintf("%.*s", (int)strcspn(p, "\n"), p);
  }
  free(needle);
  return v;
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
  int have_u = uname(&u) == 0;
  json_object_set_new(m, "kernel", have_u ? json_string(u.release) : json_null());
  json_object_set_new(m, "arch", have_u ? json_string(u.machine) : json_null());
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
  /* one git call: the commit, the branch and whether tracked files changed */
  char *status[] = {"git", "status", "--porcelain=v2", "--branch", "--untracked-files=no", NULL};
  char *out = maybe_in_git_tree() ? git(status) : NULL;
  char *commit = out ? porcelain_header(out, "oid") : NULL;
  if (commit && !strcmp(commit, "(initial)")) {
    free(commit);
    commit = NULL;
  }
  json_object_set_new(m, "git_commit", str_or_null(commit ? ps_xstrdup(commit) : NULL));
  json_object_set_new(m, "git_branch", str_or_null(out ? porcelain_header(out, "head") : NULL));
  int dirty = 0;
  for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "")
    dirty |= *l != '#' && *l != '\n';
  json_object_set_new(m, "git_dirty", commit ? json_boolean(dirty) : json_null());
  free(out);
  free(commit);
  return m;
}
