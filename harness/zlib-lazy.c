/* zlib-lazy.c - zlib, loaded on first use instead of at start-up (lazy-lib.h): only the pprof
 * export gzips its output. When it cannot be loaded, deflateInit2_ fails (Z_STREAM_ERROR) and
 * the export reports that it could not compress.
 */
#include <zlib.h>

#include "lazy-lib.h"

#define ZLIB_MAP(X, V)                                                                            \
  X(int, deflateInit2_,                                                                           \
    (z_streamp s, int l, int m, int w, int ml, int st, const char *v, int ss),                    \
    (s, l, m, w, ml, st, v, ss), Z_STREAM_ERROR)                                                  \
  X(uLong, deflateBound, (z_streamp s, uLong n), (s, n), 0)                                       \
  X(int, deflate, (z_streamp s, int f), (s, f), Z_STREAM_ERROR)                                   \
  X(int, deflateEnd, (z_streamp s), (s), Z_STREAM_ERROR)

PS_LAZY_LIBRARY(ZLIB_MAP, "libz.so.1", NULL)
