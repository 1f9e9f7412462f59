/* dw-lazy.c - elfutils' libdw, loaded on first use instead of at start-up (lazy-lib.h).
 *
 * Only symbolization (profile, analyze, report, compare of profiles) reads debug information,
 * yet linking libdw makes every command load it with libelf, liblzma, libbz2, libz and libzstd:
 * about half of a `perfsweep run`'s start-up instructions. When libdw cannot be loaded, one
 * warning names the package and frames are shown as module+offset.
 */
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "lazy-lib.h"

#define DW_MAP(X, V)                                                                              \
  X(Dwarf_Attribute *, dwarf_attr, (Dwarf_Die * d, unsigned int n, Dwarf_Attribute *r),          \
    (d, n, r), NULL)                                                                              \
  X(Dwarf_Attribute *, dwarf_attr_integrate, (Dwarf_Die * d, unsigned int n, Dwarf_Attribute *r), \
    (d, n, r), NULL)                                                                              \
  X(Dwarf_Die *, dwarf_diecu, (Dwarf_Die * d, Dwarf_Die *r, uint8_t *a, uint8_t *o), (d, r, a, o),\
    NULL)                                                                                         \
  X(const char *, dwarf_filesrc, (Dwarf_Files * f, size_t i, Dwarf_Word *m, Dwarf_Word *l),       \
    (f, i, m, l), NULL)                                                                           \
  X(const char *, dwarf_formstring, (Dwarf_Attribute * a), (a), NULL)                             \
  X(int, dwarf_formudata, (Dwarf_Attribute * a, Dwarf_Word *v), (a, v), -1)                       \
  X(int, dwarf_getscopes, (Dwarf_Die * d, Dwarf_Addr pc, Dwarf_Die **s), (d, pc, s), -1)          \
  X(int, dwarf_getscopes_die, (Dwarf_Die * d, Dwarf_Die **s), (d, s), -1)                         \
  X(int, dwarf_getsrcfiles, (Dwarf_Die * d, Dwarf_Files **f, size_t *n), (d, f, n), -1)           \
  X(int, dwarf_tag, (Dwarf_Die * d), (d), -1)                                                     \
  X(Dwfl *, dwfl_begin, (const Dwfl_Callbacks *c), (c), NULL)                                     \
  X(int, dwfl_build_id_find_elf,                                                                  \
    (Dwfl_Module * m, void **u, const char *n, Dwarf_Addr b, char **f, Elf **e),                  \
    (m, u, n, b, f, e), -1)                                                                       \
  V(void, dwfl_end, (Dwfl * d), (d), 0)                                                           \
  X(const char *, dwfl_lineinfo,                                                                  \
    (Dwfl_Line * l, Dwarf_Addr *a, int *ln, int *c, Dwarf_Word *m, Dwarf_Word *len),              \
    (l, a, ln, c, m, len), NULL)                                                                  \
  X(Dwarf_Die *, dwfl_module_addrdie, (Dwfl_Module * m, Dwarf_Addr a, Dwarf_Addr *b), (m, a, b),  \
    NULL)                                                                                         \
  X(const char *, dwfl_module_addrinfo,                                                           \
    (Dwfl_Module * m, GElf_Addr a, GElf_Off *o, GElf_Sym *s, GElf_Word *x, Elf **e,               \
     Dwarf_Addr *b),                                                                              \
    (m, a, o, s, x, e, b), NULL)                                                                  \
  X(int, dwfl_module_build_id, (Dwfl_Module * m, const unsigned char **bits, GElf_Addr *v),       \
    (m, bits, v), -1)                                                                             \
  X(Dwfl_Line *, dwfl_module_getsrc, (Dwfl_Module * m, Dwarf_Addr a), (m, a), NULL)               \
  X(const char *, dwfl_module_info,                                                               \
    (Dwfl_Module * m, void ***u, Dwarf_Addr *s, Dwarf_Addr *e, Dwarf_Addr *db, Dwarf_Addr *sb,    \
     const char **mf, const char **df),                                                           \
    (m, u, s, e, db, sb, mf, df), NULL)                                                           \
  X(int, dwfl_offline_section_address,                                                            \
    (Dwfl_Module * m, void **u, const char *n, Dwarf_Addr b, const char *sn, GElf_Word si,        \
     const GElf_Shdr *sh, Dwarf_Addr *a),                                                         \
    (m, u, n, b, sn, si, sh, a), -1)                                                              \
  V(void, dwfl_report_begin, (Dwfl * d), (d), 0)                                                  \
  X(Dwfl_Module *, dwfl_report_elf,                                                               \
    (Dwfl * d, const char *n, const char *f, int fd, GElf_Addr b, bool p), (d, n, f, fd, b, p),   \
    NULL)                                                                                         \
  X(int, dwfl_report_end,                                                                         \
    (Dwfl * d, int (*r)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *), void *a),       \
    (d, r, a), -1)                                                                                \
  X(int, dwfl_standard_find_debuginfo,                                                            \
    (Dwfl_Module * m, void **u, const char *n, Dwarf_Addr b, const char *f, const char *dl,       \
     GElf_Word c, char **df),                                                                     \
    (m, u, n, b, f, dl, c, df), -1)

PS_LAZY_LIBRARY(DW_MAP, "libdw.so.1",
                "libdw.so.1 (elfutils) could not be loaded: frames are shown as module+offset; "
                "install the Debian package libdw1")
