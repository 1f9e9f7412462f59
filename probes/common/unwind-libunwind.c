/* unwind-libunwind.c - the libunwind backends of unwind.h: unw_backtrace for the allocation
 * hooks, unw_init_local2(UNW_INIT_SIGNAL_FRAME) for signal contexts.
 * Never: malloc, stdio (libunwind itself uses mmap'd pools for its caches).
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <ucontext.h>

#include "unwind.h"

static uintptr_t skip_lo, skip_hi;

void ps_unwind_set_skip_range(uintptr_t lo, uintptr_t hi)
{
  skip_lo = lo;
  skip_hi = hi;
}

int ps_unwind_backtrace(uintptr_t *ips, int max)
{
  void *buf[256 + 8];
  int want = max + 8 > 264 ? 264 : max + 8;
  int n = unw_backtrace(buf, want);
  int k = 0;
  while (k < n && (uintptr_t)buf[k] >= skip_lo && (uintptr_t)buf[k] < skip_hi)
    k++;
  int out = 0;
  for (; k < n && out < max; k++)
    ips[out++] = (uintptr_t)buf[k];
  return out;
}

int ps_unwind_from_context(void *ucontext, uintptr_t *ips, int max)
{
  unw_cursor_t cur;
  if (unw_init_local2(&cur, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME) < 0)
    return 0;
  int n = 0;
  do {
    unw_word_t ip;
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
      break;
    ips[n++] = (uintptr_t)ip;
  } while (n < max && unw_step(&cur) > 0);
  return n;
}

int ps_unwind_slots(uintptr_t *ips, uintptr_t *slots, int max)
{
  unw_context_t ctx;
  unw_cursor_t cur;
  if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
    return 0;
  int n = 0, skipping = 1;
  do {
    unw_word_t ip, sp;
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) < 0)
      break;
    if (skipping && ip >= skip_lo && ip < skip_hi)
      continue;
    skipping = 0;
    ips[n] = (uintptr_t)ip;
    slots[n] = (uintptr_t)sp - sizeof(uintptr_t);
    n++;
  } while (n < max && unw_step(&cur) > 0);
  return n;
}
