/* lazy-lib.c - opens a library on first use and looks its functions up (see lazy-lib.h). */
#include "lazy-lib.h"

#include <dlfcn.h>
#include <pthread.h>

#include "util.h"

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

int ps_lazy_ready(struct ps_lazy_lib *lib)
{
  int state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);
  if (state)
    return state > 0;
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mu);
  if (!(state = lib->state)) {
    state = ps_lazy_load(lib->soname, lib->names, lib->slots, lib->n) ? 1 : -1;
    if (state < 0 && lib->missing)
      ps_warn("%s", lib->missing);
    __atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&mu);
  return state > 0;
}
