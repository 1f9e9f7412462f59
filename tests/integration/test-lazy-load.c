/* test-lazy-load.c - libdw, libzstd and zlib are loaded on first use (harness/dw-lazy.c,
 * zstd-lazy.c, zlib-lazy.c): a command that needs none of them starts without them, one that
 * needs them loads them, and ps_lazy_load reports a missing library or function instead of
 * handing out a NULL address.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-lib.h"
#include "test-shell.h"

#define BIN PERFSWEEP_BIN_DIR

/* The libraries the dynamic loader opened for cmd (LD_DEBUG=libs), as its stderr text. */
static char *loaded_by(const char *cmd)
{
  char sh[1024];
  snprintf(sh, sizeof sh, "(export LD_DEBUG=libs; %s) 2>&1 >/dev/null | grep 'calling init'", cmd);
  int rc;
  char *out = ps_test_sh(sh, &rc);
  cr_assert_not_null(out);
  return out;
}

Test(lazy_load, version_starts_without_dw_zstd_zlib)
{
  char *libs = loaded_by(BIN "/perfsweep --version");
  cr_assert(strstr(libs, "libjansson"), "jansson is linked and initialized: %s", libs);
  cr_expect_null(strstr(libs, "libdw"), "libdw loaded at start-up: %s", libs);
  cr_expect_null(strstr(libs, "libzstd"), "libzstd loaded at start-up: %s", libs);
  cr_expect_null(strstr(libs, "libz.so"), "zlib loaded at start-up: %s", libs);
  free(libs);
}

Test(lazy_load, profile_loads_dw_when_symbolizing)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "d=$(mktemp -d) && %s/perfsweep profile --alloc -o $d -- %s/alloc-truth sites; rm -rf $d",
           BIN, BIN);
  char *libs = loaded_by(cmd);
  cr_expect(strstr(libs, "libdw"), "symbolizing loads libdw: %s", libs);
  cr_expect(strstr(libs, "libzstd"), "compressing the trace loads libzstd: %s", libs);
  free(libs);
}

Test(lazy_load, missing_library_or_function_is_reported)
{
  const char *names[] = {"deflate", "deflateEnd"};
  void *slots[2] = {0};
  cr_expect_eq(ps_lazy_load("libperfsweep-no-such-library.so.9", names, slots, 2), 0);
  cr_expect_eq(ps_lazy_load("libz.so.1", names, slots, 2), 1);
  cr_expect(slots[0] && slots[1], "both functions found in zlib");
  const char *bad[] = {"deflate", "perfsweep_no_such_function"};
  cr_expect_eq(ps_lazy_load("libz.so.1", bad, slots, 2), 0);
}
