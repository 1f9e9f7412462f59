/* modmap.c - module map from dl_iterate_phdr with build-ids read from the PT_NOTE segments in
 * memory (no file I/O). Never: malloc, stdio, signal context.
 */
#include "modmap.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-writer.h"

#define MAX_MODULES 4096

struct mod {
  uintptr_t base, size;
  uint64_t name_hash;
  uint32_t id;
  uint8_t alive, seen;
};

static struct mod mods[MAX_MODULES];
static unsigned nmods;
static uint32_t next_mod_id = 1;
static int lock;

static uint64_t str_hash(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static size_t build_id(struct dl_phdr_info *info, const uint8_t **out)
{
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE)
      continue;
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
    const uint8_t *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const uint8_t *name = p + sizeof *nh;
      const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
      if (desc + nh->n_descsz > end)
        break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
        *out = desc;
        return nh->n_descsz;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return 0;
}

static uintptr_t mod_size(struct dl_phdr_info *info, uintptr_t *lo_out)
{
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    if (ph->p_vaddr < lo)
      lo = ph->p_vaddr;
    if (ph->p_vaddr + ph->p_memsz > hi)
      hi = ph->p_vaddr + ph->p_memsz;
  }
  if (lo_out)
    *lo_out = lo == UINTPTR_MAX ? 0 : lo;
  return hi > lo ? hi : 0; /* size measured from the load bias (vaddrs start near 0) */
}

static void emit_module(const struct mod *m, const char *path, size_t plen, const uint8_t *bid,
                        size_t blen)
{
  uint8_t *p = ps_tw_reserve(plen + blen + 8 * PS_VARINT_MAX);
  if (!p)
    return;
  struct ps_tbuf *b = ps_tw_current();
  p = ps_tw_rec_start(b, p, PS_REC_MODULE, 0);
  p = ps_put_varint(p, m->id);
  p = ps_put_varint(p, m->base);
  p = ps_put_varint(p, m->size);
  p = ps_put_varint(p, plen);
  memcpy(p, path, plen);
  p += plen;
  p = ps_put_varint(p, blen);
  memcpy(p, bid, blen);
  p += blen;
  ps_tw_commit(p);
}

static void emit_unmodule(const struct mod *m)
{
  uint8_t *p = ps_tw_reserve(3 * PS_VARINT_MAX);
  if (!p)
    return;
  struct ps_tbuf *b = ps_tw_current();
  p = ps_tw_rec_start(b, p, PS_REC_UNMODULE, 0);
  p = ps_put_varint(p, m->id);
  ps_tw_commit(p);
}

static int sync_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
  const char *name = info->dlpi_name;
  char exe[1024];
  if (!name || !*name) {
    /* the main program appears with an empty name */
    if (*(int *)data)
      return 0;
    *(int *)data = 1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
      return 0;
    exe[n] = 0;
    name = exe;
  }
  if (!strchr(name, '/'))
    return 0; /* linux-vdso.so.1 and friends: nothing to symbolize from a file */
  char abs[1024];
  if (name[0] != '/' && realpath(name, abs)) /* dlopen("./x.so"): the harness runs elsewhere */
    name = abs;
  uintptr_t size = mod_size(info, NULL);
  uint64_t h = str_hash(name);
  for (unsigned i = 0; i < nmods; i++) {
    struct mod *m = &mods[i];
    if (m->alive && m->base == info->dlpi_addr && m->name_hash == h) {
      m->seen = 1;
      return 0;
    }
  }
  if (nmods == MAX_MODULES)
    return 0;
  struct mod *m = &mods[nmods++];
  m->base = info->dlpi_addr;
  m->size = size;
  m->name_hash = h;
  m->id = next_mod_id++;
  m->alive = 1;
  m->seen = 1;
  const uint8_t *bid = NULL;
  size_t blen = build_id(info, &bid);
  emit_module(m, name, strlen(name), bid, blen);
  return 0;
}

static void spin_lock(void)
{
  while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
    __builtin_ia32_pause();
}

void ps_modmap_sync(void)
{
  spin_lock();
  for (unsigned i = 0; i < nmods; i++)
    mods[i].seen = 0;
  int main_seen = 0;
  dl_iterate_phdr(sync_cb, &main_seen);
  for (unsigned i = 0; i < nmods; i++) {
    if (mods[i].alive && !mods[i].seen) {
      mods[i].alive = 0;
      emit_unmodule(&mods[i]);
    }
  }
  /* compact dead entries so a dlopen/dlclose loop never fills the table */
  unsigned k = 0;
  for (unsigned i = 0; i < nmods; i++)
    if (mods[i].alive)
      mods[k++] = mods[i];
  nmods = k;
  __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

void ps_modmap_reset(void)
{
  lock = 0;
  nmods = 0;
}

struct range_q {
  uintptr_t addr, lo, hi;
  int found;
};

static int range_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
  struct range_q *q = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (q->addr >= lo && q->addr < lo + ph->p_memsz) {
      uintptr_t vlo;
      uintptr_t hi = mod_size(info, &vlo);
      q->lo = info->dlpi_addr + vlo;
      q->hi = info->dlpi_addr + hi;
      q->found = 1;
      return 1;
    }
  }
  return 0;
}

int ps_modmap_range_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
  struct range_q q = {.addr = addr};
  dl_iterate_phdr(range_cb, &q);
  if (!q.found)
    return -1;
  *lo = q.lo;
  *hi = q.hi;
  return 0;
}
