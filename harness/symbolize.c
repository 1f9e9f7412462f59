/* symbolize.c - libdwfl symbolization of recorded ips (see symbolize.h). One Dwfl per module, so
 * modules that reused each other's addresses after dlclose never conflict. Modules with separate
 * debug info go through the persistent symbol cache (symbolize-cache.h): their DWARF is loaded
 * only for addresses the cache does not hold yet.
 */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize-cache.h"
#include "util.h"

/* One resolved address of a module, for the persistent cache: key offset << 1 | return_address,
 * frames [first, first + n) of the symbolizer's frame array. */
struct mod_ent {
  uint64_t key;
  uint32_t first, n;
};

#define SYM_CACHE_MAX_ENTRIES 200000 /* per module file; beyond, new addresses are not kept */

struct sym_mod {
  char *path, *base_name;
  uint64_t base, size;
  uint8_t *build_id;
  size_t build_id_len;
  int loaded;          /* the ELF is opened lazily, at the first address inside the module */
  Dwfl *dwfl;
  Dwfl_Module *mod;
  int bad;             /* no file / build-id mismatch: fallback frames */
  char *cache_path;    /* persistent cache file of the build-id, NULL: not cached */
  struct mod_ent *ents;  /* addresses resolved or read from the cache file */
  size_t nents, capents;
  int dirty;           /* ents holds addresses the file does not: rewrite it at ps_sym_free */
};

struct cache_ent {
  uint64_t key;        /* ip << 1 | return_address, 0 = empty */
  uint32_t first, n;   /* into frames */
};

struct ps_sym {
  struct sym_mod *mods;
  size_t nmods;
  struct ps_frame *frames;
  size_t nframes, capframes;
  struct cache_ent *cache;
  size_t cache_cap, cache_used;
  /* interned strings */
  char **strs;
  size_t nstrs, capstrs;
  uint64_t *str_hash;  /* open addressing: index+1 into strs */
  size_t str_cap;
};

static const Dwfl_Callbacks offline_cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static const char *intern(struct ps_sym *s, const char *str)
{
  if (!str)
    return NULL;
  if ((s->nstrs + 1) * 2 > s->str_cap) {
    size_t cap = s->str_cap ? s->str_cap * 2 : 1024;
    uint64_t *t = ps_xcalloc(cap, sizeof *t);
    for (size_t i = 0; i < s->str_cap; i++)
      if (s->str_hash[i]) {
        size_t j = hash_str(s->strs[s->str_hash[i] - 1]) & (cap - 1);
        while (t[j])
          j = (j + 1) & (cap - 1);
        t[j] = s->str_hash[i];
      }
    free(s->str_hash);
    s->str_hash = t;
    s->str_cap = cap;
  }
  size_t j = hash_str(str) & (s->str_cap - 1);
  while (s->str_hash[j]) {
    const char *c = s->strs[s->str_hash[j] - 1];
    if (!strcmp(c, str))
      return c;
    j = (j + 1) & (s->str_cap - 1);
  }
  if (s->nstrs == s->capstrs) {
    s->capstrs = s->capstrs ? s->capstrs * 2 : 256;
    s->strs = ps_xrealloc(s->strs, s->capstrs * sizeof *s->strs);
  }
  s->strs[s->nstrs++] = ps_xstrdup(str);
  s->str_hash[j] = s->nstrs;
  return s->strs[s->nstrs - 1];
}

struct ps_sym *ps_sym_new(void) { return ps_xcalloc(1, sizeof(struct ps_sym)); }

static void cache_write(struct ps_sym *s, struct sym_mod *m);

void ps_sym_free(struct ps_sym *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->nmods; i++) {
    cache_write(s, &s->mods[i]);
    if (s->mods[i].dwfl)
      dwfl_end(s->mods[i].dwfl);
    free(s->mods[i].path);
    free(s->mods[i].build_id);
    free(s->mods[i].cache_path);
    free(s->mods[i].ents);
  }
  free(s->mods);
  free(s->frames);
  free(s->cache);
  for (size_t i = 0; i < s->nstrs; i++)
    free(s->strs[i]);
  free(s->strs);
  free(s->str_hash);
  free(s);
}

