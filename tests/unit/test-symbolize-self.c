/* test-symbolize-self.c - the libdwfl symbolizer on this test binary itself: a function's address
 * resolves to its name and file; an address outside any module falls back to "0x..." and one in
 * a module without a readable file to "module+0xoffset".
 */
#include <criterion/criterion.h>
#include <link.h>
#include <string.h>

#include "symbolize.h"

__attribute__((noinline)) int symbolize_target_function(int x) { return x * 3 + 1; }

struct self_q {
  uintptr_t base, size;
  int found;
};

static int find_self(struct dl_phdr_info *info, size_t sz, void *data)
{
  struct self_q *q = data;
  if (q->found)
    return 0;
  uintptr_t hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_LOAD &&
        info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz > hi)
      hi = info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
  uintptr_t fn = (uintptr_t)&symbolize_target_function;
  if (fn >= info->dlpi_addr && fn < info->dlpi_addr + hi) {
    q->base = info->dlpi_addr;
    q->size = hi;
    q->found = 1;
  }
  return 0;
}

Test(symbolize, own_function_by_name)
{
  struct self_q q = {0};
  dl_iterate_phdr(find_self, &q);
  cr_assert(q.found, "the test binary is in the module list");
  struct ps_sym *s = ps_sym_new();
  ps_sym_add_module(s, "/proc/self/exe", q.base, q.size, NULL, 0);
  const struct ps_frame *f;
  int n = ps_sym_resolve(s, (uintptr_t)&symbolize_target_function + 1, 0, &f);
  cr_assert(n >= 1, "at least one frame");
  cr_expect_str_eq(f[n - 1].function, "symbolize_target_function", "resolved name");
  cr_expect(f[n - 1].file && strstr(f[n - 1].file, "test-symbolize-self.c"),
            "file:line from DWARF, got %s", f[n - 1].file ? f[n - 1].file : "(none)");
  const struct ps_frame *g;
  ps_sym_resolve(s, (uintptr_t)&symbolize_target_function + 1, 0, &g);
  cr_expect_eq(g, s ? g : NULL, "cached lookup returns");
  ps_sym_free(s);
}

Test(symbolize, fallbacks_without_symbols)
{
  struct ps_sym *s = ps_sym_new();
  ps_sym_add_module(s, "/nonexistent/libgone.so", 0x10000000, 0x1000, NULL, 0);
  const struct ps_frame *f;
  ps_sym_resolve(s, 0x10000010, 1, &f);
  cr_expect_str_eq(f[0].function, "libgone.so+0x10", "module+offset fallback");
  ps_sym_resolve(s, 0x20, 1, &f);
  cr_expect_str_eq(f[0].function, "0x20", "no module: the bare address");
  ps_sym_free(s);
}
