/* unwind-fp.c - frame-pointer stack walker (x86-64 rbp chain) for code built with frame pointers.
 * Never: malloc, stdio, reads outside [sp, stack_hi).
 */
#include "unwind.h"

int ps_unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi, uintptr_t *ips,
                 int max)
{
  if (max <= 0)
    return 0;
  if (!stack_hi)
    stack_hi = sp + (8u << 20);
  int n = 0;
  ips[n++] = pc;
  uintptr_t lo = sp;
  while (n < max && fp >= lo && fp + 16 <= stack_hi && (fp & 7) == 0) {
    uintptr_t next = ((const uintptr_t *)fp)[0];
    uintptr_t ret = ((const uintptr_t *)fp)[1];
    if (ret < 4096)
      break;
    ips[n++] = ret;
    if (next <= fp)
      break;
    lo = fp + 16;
    fp = next;
  }
  return n;
}