int ps_sym_add_module(struct ps_sym *s, const char *path, uint64_t base, uint64_t size,
                      const uint8_t *build_id, size_t build_id_len)
{
  for (size_t i = 0; i < s->nmods; i++)
    if (s->mods[i].base == base && !strcmp(s->mods[i].path, path))
      return 0; /* same module recorded again (e.g. several traces of one program) */
  s->mods = ps_xrealloc(s->mods, (s->nmods + 1) * sizeof *s->mods);
  struct sym_mod *m = &s->mods[s->nmods++];
  memset(m, 0, sizeof *m);
  m->path = ps_xstrdup(path);
  const char *slash = strrchr(path, '/');
  m->base_name = (char *)intern(s, slash ? slash + 1 : path);
  m->base = base;
  m->size = size;
  if (build_id_len) {
    m->build_id = ps_xmalloc(build_id_len);
    memcpy(m->build_id, build_id, build_id_len);
    m->build_id_len = build_id_len;
  }
  return 0;
}

/* Opens the module's ELF/DWARF on first use; a failure is remembered as fallback frames. */
static void mod_load(struct sym_mod *m)
{
  m->loaded = 1;
  m->dwfl = dwfl_begin(&offline_cb);
  if (m->dwfl) {
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      dwfl_report_begin(m->dwfl);
      m->mod = dwfl_report_elf(m->dwfl, m->base_name, m->path, fd, m->base, false);
      dwfl_report_end(m->dwfl, NULL, NULL);
      if (!m->mod)
        close(fd);
    }
  }
  if (!m->mod) {
    ps_warn("cannot read %s for symbols (it was removed or is unreadable); its frames are "
            "shown as %s+0xoffset", m->path, m->base_name);
    m->bad = 1;
  } else if (m->build_id_len) {
    const unsigned char *bid;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(m->mod, &bid, &vaddr);
    if (n > 0 && ((size_t)n != m->build_id_len || memcmp(bid, m->build_id, m->build_id_len))) {
      ps_warn("%s changed since it was traced (its build-id differs); its frames are shown as "
              "%s+0xoffset", m->path, m->base_name);
      m->bad = 1;
    }
  }
}

/* ---- the persistent cache -------------------------------------------------------------------- */
static void mod_ent_push(struct sym_mod *m, uint64_t key, size_t first, size_t n)
{
  if (m->nents == m->capents) {
    m->capents = m->capents ? m->capents * 2 : 64;
    m->ents = ps_xrealloc(m->ents, m->capents * sizeof *m->ents);
  }
  m->ents[m->nents++] = (struct mod_ent){key, (uint32_t)first, (uint32_t)n};
}

static void push_frame(struct ps_sym *s, const struct ps_frame *f);
static struct cache_ent *cache_slot(struct ps_sym *s, uint64_t key);
static struct sym_mod *mod_at(struct ps_sym *s, uint64_t ip);

struct cache_load {
  struct ps_sym *s;
  struct sym_mod *m;
};

/* One entry of the module's cache file: its frames join the per-address cache, unless the
 * address is already known or now belongs to a module loaded over this one. */
static void cache_add(void *ctx, uint64_t key, const struct ps_frame *frames, unsigned n)
{
  struct cache_load *cl = ctx;
  struct ps_sym *s = cl->s;
  struct sym_mod *m = cl->m;
  uint64_t off = key >> 1;
  if (off >= m->size || mod_at(s, m->base + off) != m)
    return;
  uint64_t ip = m->base + off;
  uint64_t k = (ip << 1) | (key & 1);
  if (!k)
    k = 2;
  struct cache_ent *c = cache_slot(s, k);
  if (c->key)
    return;
  size_t first = s->nframes;
  for (unsigned i = 0; i < n; i++) {
    struct ps_frame f = frames[i];
    f.function = intern(s, f.function);
    f.file = intern(s, f.file);
    f.module = m->base_name;
    f.offset = off;
    push_frame(s, &f);
  }
  c = cache_slot(s, k); /* push_frame does not move the table, but stay obvious */
  *c = (struct cache_ent){k, (uint32_t)first, n};
  s->cache_used++;
  mod_ent_push(m, key, first, n);
}

static void cache_load(struct ps_sym *s, struct sym_mod *m)
{
  if (m->bad || !m->build_id_len)
    return;
  m->cache_path = ps_symcache_file(m->build_id, m->build_id_len);
  if (!m->cache_path)
    return;
  struct cache_load cl = {s, m};
  ps_symcache_read(m->cache_path, cache_add, &cl);
}

/* Rewrites the module's cache file when this analysis resolved new addresses and the module's
 * DWARF came from a separate debug file. Failures only cost the cache: silent. */
