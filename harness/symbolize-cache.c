/* symbolize-cache.c - reading and writing the persistent symbol cache (see symbolize-cache.h).
 * File format, text, one file per build-id:
 *   perfsweep-symcache/1 <debug size> <debug mtime ns> <debug file path>
 *   E <key hex> <frame count>
 *   <known> <inlined> <line> <function>\t<file, empty when unknown>     (count lines)
 * A file that does not parse completely is ignored as a whole.
 */
#include "symbolize-cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SYMCACHE_MAGIC "perfsweep-symcache/1 "
#define SYMCACHE_MAX_FRAMES 64

char *ps_symcache_file(const uint8_t *build_id, size_t len)
{
  if (!len || len > 64)
    return NULL;
  char hex[129];
  for (size_t i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", build_id[i]);
  const char *env = getenv("PERFSWEEP_SYMCACHE");
  if (env) {
    if (!env[0] || !strcmp(env, "off") || !strcmp(env, "0"))
      return NULL;
    return ps_xasprintf("%s/%s", env, hex);
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/')
    return ps_xasprintf("%s/perfsweep/symbols/%s", xdg, hex);
  const char *home = getenv("HOME");
  if (home && home[0] == '/')
    return ps_xasprintf("%s/.cache/perfsweep/symbols/%s", home, hex);
  return NULL;
}

static int64_t mtime_ns(const struct stat *st)
{
  return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* One line from *p (NUL-terminated buffer); returns it NUL-terminated or NULL at the end. */
static char *next_line(char **p)
{
  if (!**p)
    return NULL;
  char *l = *p, *nl = strchr(l, '\n');
  if (!nl)
    return NULL; /* a last line without newline: a truncated file */
  *nl = 0;
  *p = nl + 1;
  return l;
}

/* Parses the entries after the header; deliver: call add, else only validate. 0 or -1. */
static int parse_entries(char *p, ps_symcache_add_fn *add, void *ctx, int *count)
{
  struct ps_frame fr[SYMCACHE_MAX_FRAMES];
  char *l;
  *count = 0;
  while ((l = next_line(&p))) {
    uint64_t key;
    unsigned n;
    int used = 0;
    if (sscanf(l, "E %" SCNx64 " %u%n", &key, &n, &used) != 2 || l[used] || !n ||
        n > SYMCACHE_MAX_FRAMES)
      return -1;
    for (unsigned i = 0; i < n; i++) {
      char *f = next_line(&p);
      int known, inlined, line;
      used = 0;
      if (!f || sscanf(f, "%d %d %d %n", &known, &inlined, &line, &used) != 3 || !used)
        return -1;
      char *name = f + used, *tab = strchr(name, '\t');
      if (!tab || !*name || (known != 0 && known != 1) || (inlined != 0 && inlined != 1) ||
          line < 0)
        return -1;
      *tab = 0;
      memset(&fr[i], 0, sizeof fr[i]);
      fr[i].function = name;
      fr[i].file = tab[1] ? tab + 1 : NULL;
      fr[i].line = line;
      fr[i].inlined = inlined;
      fr[i].known = known;
    }
    if (add)
      add(ctx, key, fr, n);
    (*count)++;
  }
  return *p ? -1 : 0;
}

int ps_symcache_read(const char *path, ps_symcache_add_fn *add, void *ctx)
{
  char *data;
  size_t len;
  if (ps_read_file(path, &data, &len) < 0)
    return -1;
  int rc = -1, count = 0;
  char *p = data, *head = strlen(data) == len ? next_line(&p) : NULL; /* no NUL inside */
  const size_t magic = strlen(SYMCACHE_MAGIC);
  long long size, mt;
  int used = 0;
  struct stat st;
  if (head && !strncmp(head, SYMCACHE_MAGIC, magic) &&
      sscanf(head + magic, "%lld %lld %n", &size, &mt, &used) == 2 && used &&
      stat(head + magic + used, &st) == 0 && (long long)st.st_size == size && mtime_ns(&st) == mt) {
    /* validate everything first on a copy (parsing cuts the lines in place), so that a bad file
     * delivers nothing; then deliver from the original */
    char *check = ps_xstrdup(p);
    if (parse_entries(check, NULL, NULL, &count) == 0 && parse_entries(p, add, ctx, &count) == 0)
      rc = count;
    free(check);
  }
  free(data);
  return rc;
}

static int has_ctl(const char *s) { return s && strpbrk(s, "\t\n\r") != NULL; }

int ps_symcache_write(const char *path, const char *debug_file,
                      const struct ps_symcache_entry *e, size_t n)
{
  struct stat st;
  if (!debug_file || stat(debug_file, &st) < 0 || has_ctl(debug_file))
    return -EINVAL;
  char *dir = ps_xstrdup(path), *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    int r = ps_mkdir_p(dir, 0755);
    if (r < 0) {
      free(dir);
      return r;
    }
  }
  free(dir);
  char *buf = NULL;
  size_t blen = 0;
  FILE *f = open_memstream(&buf, &blen);
  if (!f)
    return -ENOMEM;
  fprintf(f, SYMCACHE_MAGIC "%lld %lld %s\n", (long long)st.st_size, (long long)mtime_ns(&st),
          debug_file);
  for (size_t i = 0; i < n; i++) {
    int ok = e[i].n > 0 && e[i].n <= SYMCACHE_MAX_FRAMES;
    for (unsigned k = 0; ok && k < e[i].n; k++)
      ok = e[i].frames[k].function[0] && !has_ctl(e[i].frames[k].function) &&
           !has_ctl(e[i].frames[k].file) && e[i].frames[k].line >= 0;
    if (!ok)
      continue;
    fprintf(f, "E %" PRIx64 " %u\n", e[i].key, e[i].n);
    for (unsigned k = 0; k < e[i].n; k++) {
      const struct ps_frame *fr = &e[i].frames[k];
      fprintf(f, "%d %d %d %s\t%s\n", fr->known ? 1 : 0, fr->inlined ? 1 : 0, fr->line,
              fr->function, fr->file ? fr->file : "");
    }
  }
  if (fclose(f) != 0) {
    free(buf);
    return -ENOMEM;
  }
  /* replaced by rename through a temporary name of this writer alone: concurrent analyses that
   * save the same module's cache never see a half-written file */
  int err = ps_write_file_replace(path, buf, blen, 0);
  free(buf);
  return err;
}
