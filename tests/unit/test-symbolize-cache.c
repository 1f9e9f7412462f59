/* test-symbolize-cache.c - the persistent symbol cache on this process's libc (separate debug
 * info from libc6-dbg): a second symbolizer gets identical frames from the cache file, really
 * from the file (an edited entry shows), never from a stale one (debug file stamp changed), a
 * malformed file is ignored and rewritten, and PERFSWEEP_SYMCACHE=off writes nothing.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize-cache.h"
#include "symbolize.h"
#include "util.h"

struct libc_q {
  uintptr_t base, size;
  uint8_t bid[64];
  size_t bid_len;
  char path[256];
};

static int find_libc(struct dl_phdr_info *info, size_t sz, void *data)
{
  (void)sz;
  struct libc_q *q = data;
  if (!strstr(info->dlpi_name, "/libc.so.6"))
    return 0;
  uintptr_t hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > hi)
      hi = ph->p_vaddr + ph->p_memsz;
    if (ph->p_type != PT_NOTE)
      continue;
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const void *)p;
      const uint8_t *desc = p + sizeof *nh + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= sizeof q->bid) {
        memcpy(q->bid, desc, nh->n_descsz);
        q->bid_len = nh->n_descsz;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  q->base = info->dlpi_addr;
  q->size = hi;
  snprintf(q->path, sizeof q->path, "%s", info->dlpi_name);
  return 1;
}

static char cache_dir[] = "/tmp/test-symcache-XXXXXX";
static struct libc_q libc;
static uintptr_t addrs[3];

static void setup(void)
{
  cr_assert_not_null(mkdtemp(cache_dir));
  setenv("PERFSWEEP_SYMCACHE", cache_dir, 1);
  dl_iterate_phdr(find_libc, &libc);
  if (!libc.size || !libc.bid_len)
    cr_skip_test("libc.so.6 or its build-id not found in this process");
  char dbg[256];
  snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%02x/", libc.bid[0]);
  for (size_t i = 1; i < libc.bid_len; i++)
    snprintf(dbg + strlen(dbg), sizeof dbg - strlen(dbg), "%02x", libc.bid[i]);
  strcat(dbg, ".debug");
  if (access(dbg, R_OK) != 0)
    cr_skip_test("no separate debug info for libc (%s): install libc6-dbg", dbg);
  /* libc's own functions, not a sanitizer's interceptors of the same names */
  void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  cr_assert_not_null(h, "libc.so.6 is loaded");
  addrs[0] = (uintptr_t)dlsym(h, "qsort") + 7;
  addrs[1] = (uintptr_t)dlsym(h, "strtol") + 3;
  addrs[2] = (uintptr_t)dlsym(h, "fputs") + 5;
  dlclose(h);
  for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
    cr_assert(addrs[i] >= libc.base && addrs[i] < libc.base + libc.size, "address %zu in libc", i);
}

static void teardown(void)
{
  char *cmd = ps_xasprintf("rm -rf '%s'", cache_dir);
  if (system(cmd) != 0)
    cr_log_warn("could not remove %s", cache_dir);
  free(cmd);
}

/* Symbolizes addrs with a fresh symbolizer into text, one line per frame. */
static char *symbolize_text(void)
{
  struct ps_sym *s = ps_sym_new();
  ps_sym_add_module(s, libc.path, libc.base, libc.size, libc.bid, libc.bid_len);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  for (int ret = 0; ret < 2; ret++)
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
      const struct ps_frame *fr;
      int n = ps_sym_resolve(s, addrs[i], ret, &fr);
      for (int k = 0; k < n; k++)
        fprintf(f, "%s|%s|%s|%d|%llx|%d|%d\n", fr[k].function, fr[k].module ? fr[k].module : "",
                fr[k].file ? fr[k].file : "", fr[k].line, (unsigned long long)fr[k].offset,
                fr[k].inlined, fr[k].known);
    }
  fclose(f);
  ps_sym_free(s);
  return buf;
}

static char *cache_file(void) { return ps_symcache_file(libc.bid, libc.bid_len); }

TestSuite(symcache, .init = setup, .fini = teardown);

Test(symcache, second_analysis_reads_identical_frames)
{
  char *cold = symbolize_text();
  char *path = cache_file();
  cr_assert_eq(access(path, R_OK), 0, "the cold run wrote %s", path);
  char *warm = symbolize_text();
  cr_expect_str_eq(warm, cold, "frames from the cache differ from DWARF's");
  cr_expect_not_null(strstr(cold, "qsort"), "libc resolved by name:\n%s", cold);
  free(cold);
  free(warm);
  free(path);
}

Test(symcache, entries_come_from_the_file_and_stale_files_are_ignored)
{
  char *cold = symbolize_text();
  char *path = cache_file(), *data;
  size_t len;
  cr_assert_eq(ps_read_file(path, &data, &len), 0);
  /* rename every function in the file (same length keeps the format): the warm run shows it */
  for (char *p = strstr(data, "qsort"); p; p = strstr(p + 5, "qsort"))
    memcpy(p, "QSORT", 5);
  cr_assert_eq(ps_write_file_atomic(path, data, len), 0);
  char *warm = symbolize_text();
  cr_expect_not_null(strstr(warm, "QSORT"), "the cache file was not used:\n%s", warm);
  /* a different debug-file stamp (as after a libc6-dbg upgrade): the file is ignored */
  char *sp = strchr(data, ' ');
  cr_assert_not_null(sp);
  sp[1] = sp[1] == '1' ? '2' : '1';
  cr_assert_eq(ps_write_file_atomic(path, data, len), 0);
  char *fresh = symbolize_text();
  cr_expect_str_eq(fresh, cold, "a stale cache file was used");
  free(cold);
  free(warm);
  free(fresh);
  free(data);
  free(path);
}

Test(symcache, malformed_file_is_ignored_and_rewritten)
{
  char *path = cache_file();
  char *dir = ps_xstrdup(path);
  *strrchr(dir, '/') = 0;
  cr_assert_eq(ps_mkdir_p(dir, 0755), 0);
  const char junk[] = "perfsweep-symcache/1 not numbers\nE zz\n";
  cr_assert_eq(ps_write_file_atomic(path, junk, sizeof junk - 1), 0);
  char *a = symbolize_text();
  cr_expect_not_null(strstr(a, "strtol"), "resolved in spite of the junk:\n%s", a);
  char *b = symbolize_text();
  cr_expect_str_eq(b, a, "the rewritten file gives the same frames");
  char *data;
  size_t len;
  cr_assert_eq(ps_read_file(path, &data, &len), 0);
  cr_expect_null(strstr(data, "not numbers"), "the junk was replaced");
  free(a);
  free(b);
  free(data);
  free(dir);
  free(path);
}

Test(symcache, off_writes_nothing)
{
  setenv("PERFSWEEP_SYMCACHE", "off", 1);
  cr_expect_null(cache_file(), "disabled cache has no file");
  char *a = symbolize_text();
  setenv("PERFSWEEP_SYMCACHE", cache_dir, 1);
  char *path = cache_file();
  cr_expect_neq(access(path, F_OK), 0, "nothing written while off");
  free(a);
  free(path);
}
