/* zstd-lazy.c - libzstd, loaded on first use instead of at start-up (lazy-lib.h): only the
 * commands that write or read compressed traces need it. When it cannot be loaded, contexts
 * are NULL, every size is an error, and the error's name says which package to install.
 */
#include <zstd.h>

#include "lazy-lib.h"

#define ZSTD_LAZY_ERR ((size_t)-1)

#define ZSTD_MAP(X, V)                                                                            \
  X(size_t, ZSTD_compress, (void *d, size_t dc, const void *s, size_t ss, int l),                 \
    (d, dc, s, ss, l), ZSTD_LAZY_ERR)                                                             \
  X(size_t, ZSTD_compress2, (ZSTD_CCtx * c, void *d, size_t dc, const void *s, size_t ss),        \
    (c, d, dc, s, ss), ZSTD_LAZY_ERR)                                                             \
  X(size_t, ZSTD_compressBound, (size_t s), (s), 0)                                               \
  X(unsigned, ZSTD_isError, (size_t c), (c), 1)                                                   \
  X(const char *, ZSTD_getErrorName, (size_t c), (c), zstd_missing)                               \
  X(ZSTD_CCtx *, ZSTD_createCCtx, (void), (), NULL)                                               \
  X(size_t, ZSTD_freeCCtx, (ZSTD_CCtx * c), (c), 0)                                               \
  X(ZSTD_DCtx *, ZSTD_createDCtx, (void), (), NULL)                                               \
  X(size_t, ZSTD_freeDCtx, (ZSTD_DCtx * c), (c), 0)                                               \
  X(size_t, ZSTD_CCtx_setParameter, (ZSTD_CCtx * c, ZSTD_cParameter p, int v), (c, p, v),         \
    ZSTD_LAZY_ERR)                                                                                \
  X(size_t, ZSTD_CCtx_setPledgedSrcSize, (ZSTD_CCtx * c, unsigned long long s), (c, s),           \
    ZSTD_LAZY_ERR)                                                                                \
  X(size_t, ZSTD_CCtx_reset, (ZSTD_CCtx * c, ZSTD_ResetDirective r), (c, r), ZSTD_LAZY_ERR)       \
  X(size_t, ZSTD_compressStream2,                                                                 \
    (ZSTD_CCtx * c, ZSTD_outBuffer *o, ZSTD_inBuffer *i, ZSTD_EndDirective e), (c, o, i, e),      \
    ZSTD_LAZY_ERR)                                                                                \
  X(size_t, ZSTD_CStreamOutSize, (void), (), ZSTD_LAZY_ERR)                                       \
  X(size_t, ZSTD_decompressStream, (ZSTD_DStream * d, ZSTD_outBuffer *o, ZSTD_inBuffer *i),       \
    (d, o, i), ZSTD_LAZY_ERR)                                                                     \
  X(size_t, ZSTD_DStreamInSize, (void), (), ZSTD_LAZY_ERR)                                        \
  X(size_t, ZSTD_DStreamOutSize, (void), (), ZSTD_LAZY_ERR)

static const char zstd_missing[] =
    "libzstd.so.1 could not be loaded; install the Debian package libzstd1";

PS_LAZY_LIBRARY(ZSTD_MAP, "libzstd.so.1", NULL)
