/* symbolize.h - offline symbolization of recorded instruction pointers with elfutils libdwfl,
 * from the module map a probe recorded (path, load bias, size, build-id): function, file:line
 * and inlined frames. Works for libraries the target dlclose'd (the file is read from disk).
 * When a module has no symbols, or its file is gone or was rebuilt (build-id differs), frames
 * read "module+0xoffset". Results are cached per address, and for modules whose DWARF is a
 * separate debug file (distro libraries) also on disk per build-id (symbolize-cache.h; written
 * by ps_sym_free; PERFSWEEP_SYMCACHE=off disables it): the frames are the same either way.
 */
#ifndef PERFSWEEP_SYMBOLIZE_H
#define PERFSWEEP_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct ps_sym;

/* One frame. Strings are owned by the symbolizer and live until ps_sym_free. */
struct ps_frame {
  const char *function;  /* never NULL: a name, or "module+0xoffset" / "0xaddr" */
  const char *module;    /* basename of the module, NULL when unknown */
  const char *file;      /* source file, NULL when unknown */
  int line;              /* 0 when unknown */
  uint64_t offset;       /* address relative to the module's load bias */
  int inlined;           /* 1: inlined into the next frame of the same ip */
  int known;             /* 1 when function is a real name */
};

/* New symbolizer. Never fails (dies on memory exhaustion). Free with ps_sym_free. */
struct ps_sym *ps_sym_new(void);
/* Frees s; first rewrites the persistent cache file of each module that resolved new addresses
 * from separate debug info (best effort: a failure only costs the cache). NULL is ignored. */
void ps_sym_free(struct ps_sym *s);

/* Adds a module loaded at bias `base` spanning [base, base+size); a later module that overlaps
 * an earlier one (reuse after dlclose) wins for the addresses it covers. Returns 0 always;
 * a missing file or a build-id mismatch is remembered and gives fallback frames (a warning is
 * printed once per module). */
int ps_sym_add_module(struct ps_sym *s, const char *path, uint64_t base, uint64_t size,
                      const uint8_t *build_id, size_t build_id_len);

/* Frames of address ip, innermost (inlined) first, the real function last. return_address: ip
 * is a return address (all but the pc of a cpu sample): looked up at ip-1 so the call's line is
 * found. Returns the number of frames (>= 1); *out points to cached frames owned by the
 * symbolizer, valid until the next ps_sym_resolve call (copy the struct; its strings stay valid
 * until ps_sym_free). */
int ps_sym_resolve(struct ps_sym *s, uint64_t ip, int return_address, const struct ps_frame **out);

/* The module basename containing ip, or NULL. */
const char *ps_sym_module_of(struct ps_sym *s, uint64_t ip);

#endif
