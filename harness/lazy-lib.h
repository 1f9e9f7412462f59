/* lazy-lib.h - libraries loaded on first use instead of at start-up (the pattern of pq-lazy.c,
 * dw-lazy.c, zstd-lazy.c, zlib-lazy.c): the harness defines the library's functions under their
 * own names; each forwards to the function found with dlsym in the library opened by dlopen on
 * the first call. A command that never needs the library never loads it (and its dependencies).
 *
 * A *-lazy.c lists its functions once: #define X_MAP(X, V) X(ret, name, (params), (args), fallback)
 * (V for the functions returning void; their fallback is unused), then
 *   PS_LAZY_LIBRARY(X_MAP, "libx.so.1", warning-or-NULL)
 * The fallback is what a call returns when the library could not be loaded.
 */
#ifndef PERFSWEEP_LAZY_LIB_H
#define PERFSWEEP_LAZY_LIB_H

#include <stddef.h>

#define PS_LAZY_INDEX(ret, name, params, args, fallback) PS_LAZY_I_##name,
#define PS_LAZY_NAME(ret, name, params, args, fallback) #name,
#define PS_LAZY_DEFINE(ret, name, params, args, fallback)                                         \
  ret name params                                                                                 \
  {                                                                                               \
    if (!ps_lazy_ready(&ps_lazy_lib_))                                                            \
      return (fallback);                                                                          \
    return ((ret(*) params)ps_lazy_slots_[PS_LAZY_I_##name])args;                                 \
  }
#define PS_LAZY_DEFINE_VOID(ret, name, params, args, fallback)                                    \
  void name params                                                                                \
  {                                                                                               \
    if (ps_lazy_ready(&ps_lazy_lib_))                                                             \
      ((void(*) params)ps_lazy_slots_[PS_LAZY_I_##name]) args;                                    \
  }

/* Opens soname (dlopen, RTLD_NOW | RTLD_LOCAL) and sets slots[i] to the address of names[i].
 * Returns 1 when the library and every name were found, else 0 (the slots are then not to be
 * used). */
int ps_lazy_load(const char *soname, const char *const names[], void *slots[], size_t n);

/* A library loaded on first use: what ps_lazy_load needs, and its state. */
struct ps_lazy_lib {
  const char *soname;
  const char *const *names;
  void **slots;
  size_t n;
  const char *missing; /* warned once (ps_warn) when it cannot be loaded; NULL: silent */
  int state;           /* 0 not tried yet, 1 loaded, -1 cannot be loaded */
};

/* 1 when lib is loaded (loading it at the first call, once, whatever the threads), else 0. */
int ps_lazy_ready(struct ps_lazy_lib *lib);

/* Defines, in a *-lazy.c, the library (loaded from soname; missing: warned once when it cannot
 * be loaded, or NULL) and every function of map under its own name. */
#define PS_LAZY_LIBRARY(map, soname, missing)                                                     \
  enum { map(PS_LAZY_INDEX, PS_LAZY_INDEX) PS_LAZY_COUNT_ };                                      \
  static const char *const ps_lazy_names_[] = {map(PS_LAZY_NAME, PS_LAZY_NAME)};                  \
  static void *ps_lazy_slots_[PS_LAZY_COUNT_];                                                    \
  static struct ps_lazy_lib ps_lazy_lib_ = {soname,         ps_lazy_names_, ps_lazy_slots_,       \
                                            PS_LAZY_COUNT_, missing,        0};                   \
  map(PS_LAZY_DEFINE, PS_LAZY_DEFINE_VOID)

#endif