static void cache_write(struct ps_sym *s, struct sym_mod *m)
{
  if (!m->dirty || !m->cache_path || !m->mod)
    return;
  const char *mainfile = NULL, *debugfile = NULL;
  dwfl_module_info(m->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
  if (!debugfile || !mainfile || !strcmp(debugfile, mainfile))
    return;
  size_t n = m->nents < SYM_CACHE_MAX_ENTRIES ? m->nents : SYM_CACHE_MAX_ENTRIES;
  struct ps_symcache_entry *e = ps_xcalloc(n ? n : 1, sizeof *e);
  for (size_t i = 0; i < n; i++)
    e[i] = (struct ps_symcache_entry){m->ents[i].key, s->frames + m->ents[i].first, m->ents[i].n};
  ps_symcache_write(m->cache_path, debugfile, e, n);
  free(e);
}

/* The module covering ip (the latest added wins), not loaded. */
static struct sym_mod *mod_at(struct ps_sym *s, uint64_t ip)
{
  for (size_t i = s->nmods; i-- > 0;) {
    struct sym_mod *m = &s->mods[i];
    if (ip >= m->base && ip < m->base + m->size)
      return m;
  }
  return NULL;
}

/* ... opened on first use, its persistent cache read. */
static struct sym_mod *find_mod(struct ps_sym *s, uint64_t ip)
{
  struct sym_mod *m = mod_at(s, ip);
  if (m && !m->loaded) {
    mod_load(m);
    cache_load(s, m);
  }
  return m;
}

const char *ps_sym_module_of(struct ps_sym *s, uint64_t ip)
{
  struct sym_mod *m = find_mod(s, ip);
  return m ? m->base_name : NULL;
}

static void push_frame(struct ps_sym *s, const struct ps_frame *f)
{
  if (s->nframes == s->capframes) {
    s->capframes = s->capframes ? s->capframes * 2 : 1024;
    s->frames = ps_xrealloc(s->frames, s->capframes * sizeof *s->frames);
  }
  s->frames[s->nframes++] = *f;
}

static const char *die_name(Dwarf_Die *die)
{
  Dwarf_Attribute attr;
  const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return n;
}

/* The scopes containing pc, innermost first, along the concrete DIE tree: every inlined instance
 * and then the subprogram it was inlined into. dwarf_getscopes alone continues past the innermost
 * inlined instance with the scopes of its abstract definition (usually just the unit), which
 * drops every caller; dwarf_getscopes_die from the innermost scope walks the real parents.
 * Returns the count (0 when none) and a malloc'd array in *out (free it, also when 0). */
static int scope_chain(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out)
{
  Dwarf_Die *scopes = NULL;
  int n = dwarf_getscopes(cu, pc, &scopes);
  *out = scopes;
  if (n <= 0)
    return 0;
  int inlined = 0;
  for (int i = 0; i < n && !inlined; i++)
    inlined = dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine;
  if (!inlined)
    return n;
  Dwarf_Die *chain = NULL;
  int m = dwarf_getscopes_die(&scopes[0], &chain);
  if (m <= 0) {
    free(chain);
    return n; /* keep the innermost frames at least */
  }
  free(scopes);
  *out = chain;
  return m;
}

/* Resolves into s->frames; returns the count pushed. */
static int resolve(struct ps_sym *s, uint64_t ip, int ret)
{
  struct sym_mod *m = find_mod(s, ip);
  uint64_t addr = ret && ip ? ip - 1 : ip;
  char buf[256];
  struct ps_frame f = {0};
  if (!m || m->bad) {
    if (m)
      snprintf(buf, sizeof buf, "%s+0x%llx", m->base_name, (unsigned long long)(ip - m->base));
    else
      snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)ip);
    f.function = intern(s, buf);
    f.module = m ? m->base_name : NULL;
    f.offset = m ? ip - m->base : ip;
    push_frame(s, &f);
    return 1;
  }
  f.module = m->base_name;
  f.offset = ip - m->base;
  int pushed = 0;
  /* inlined chain from DWARF scopes */
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(m->mod, addr, &bias);
  const char *file = NULL;
  int line = 0;
  Dwfl_Line *l = dwfl_module_getsrc(m->mod, addr);
  if (l)
    file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
  if (cu) {
    Dwarf_Die *scopes = NULL;
    int n = scope_chain(cu, addr - bias, &scopes);
    for (int i = 0; i < n; i++) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
        continue;
      const char *name = die_name(&scopes[i]);
      if (tag == DW_TAG_subprogram) {
        /* the symbol table has the linkage name; prefer DWARF's when present */
        struct ps_frame g = f;
        g.function = intern(s, name ? name : "??");
        g.file = intern(s, file);
        g.line = line;
        g.known = name != NULL;
        push_frame(s, &g);
        pushed++;
        break;
      }
      struct ps_frame g = f;
      g.function = intern(s, name ? name : "??");
      g.file = intern(s, file);
      g.line = line;
      g.inlined = 1;
      g.known = name != NULL;
      push_frame(s, &g);
      pushed++;
      /* the caller's position is the call site of this inlined instance; DW_AT_call_file indexes
       * the file table of the unit holding the instance */
      Dwarf_Attribute attr;
      Dwarf_Word v;
      Dwarf_Files *files;
      Dwarf_Die unit;
      int have_line = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0;
      line = have_line ? (int)v : 0;
      const char *cf = NULL;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0 &&
          dwarf_diecu(&scopes[i], &unit, NULL, NULL) &&
          dwarf_getsrcfiles(&unit, &files, NULL) == 0)
        cf = dwarf_filesrc(files, v, NULL, NULL);
      file = cf;
      if (!cf)
        line = 0; /* a line without its file would be attributed to the callee's file */
    }
    free(scopes);
  }
  if (!pushed || !s->frames[s->nframes - 1].known) {
    GElf_Off off;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m->mod, addr, &off, &sym, NULL, NULL, NULL);
    if (pushed && name) {
      s->frames[s->nframes - 1].function = intern(s, name);
      s->frames[s->nframes - 1].known = 1;
    } else if (!pushed) {
      if (name) {
        f.function = intern(s, name);
        f.known = 1;
      } else {
        snprintf(buf, sizeof buf, "%s+0x%llx", m->base_name, (unsigned long long)f.offset);
        f.function = intern(s, buf);
      }
      f.file = intern(s, file);
      f.line = line;
      push_frame(s, &f);
      pushed = 1;
    }
  }
  return pushed;
}

