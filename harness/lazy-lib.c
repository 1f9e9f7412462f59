/* lazy-lib.c - opens a library on first use and looks its functions up (see lazy-lib.h). */
#include "lazy-lib.h"

#include <dlfcn.h>

int ps_lazy_load(const char *soname, const char *const names[], void *slots[], size_t n)
{
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!(slots[i] = dlsym(h, names[i])))
      return 0;
  return 1;
}
