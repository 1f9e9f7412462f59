/* alloc-target.c - checks before running that a target can be preloaded (see alloc-target.h). */
#include "alloc-target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *ps_target_resolve(const char *cmd)
{
  if (strchr(cmd, '/'))
    return access(cmd, X_OK) == 0 ? ps_xstrdup(cmd) : NULL;
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  char *copy = ps_xstrdup(path), *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *p = ps_xasprintf("%s/%s", *dir ? dir : ".", cmd);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
      free(copy);
      return p;
    }
    free(p);
  }
  free(copy);
  return NULL;
}

int ps_target_check_preloadable(const char *cmd, const char *path)
{
  struct stat st;
  if (!path || stat(path, &st) != 0) {
    ps_error("cannot find the command '%s' (not on PATH or not executable); check its spelling "
             "or give its path", cmd);
    return PS_EXIT_USAGE;
  }
  if ((st.st_mode & (S_ISUID | S_ISGID)) && geteuid() != 0) {
    ps_error("%s is setuid/setgid: the dynamic loader ignores LD_PRELOAD for it, so it cannot "
             "be profiled; profile a copy without the setuid bit", path);
    return PS_EXIT_ENVIRONMENT;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0; /* executable but unreadable: let exec decide */
  Elf64_Ehdr eh;
  ssize_t n = pread(fd, &eh, sizeof eh, 0);
  int rc = 0;
  if (n == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
      eh.e_ident[EI_CLASS] == ELFCLASS64) {
    int has_interp = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
          (ssize_t)sizeof ph)
        break;
      if (ph.p_type == PT_INTERP)
        has_interp = 1;
    }
    if (!has_interp) {
      ps_error("%s is statically linked: LD_PRELOAD cannot inject perfsweep's probes into it; "
               "rebuild it dynamically linked, or use perf for a static binary", path);
      rc = PS_EXIT_ENVIRONMENT;
    }
  }
  close(fd);
  return rc;
}
