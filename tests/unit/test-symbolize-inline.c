/* test-symbolize-inline.c - inlined frames from the symbolizer on this test binary: a return
 * address inside code inlined two levels deep (leaf into mid into outer) resolves to all three
 * functions, innermost first, each with the file:line of its own call site, and the last frame
 * is the real function the code was inlined into.
 */
#include <criterion/criterion.h>
#include <link.h>
#include <string.h>

#include "symbolize.h"

static void *volatile inl_ip;
static volatile int inl_lines[3]; /* outer's call of mid, mid's call of leaf, leaf's call */
static volatile int inl_sink;

__attribute__((noinline, noclone)) void symbolize_inline_record(int outer_line, int mid_line,
                                                                int leaf_line)
{
  inl_ip = __builtin_return_address(0);
  inl_lines[0] = outer_line;
  inl_lines[1] = mid_line;
  inl_lines[2] = leaf_line;
  inl_sink++;
}

/* each call sits alone on its line with __LINE__ as argument, so the line passed is the one the
 * call instruction carries; the volatile increments after each call keep it from being a tail call */
static inline __attribute__((always_inline)) void symbolize_inline_leaf(int outer_line, int mid_line)
{
  symbolize_inline_record(outer_line, mid_line, __LINE__);
  inl_sink++;
}

static inline __attribute__((always_inline)) void symbolize_inline_mid(int outer_line)
{
  symbolize_inline_leaf(outer_line, __LINE__);
  inl_sink++;
}

__attribute__((noinline, noclone)) void symbolize_inline_outer(void)
{
  symbolize_inline_mid(__LINE__);
  inl_sink++;
}

struct self_mod {
  uintptr_t base, size;
  int found;
};

static int find_self(struct dl_phdr_info *info, size_t sz, void *data)
{
  (void)sz;
  struct self_mod *q = data;
  uintptr_t hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_LOAD &&
        info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz > hi)
      hi = info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
  uintptr_t ip = (uintptr_t)inl_ip;
  if (!q->found && ip >= info->dlpi_addr && ip < info->dlpi_addr + hi) {
    q->base = info->dlpi_addr;
    q->size = hi;
    q->found = 1;
  }
  return 0;
}

static int resolve_recorded(struct ps_sym *s, const struct ps_frame **f)
{
  symbolize_inline_outer();
  struct self_mod q = {0};
  dl_iterate_phdr(find_self, &q);
  cr_assert(q.found, "the recorded return address %p lies in a loaded module", inl_ip);
  ps_sym_add_module(s, "/proc/self/exe", q.base, q.size, NULL, 0);
  return ps_sym_resolve(s, (uintptr_t)inl_ip, 1, f);
}

Test(symbolize, inlined_chain_keeps_every_caller)
{
  struct ps_sym *s = ps_sym_new();
  const struct ps_frame *f;
  int n = resolve_recorded(s, &f);
  cr_assert_eq(n, 3, "leaf, mid and outer expected, got %d frames (first %s, last %s)", n,
               f[0].function, f[n - 1].function);
  const char *want[3] = {"symbolize_inline_leaf", "symbolize_inline_mid", "symbolize_inline_outer"};
  for (int i = 0; i < 3; i++) {
    cr_expect_str_eq(f[i].function, want[i], "frame %d is %s, want %s", i, f[i].function, want[i]);
    cr_expect_eq(f[i].inlined, i < 2, "frame %d (%s) inlined flag %d", i, f[i].function,
                 f[i].inlined);
    cr_expect(f[i].known, "frame %d (%s) is a real name", i, f[i].function);
    cr_expect(f[i].file && strstr(f[i].file, "test-symbolize-inline.c"),
              "frame %d (%s) file %s", i, f[i].function, f[i].file ? f[i].file : "(none)");
  }
  ps_sym_free(s);
}

Test(symbolize, inlined_frames_carry_their_call_site_lines)
{
  struct ps_sym *s = ps_sym_new();
  const struct ps_frame *f;
  int n = resolve_recorded(s, &f);
  cr_assert_eq(n, 3, "three frames, got %d", n);
  /* leaf's line is where it calls record, mid's where it calls leaf, outer's where it calls mid */
  cr_expect_eq(f[0].line, inl_lines[2], "leaf at line %d, want %d", f[0].line, inl_lines[2]);
  cr_expect_eq(f[1].line, inl_lines[1], "mid at line %d, want %d", f[1].line, inl_lines[1]);
  cr_expect_eq(f[2].line, inl_lines[0], "outer at line %d, want %d", f[2].line, inl_lines[0]);
  const struct ps_frame *again;
  cr_expect_eq(ps_sym_resolve(s, (uintptr_t)inl_ip, 1, &again), 3, "cached lookup, same count");
  cr_expect_eq(again, f, "the cached frames are the same");
  ps_sym_free(s);
}
