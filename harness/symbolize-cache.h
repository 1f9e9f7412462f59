/* symbolize-cache.h - the persistent symbol cache: frames already resolved for a module, kept per
 * build-id in a small text file, so a later analysis need not load (and inflate) that module's
 * separate debug info again. Only modules whose DWARF comes from a separate debug file (distro
 * libraries with -dbg packages: the expensive case) are cached; an entry file is trusted only
 * while that debug file has the size and mtime it had when the entry was written.
 */
#ifndef PERFSWEEP_SYMBOLIZE_CACHE_H
#define PERFSWEEP_SYMBOLIZE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

/* The cache file of a build-id: $PERFSWEEP_SYMCACHE/<hex> when that is set ("off", "0" or ""
 * disable the cache), else $XDG_CACHE_HOME/perfsweep/symbols/<hex>, else
 * $HOME/.cache/perfsweep/symbols/<hex>. malloc'd; NULL when disabled or no build-id. */
char *ps_symcache_file(const uint8_t *build_id, size_t len);

/* Called once per cached address: key is offset << 1 | return_address, frames[0..n) innermost
 * first with module NULL and offset 0 (the caller fills them); strings valid during the call. */
typedef void ps_symcache_add_fn(void *ctx, uint64_t key, const struct ps_frame *frames, unsigned n);

/* Reads path: when the whole file is valid and its debug file unchanged, calls add for each
 * entry and returns the number of entries; returns -1 (and calls nothing) when the file is
 * missing, malformed, of another version, or stale. Never prints. */
int ps_symcache_read(const char *path, ps_symcache_add_fn *add, void *ctx);

/* One entry to write: key and its frames. */
struct ps_symcache_entry {
  uint64_t key;
  const struct ps_frame *frames;
  unsigned n;
};

/* Writes path atomically (temporary file + rename; concurrent writers: the last one wins, a
 * reader never sees half a file), stamped with debug_file's size and mtime. Entries whose strings
 * hold a tab or newline are left out. Creates the folder. Returns 0 or a negative errno. */
int ps_symcache_write(const char *path, const char *debug_file,
                      const struct ps_symcache_entry *e, size_t n);

#endif