/* The slot of key in the per-address cache: its entry, or the empty slot where it belongs (the
 * table is grown first, so an insertion there always fits). */
static struct cache_ent *cache_slot(struct ps_sym *s, uint64_t key)
{
  if ((s->cache_used + 1) * 2 > s->cache_cap) {
    size_t cap = s->cache_cap ? s->cache_cap * 2 : 4096;
    struct cache_ent *c = ps_xcalloc(cap, sizeof *c);
    for (size_t i = 0; i < s->cache_cap; i++)
      if (s->cache[i].key) {
        size_t j = (s->cache[i].key * 0x9e3779b97f4a7c15ull) >> 20 & (cap - 1);
        while (c[j].key)
          j = (j + 1) & (cap - 1);
        c[j] = s->cache[i];
      }
    free(s->cache);
    s->cache = c;
    s->cache_cap = cap;
  }
  size_t j = (key * 0x9e3779b97f4a7c15ull) >> 20 & (s->cache_cap - 1);
  while (s->cache[j].key && s->cache[j].key != key)
    j = (j + 1) & (s->cache_cap - 1);
  return &s->cache[j];
}

int ps_sym_resolve(struct ps_sym *s, uint64_t ip, int return_address, const struct ps_frame **out)
{
  uint64_t key = (ip << 1) | (return_address ? 1u : 0u);
  if (!key)
    key = 2;
  struct cache_ent *c = cache_slot(s, key);
  if (!c->key) {
    /* first address of a module: opening it may read its persistent cache, look again */
    size_t before = s->cache_used;
    struct sym_mod *m = find_mod(s, ip);
    if (s->cache_used != before)
      c = cache_slot(s, key);
    if (!c->key) {
      size_t first = s->nframes;
      int n = resolve(s, ip, return_address);
      c = cache_slot(s, key);
      *c = (struct cache_ent){key, (uint32_t)first, (uint32_t)n};
      s->cache_used++;
      if (m && m->cache_path && !m->bad && m->nents < SYM_CACHE_MAX_ENTRIES) {
        mod_ent_push(m, ((ip - m->base) << 1) | (return_address ? 1u : 0u), first, (size_t)n);
        m->dirty = 1;
      }
    }
  }
  *out = s->frames + c->first;
  return (int)c->n;
}
