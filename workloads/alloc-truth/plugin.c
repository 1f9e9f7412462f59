/* plugin.c - libtruthplugin.so, dlopen'ed by alloc-truth's dlopen scenario: plugin_alloc(n)
 * leaks n blocks of 48 B, so the report must name plugin_alloc after the library is dlclose'd.
 */
#include <stdlib.h>

void *volatile plugin_sink;

__attribute__((visibility("default"), noinline)) void plugin_alloc(int n)
{
  for (int i = 0; i < n; i++)
    plugin_sink = malloc(48);
}
